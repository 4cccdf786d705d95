import type {FromSchema} from 'json-schema-to-ts'
import {casings} from '../plan/conventions.js'
import {functionNameSchema, functionSchema} from './functions-schema.js'
import {transformationsSchema} from './transformations-schema.js'
import type {CommonDestinationSettings, DestinationSettings, DestinationType} from './destinations.js'

/** The JSON Schema of cdp.json: the one source of truth for its shape, and for its types below. */
export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://cdp.dev/schemas/cdp.json',
  title: 'cdp workspace configuration (cdp.json)',
  type: 'object',
  additionalProperties: false,
  required: ['sources'],
  properties: {
    $schema: {type: 'string'},
    sources: {
      description: 'Where events come from. Each source has its own write key.',
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'writeKey'],
        properties: {
          name: {
            description: 'A short name, shown with every event from this source.',
            type: 'string',
            pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
            maxLength: 64,
          },
          writeKey: {
            description: 'The key SDKs send (HTTP Basic user name, or writeKey in the body).',
            type: 'string',
            minLength: 8,
            maxLength: 200,
            pattern: '^[A-Za-z0-9_.:-]+$',
          },
          plan: {
            description: 'The folder of this source\'s tracking plan, relative to cdp.json.',
            type: 'string',
            minLength: 1,
          },
          protocols: {
            description: 'What happens to events that break the plan, as Segment Protocols offers.',
            type: 'object',
            additionalProperties: false,
            properties: {
              violations: {
                description: 'Planned events with violations: allow (store and forward), block (store in quarantine, never forward), omit-properties (forward without the offending values).',
                enum: ['allow', 'block', 'omit-properties'],
              },
              unplanned: {description: 'Events not in the plan: allow or block.', enum: ['allow', 'block']},
              emitViolations: {description: 'Add a "Violation Generated" track event for each violation.', type: 'boolean'},
            },
          },
          transformations: transformationsSchema,
          insert: {description: 'An insert function (kind "insert") run on this source\'s events before they are checked and stored, after its transformations; the raw payload is kept as received.', ...functionNameSchema},
        },
      },
    },
    conventions: {
      description: 'Naming conventions `cdp plan validate` checks (as warnings).',
      type: 'object',
      additionalProperties: false,
      properties: {
        eventName: {enum: casings},
        propertyName: {enum: casings},
      },
    },
    destinations: {
      description: 'Where events go.',
      type: 'array',
      // Each type's own settings are checked against its schema in destinations.ts.
      items: {
        type: 'object',
        required: ['name', 'type'],
        properties: {
          name: {type: 'string', minLength: 1},
          type: {type: 'string', minLength: 1},
        },
      },
    },
    functions: {
      description: 'User functions run on the event stream: files in functions/, run in a sandbox.',
      type: 'array',
      items: functionSchema,
    },
  },
} as const

/** cdp.json as its schema above checks it: each destination's own settings are not checked yet. */
export type ConfigFile = FromSchema<typeof configSchema>

/**
 * cdp.json once loaded. Its type comes from the schema above, but for destinations, whose settings
 * load.ts checks against their own type's schema (destinations.ts).
 */
export type WorkspaceConfig = Omit<ConfigFile, 'destinations'> & {destinations?: DestinationConfig[]}

export type SourceConfig = WorkspaceConfig['sources'][number]

export type ProtocolsSettings = NonNullable<SourceConfig['protocols']>

export type FunctionConfig = NonNullable<WorkspaceConfig['functions']>[number]

/**
 * A destination as cdp.json holds it once loaded: its type, and that type's settings (the common ones
 * and its own). A union on `type`, so narrowing on it gives the type's own settings.
 */
export type DestinationConfig = {[Type in DestinationType]: DestinationSettings<Type> & {type: Type}}[DestinationType]

export type RetrySettings = NonNullable<CommonDestinationSettings['retry']>
