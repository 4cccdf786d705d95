/**
 * The settings of each destination type, as JSON Schema: cdp.json's destinations are checked
 * against these on load, so a bad one is reported with its path before anything starts. Their
 * TypeScript types are derived from the same schemas (DestinationSettings), never written by hand.
 */
import type {FromSchema, JSONSchema} from 'json-schema-to-ts'
import {messageTypes} from '../message/types.js'
import {functionNameSchema} from './functions-schema.js'
import {transformationsSchema} from './transformations-schema.js'

const stringList = {type: 'array', items: {type: 'string', minLength: 1}, uniqueItems: true} as const

/** Settings every destination takes, beside its type's own. */
const commonProperties = {
  name: {description: 'A short name, shown in cdp deliveries.', type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64},
  type: {description: 'webhook, file, segment, postgres or function.', type: 'string'},
  enabled: {description: 'false keeps the destination configured but sends nothing.', type: 'boolean'},
  events: {description: 'Only these track event names (and page/screen names).', ...stringList},
  types: {description: 'Only these message types.', type: 'array', uniqueItems: true, items: {enum: messageTypes}},
  sources: {description: 'Only events from these sources.', ...stringList},
  batchSize: {description: 'Events sent in one request at most.', type: 'integer', minimum: 1, maximum: 2500},
  concurrency: {description: 'Sends in flight at once; one user\'s events always go in order.', type: 'integer', minimum: 1, maximum: 64},
  timeoutMs: {description: 'How long one send may take before it counts as failed and is retried.', type: 'integer', minimum: 1, maximum: 600000},
  transformations: transformationsSchema,
  insert: {description: 'An insert function (kind "insert") run on each event after the filter above and the transformations, before it is sent: on live delivery and on anything sent again.', ...functionNameSchema},
  retry: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxAttempts: {description: 'Attempts before an event is dead-lettered.', type: 'integer', minimum: 1, maximum: 100},
      initialDelayMs: {description: 'The wait before the first retry; it doubles after each failure.', type: 'integer', minimum: 0},
      maxDelayMs: {description: 'The longest wait between attempts.', type: 'integer', minimum: 0},
    },
  },
} as const

/**
 * The postgres destination's budget of columns per table. The default leaves PostgreSQL's hard
 * limit of 1,600 far away: dropped columns still count towards it, and a row whose 1,000 columns
 * all hold 8-byte values (bigint, double, timestamptz) still fits its 8 KB page. The most leaves
 * room for the standard columns and some dropped ones.
 */
export const postgresColumnBudget = {default: 1000, minimum: 20, maximum: 1500} as const

/** A type's schema: the common settings and its own, nothing else. Literal types kept, for DestinationSettings. */
function destinationSchema<const Properties extends Record<string, JSONSchema>, const Required extends readonly (keyof Properties & string)[]>(properties: Properties, required: Required) {
  return {type: 'object', additionalProperties: false, required: ['name', 'type', ...required], properties: {...commonProperties, ...properties}} as const
}

const httpUrl = {type: 'string', pattern: '^https?://[^\\s/?#]+[^\\s]*$'} as const

/** An HTTP header name: an RFC 9110 token. */
export const headerNamePattern = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
/** An HTTP header value: tab, printable ASCII and Latin-1 (Node sends no more); CR, LF or another control character would end the header or garble it. */
export const headerValuePattern = '^[\\t -~\u00a0-\u00ff]*$'

/** A file mode in octal with its leading 0, that leaves the owner able to read and write ("0600", "0640"). */
export const fileModePattern = '^0[67][0-7]{2}$'

