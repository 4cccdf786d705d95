import type {FromSchema} from 'json-schema-to-ts'

/**
 * Declarative transformations (Segment Protocols "Transformations", no code): the JSON Schema of a
 * source's or a destination's `transformations` list in cdp.json. src/functions/transformations.ts
 * compiles such a list into one function; the descriptions here are the user documentation.
 */

/** The message types an entry's `type` may name: Segment's six. */
export const transformationMessageTypes = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const

/**
 * A property path: keys joined by dots; `\.` is a dot inside a key and `\\` a backslash. No
 * segment is empty, no other backslash escape exists, and a path may not be a whole root
 * (`properties`, `traits` or `context` alone).
 */
export const transformationPathPattern = '^(?!(?:properties|traits|context)$)(?:[^.\\\\]|\\\\[.\\\\])+(?:\\.(?:[^.\\\\]|\\\\[.\\\\])+)*$'

/** What a path that breaks transformationPathPattern did wrong, for config error messages. */
export const transformationPathMeaning =
  'is not a property path: keys joined by dots, none empty, "\\." for a dot inside a key, "\\\\" for a backslash, and not a whole "properties", "traits" or "context"'

const pathDescription =
  'A property path: keys joined by dots ("order.id" is the "id" key inside the "order" object). A path that starts with "properties.", "traits." or "context." starts at the top of the message; any other path starts in the message\'s properties (track, page, screen) or traits (identify, group; in context.traits when the message has no top-level traits, as RudderStack\'s browser SDK sends them). In cdp.json, write "\\\\." for a dot that is part of a key ("order\\\\.id" is the key "order.id") and "\\\\\\\\" for a backslash. Paths never enter arrays.'

const eventNameSchema = {type: 'string', minLength: 1} as const
const messageTypeSchema = {enum: transformationMessageTypes} as const

/** One transformation: a condition (`event`, `type`; absent means any) and what it does. */
export const transformationSchema = {
  description:
    'One transformation: which messages it applies to (event, type) and what it does to them (renameEvent, renameProperties, dropProperties, done in that order). The list is applied in order, each entry to the message as the entries before it left it.',
  type: 'object',
  additionalProperties: false,
  // At least one action. Each branch names its property so that ajv's strict mode (strictRequired) knows it.
  anyOf: [
    {required: ['renameEvent'], properties: {renameEvent: true}},
    {required: ['renameProperties'], properties: {renameProperties: true}},
    {required: ['dropProperties'], properties: {dropProperties: true}},
  ],
  dependencies: {renameEvent: ['event']},
  properties: {
    name: {
      description: 'A label for people reading cdp.json and the debugger, such as "Fix order_completed for the ecommerce spec".',
      type: 'string',
      minLength: 1,
      maxLength: 200,
    },
    event: {
      description:
        'Applies only to messages with this name (or one of these names), matched exactly: a track event\'s "event", a page\'s or screen\'s "name". Identify, group and alias messages have no name, so an entry with "event" never applies to them. Absent: any message of the types below.',
      anyOf: [eventNameSchema, {type: 'array', items: eventNameSchema, minItems: 1, uniqueItems: true}],
    },
    type: {
      description: 'Applies only to messages of this type (or one of these types): track, identify, page, screen, group, alias. Absent: every type.',
      anyOf: [messageTypeSchema, {type: 'array', items: messageTypeSchema, minItems: 1, uniqueItems: true}],
    },
    renameEvent: {
      description: 'The new name: a track event\'s "event", or a page\'s or screen\'s "name". Needs "event" (which messages to rename).',
      type: 'string',
      minLength: 1,
    },
    renameProperties: {
      description: `Old path → new path, such as {"revenue": "total", "order.id": "orderId"}. The value moves to the new path and replaces whatever was there (objects are created on the way, replacing anything in the way that is not an object). A path the message does not have is skipped. All renames of one entry read the message as it was before them, so {"a": "b", "b": "a"} swaps. ${pathDescription}`,
      type: 'object',
      minProperties: 1,
      propertyNames: {pattern: transformationPathPattern},
      additionalProperties: {type: 'string', pattern: transformationPathPattern},
    },
    dropProperties: {
      description: `Paths to remove, such as ["email", "context.ip"], after this entry's renames. A path the message does not have is skipped. ${pathDescription}`,
      type: 'array',
      minItems: 1,
      items: {type: 'string', pattern: transformationPathPattern},
    },
  },
} as const

/** The `transformations` field of a source or destination in cdp.json. */
export const transformationsSchema = {
  description:
    'Declarative transformations (Segment Protocols "Transformations"): rename events, rename or move properties, drop properties. On a source they change each message before validation, storage and insert functions; on a destination, before its insert function, after its filter.',
  type: 'array',
  items: transformationSchema,
} as const

/** One entry of a `transformations` list, as cdp.json holds it. */
export type TransformationConfig = FromSchema<typeof transformationSchema>
