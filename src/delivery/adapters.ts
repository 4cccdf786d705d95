import type {DestinationType} from '../config/destinations.js'
import type {DestinationConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import {createFileDestination} from './file.js'
import {createPostgresDestination} from './postgres.js'
import {createSegmentDestination} from './segment.js'
import type {AdapterContext, AdapterFactory, DestinationAdapter} from './types.js'
import {createWebhookDestination} from './webhook.js'

const factories: Record<DestinationType, AdapterFactory> = {
  webhook: createWebhookDestination,
  file: createFileDestination,
  segment: createSegmentDestination,
  postgres: createPostgresDestination,
}

/** The adapter of a destination's type. Settings were checked against its schema when cdp.json loaded. */
export function createAdapter(config: DestinationConfig, context: AdapterContext): DestinationAdapter {
  const factory = factories[config.type as DestinationType] as AdapterFactory | undefined
  if (!factory) throw new UserError(`destination "${config.name}" has unknown type "${config.type}"`, {hint: `Use one of ${Object.keys(factories).join(', ')}.`})
  return factory(config, context)
}
