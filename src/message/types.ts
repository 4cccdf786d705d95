/** Segment's message types, as the Tracking API defines them. */
export const messageTypes = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const
export type MessageType = (typeof messageTypes)[number]

export type JsonObject = Record<string, unknown>

/**
 * The normalised Segment message: one type from ingest to destination. Fields beyond these are
 * kept as sent.
 */
export interface SegmentMessage {
  type: MessageType
  messageId: string
  userId?: string | null
  anonymousId?: string | null
  event?: string
  name?: string
  category?: string
  properties?: JsonObject
  traits?: JsonObject
  groupId?: string
  previousId?: string
  context: JsonObject
  integrations: JsonObject
  /** Event time corrected for client clock skew. */
  timestamp: string
  /** The timestamp as the client sent it. */
  originalTimestamp?: string
  sentAt?: string
  receivedAt: string
  [field: string]: unknown
}

/** A reason a message was refused, naming the field where there is one. */
export interface MessageProblem {
  code: string
  message: string
  field?: string
}
