import {casings, type Casing} from '../plan/conventions.js'

/** The JSON Schema of cdp.json: the one source of truth for its shape. */
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
      description: 'User functions run on the event stream.',
      type: 'array',
      items: {type: 'object'},
    },
  },
} as const

export interface ProtocolsSettings {
  violations?: 'allow' | 'block' | 'omit-properties'
  unplanned?: 'allow' | 'block'
  emitViolations?: boolean
}

export interface SourceConfig {
  name: string
  writeKey: string
  plan?: string
  protocols?: ProtocolsSettings
}

export interface RetrySettings {
  maxAttempts?: number
  initialDelayMs?: number
  maxDelayMs?: number
}

/** A destination: the settings every type takes; its type's own settings sit beside them. */
export interface DestinationConfig {
  name: string
  type: string
  enabled?: boolean
  events?: string[]
  types?: string[]
  sources?: string[]
  batchSize?: number
  concurrency?: number
  timeoutMs?: number
  retry?: RetrySettings
  [setting: string]: unknown
}

export interface WorkspaceConfig {
  $schema?: string
  sources: SourceConfig[]
  conventions?: {eventName?: Casing; propertyName?: Casing}
  destinations?: DestinationConfig[]
  functions?: Record<string, unknown>[]
}
