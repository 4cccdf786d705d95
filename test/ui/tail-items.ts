import type {ConnectionState, StreamFeed} from '../../src/stream/feed.js'
import type {StreamDelivery, StreamEvent, StreamItem} from '../../src/stream/types.js'
import type {Violation} from '../../src/plan/violations.js'
import type {MessageType} from '../../src/message/types.js'

/** Stream items as the daemon sends them, for the tail UI's tests. */

let nextSeq = 1

export function resetSeq(): void {
  nextSeq = 1
}

interface EventOptions {
  type?: MessageType
  name?: string | null
  userId?: string | null
  anonymousId?: string | null
  source?: string
  valid?: boolean | null
  policy?: 'blocked' | 'omitted' | null
  violations?: Violation[]
  properties?: Record<string, unknown>
  seq?: number
  deliveries?: StreamEvent['deliveries']
}

export function streamEvent(options: EventOptions = {}): StreamEvent {
  const seq = options.seq ?? nextSeq++
  const type = options.type ?? 'track'
  const name = options.name === undefined ? (type === 'track' ? 'Order Completed' : null) : options.name
  const messageId = `msg-${String(seq).padStart(4, '0')}`
  const receivedAt = new Date(Date.UTC(2025, 4, 17, 9, 30, 0, seq)).toISOString()
  const violations = options.violations ?? []
  return {
    kind: 'event',
    seq,
    source: options.source ?? 'web',
    messageId,
    type,
    name,
    userId: options.userId === undefined ? 'user-42' : options.userId,
    anonymousId: options.anonymousId ?? null,
    timestamp: receivedAt,
    receivedAt,
    valid: options.valid === undefined ? (violations.length > 0 ? false : true) : options.valid,
    policy: options.policy ?? null,
    violations,
    message: {
      type,
      messageId,
      ...(options.userId === null ? {} : {userId: options.userId ?? 'user-42'}),
      ...(type === 'track' && name !== null ? {event: name} : {}),
      ...(type === 'page' && name !== null ? {name} : {}),
      properties: options.properties ?? {},
      context: {library: {name: 'analytics.js', version: '1.84.3'}},
      integrations: {},
      timestamp: receivedAt,
      receivedAt,
    },
    ...(options.deliveries ? {deliveries: options.deliveries} : {}),
  }
}

export const twoViolations: Violation[] = [
  {kind: 'wrong_type', path: 'properties.revenue', expected: 'number', actual: 'string', message: 'The value at properties.revenue must be a number but it was a string.'},
  {kind: 'missing_required', path: 'properties.currency', expected: 'present', actual: 'missing', message: 'properties.currency is required but it is missing.'},
]

export function delivery(event: StreamEvent, destination: string, status: StreamDelivery['status'], extra: Partial<StreamDelivery> = {}): StreamDelivery {
  return {kind: 'delivery', seq: event.seq, messageId: event.messageId, destination, status, attempts: status === 'pending' ? 0 : 1, ...extra}
}

/**
 * An in-memory StreamFeed: the input the UI takes, driven by the test as the SSE client would be
 * driven by the daemon.
 */
export class FakeFeed implements StreamFeed {
  private readonly itemListeners = new Set<(items: StreamItem[]) => void>()
  private readonly connectionListeners = new Set<(state: ConnectionState) => void>()
  closed = false

  onItems(listener: (items: StreamItem[]) => void): () => void {
    this.itemListeners.add(listener)
    return () => this.itemListeners.delete(listener)
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener)
    return () => this.connectionListeners.delete(listener)
  }

  close(): void {
    this.closed = true
  }

  push(items: StreamItem[]): void {
    for (const listener of this.itemListeners) listener(items)
  }

  connection(state: ConnectionState): void {
    for (const listener of this.connectionListeners) listener(state)
  }

  get listeners(): number {
    return this.itemListeners.size + this.connectionListeners.size
  }
}