export const destinationSchemas = {
  webhook: destinationSchema(
    {
      url: {description: 'Where each request is POSTed.', ...httpUrl},
      headers: {description: 'Extra request headers.', type: 'object', propertyNames: {pattern: headerNamePattern}, additionalProperties: {type: 'string', pattern: headerValuePattern}},
      secret: {description: 'Signs each body with HMAC-SHA256 in the signature header.', type: 'string', minLength: 1},
      signatureHeader: {description: 'The header carrying the signature (default X-Signature).', type: 'string', pattern: '^[A-Za-z0-9-]+$'},
    },
    ['url'],
  ),
  file: destinationSchema(
    {
      path: {description: 'The NDJSON file to append to, relative to cdp.json.', type: 'string', minLength: 1},
      maxBytes: {description: 'Rotate the file when it would grow past this size.', type: 'integer', minimum: 1024},
      maxFiles: {description: 'Rotated files kept (path.1 is the newest).', type: 'integer', minimum: 1, maximum: 1000},
      mode: {description: 'Mode of the file and its rotated files, in octal, keeping read and write for you ("0640" lets your group read). Default "0600": yours alone.', type: 'string', pattern: fileModePattern},
    },
    ['path'],
  ),
  segment: destinationSchema(
    {
      writeKey: {description: 'The write key of the receiving source.', type: 'string', minLength: 1},
      url: {description: 'The Tracking API (default https://api.segment.io); /v1/batch is added.', ...httpUrl},
    },
    ['writeKey'],
  ),
  postgres: destinationSchema(
    {
      connectionString: {description: 'postgres://user:password@host:port/database', type: 'string', pattern: '^postgres(ql)?://'},
      schema: {description: 'The schema to load into (default: one per source, named after it, as Segment does).', type: 'string', pattern: '^[a-z_][a-z0-9_]*$', maxLength: 63},
      maxColumnsPerTable: {
        description: `Columns a table may grow to (default ${postgresColumnBudget.default}). Past it, a property or trait that would add a column is left out of the row, with a warning once per column; the standard columns are always made. PostgreSQL refuses more than 1,600 columns, dropped ones included.`,
        type: 'integer',
        minimum: postgresColumnBudget.minimum,
        maximum: postgresColumnBudget.maximum,
      },
    },
    ['connectionString'],
  ),
  function: destinationSchema(
    {
      function: {description: 'The destination function (kind "destination") that sends the events.', ...functionNameSchema},
      settings: {description: 'Settings for this destination, over the function\'s own (same {"env": "NAME"} form).', type: 'object'},
    },
    ['function'],
  ),
} as const

export type DestinationType = keyof typeof destinationSchemas
export const destinationTypes = Object.keys(destinationSchemas) as DestinationType[]

/**
 * The settings of a destination of one type, derived from its schema: what its adapter receives once
 * cdp.json has loaded (`url: string` for a webhook, `connectionString: string` for postgres).
 */
export type DestinationSettings<Type extends DestinationType> = SettingsByType[Type]

// Spelled out, not mapped over DestinationType: the checker would rewrite SettingsByType[Type] of a
// generic Type into FromSchema of a schema it cannot know (adapters.ts relates them). A type added to
// destinationSchemas but not here fails to compile at DestinationSettings.
interface SettingsByType {
  webhook: FromSchema<typeof destinationSchemas.webhook>
  file: FromSchema<typeof destinationSchemas.file>
  segment: FromSchema<typeof destinationSchemas.segment>
  postgres: FromSchema<typeof destinationSchemas.postgres>
  function: FromSchema<typeof destinationSchemas.function>
}

/** The settings every destination takes, whatever its type (retry's attempts and waits among them). */
export type CommonDestinationSettings = FromSchema<{type: 'object'; properties: typeof commonProperties; required: ['name', 'type']; additionalProperties: false}>

/** Defaults per type: batch size and sends in flight suited to a laptop. */
export const destinationDefaults: Record<DestinationType, {batchSize: number; concurrency: number}> = {
  webhook: {batchSize: 1, concurrency: 4},
  file: {batchSize: 500, concurrency: 1},
  segment: {batchSize: 100, concurrency: 2},
  postgres: {batchSize: 500, concurrency: 1},
  // Each call runs the user's handler once per event (onBatch takes the batch when batchSize is set).
  function: {batchSize: 1, concurrency: 4},
}

export const retryDefaults = {maxAttempts: 10, initialDelayMs: 1000, maxDelayMs: 5 * 60 * 1000}
export const defaultTimeoutMs = 10_000
