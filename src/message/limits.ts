/** Segment's Tracking API limits (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#max-request-size). */
export const limits = {
  /** Bytes of one message, as JSON. */
  messageBytes: 32 * 1024,
  /** Bytes of one batch request, decompressed. */
  batchBytes: 500 * 1024,
  /** Messages in one batch request. */
  batchMessages: 2500,
  /** Characters of a messageId. */
  messageIdLength: 100,
  /** Nesting depth of objects and arrays in a message: deeper payloads are refused, not recursed into. */
  depth: 64,
} as const
