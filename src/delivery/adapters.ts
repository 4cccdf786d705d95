import type {DestinationSettings, DestinationType} from '../config/destinations.js'
import type {DestinationConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import {createFileDestination} from './file.js'
import {createFunctionDestination} from './function.js'
import {createPostgresDestination} from './postgres.js'
import {createSegmentDestination} from './segment.js'
import type {AdapterContext, AdapterFactory, DestinationAdapter} from './types.js'
import {createWebhookDestination} from './webhook.js'
import {withSteps} from './with-steps.js'

const factories: {[Type in DestinationType]: AdapterFactory<Type>} = {
  webhook: createWebhookDestination,
  file: createFileDestination,
  segment: createSegmentDestination,
  postgres: createPostgresDestination,
  function: createFunctionDestination,
}

/** The adapter of a destination's type. Settings were checked against its schema when cdp.json loaded. */
export function createAdapter(config: DestinationConfig, context: AdapterContext): DestinationAdapter {
  // Own keys only: a type named "constructor" is unknown, not Object's.
  if (!Object.hasOwn(factories, config.type)) {
    throw new UserError(`destination "${config.name}" has unknown type "${config.type}"`, {hint: `Use one of ${Object.keys(factories).join(', ')}.`})
  }
  return withSteps(createOfType(config.type, config, context), config, context)
}

/** Each type's factory gets its own settings: the type and its settings are correlated through Type. */
function createOfType<Type extends DestinationType>(type: Type, settings: DestinationSettings<Type>, context: AdapterContext): DestinationAdapter {
  const factory: AdapterFactory<Type> = factories[type]
  return factory(settings, context)
}
