import {batchItemSpans} from './batch-spans.js'
import {exceedsDepth} from './depth.js'
import {limits} from './limits.js'
import {describeValue, isPlainObject} from './json-value.js'
import {normalizeMessage} from './normalize.js'
import type {MessageProblem, MessageType, SegmentMessage} from './types.js'

/** What a Tracking API endpoint receives: one message of a type, or a batch. */
export type Endpoint = MessageType | 'batch'

export interface AcceptedMessage {
  index: number
  message: SegmentMessage
  /** The message as received, as JSON: a batch item's own text sliced from the body (JSON.stringify of the item when it cannot be). */
  raw: string
}

export interface RejectedMessage extends MessageProblem {
  index: number
  messageId?: string
}

export interface TrackingRequest {
  accepted: AcceptedMessage[]
  rejected: RejectedMessage[]
  /** Set when the request as a whole is refused (nothing in it is stored). */
  problem?: MessageProblem
}

function refuse(code: string, message: string, field?: string): TrackingRequest {
  return {accepted: [], rejected: [], problem: {code, message, field}}
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/**
 * Reads a parsed Tracking API body into normalised messages. A single-message endpoint refuses
 * the request when its message is invalid. A batch refuses as a whole only for batch-level
 * problems (not an array, too many messages); otherwise each item stands alone: valid items are
 * accepted and invalid ones listed with their index and reason.
 * `rawText` is the body as received (the text `body` was parsed from), kept as the raw payload of
 * a single message; a batch item's raw payload is its own slice of it.
 */
export function readTrackingRequest(endpoint: Endpoint, body: unknown, rawText: string, receivedAt: number): TrackingRequest {
  if (!isPlainObject(body)) {
    return refuse('invalid_body', `the request body must be a JSON object, but it was ${describeValue(body)}`)
  }
  const receivedAtIso = new Date(receivedAt).toISOString()
  if (endpoint !== 'batch') {
    const result = normalizeMessage(body, {receivedAt, receivedAtIso, endpointType: endpoint})
    if (!result.ok) return {accepted: [], rejected: [], problem: result.problem}
    return {accepted: [{index: 0, message: result.message, raw: rawText}], rejected: []}
  }

  const items = body.batch
  if (!Array.isArray(items)) {
    return refuse('invalid_batch', `batch must be an array of messages, but it was ${describeValue(items)}`, 'batch')
  }
  if (items.length > limits.batchMessages) {
    return refuse('limit_exceeded', `the batch has ${items.length} messages; the limit is ${limits.batchMessages} a batch`, 'batch')
  }
  const batchContext = body.context
  const batchIntegrations = body.integrations
  if (batchContext !== undefined && batchContext !== null && !isPlainObject(batchContext)) {
    return refuse('invalid_field', `context of the batch must be an object, but it was ${describeValue(batchContext)}`, 'context')
  }
  if (batchIntegrations !== undefined && batchIntegrations !== null && !isPlainObject(batchIntegrations)) {
    return refuse('invalid_field', `integrations of the batch must be an object, but it was ${describeValue(batchIntegrations)}`, 'integrations')
  }
  // Each item gets the batch's context and integrations one level under it, so they count
  // against the item's depth limit: checked once here, not per item after merging.
  for (const [field, part] of [['context', batchContext], ['integrations', batchIntegrations]] as const) {
    if (exceedsDepth(part, limits.depth - 1)) {
      return refuse('too_deep', `${field} of the batch nests objects or arrays deeper than ${limits.depth - 1} levels (each message nests it one level down, and the limit is ${limits.depth} levels a message)`, field)
    }
  }
  const batch = {
    context: batchContext ?? undefined,
    integrations: batchIntegrations ?? undefined,
    sentAt: body.sentAt,
  } as {context?: Record<string, unknown>; integrations?: Record<string, unknown>; sentAt?: unknown}

  // Each item's bytes as received, found in the text: no second JSON.stringify (issue 15).
  let spans = batchItemSpans(rawText)
  if (spans && spans.length !== items.length) spans = undefined
  const outcome: TrackingRequest = {accepted: [], rejected: []}
  for (let index = 0; index < items.length; index++) {
    const item = items[index]
    const result = normalizeMessage(item, {receivedAt, receivedAtIso, batch})
    if (!result.ok) {
      const messageId = isPlainObject(item) && typeof item.messageId === 'string' ? item.messageId.slice(0, limits.messageIdLength) : undefined
      outcome.rejected.push({index, messageId, ...result.problem})
      continue
    }
    // An accepted item is an object: a slice that does not start like one means the spans are off.
    const span = spans !== undefined && rawText.charCodeAt(spans[index][0]) === 0x7b ? spans[index] : undefined
    let raw = span ? rawText.slice(span[0], span[1]) : JSON.stringify(item)
    // The limit applies to the item as JSON.stringify writes it, as before: an item over it only by
    // its whitespace or escapes as sent is still accepted.
    // A UTF-16 code unit is at most 3 bytes of UTF-8: most items need no count.
    let size = raw.length * 3 <= limits.messageBytes ? raw.length : byteLength(raw)
    if (size > limits.messageBytes && span) {
      raw = JSON.stringify(item)
      size = byteLength(raw)
    }
    if (size > limits.messageBytes) {
      outcome.rejected.push({
        index,
        messageId: result.message.messageId,
        code: 'limit_exceeded',
        message: `the message is ${size} bytes; the limit is ${limits.messageBytes} bytes (32 KB) a message`,
      })
      continue
    }
    outcome.accepted.push({index, message: result.message, raw})
  }
  return outcome
}
