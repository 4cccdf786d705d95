import type {Violation} from '../plan/violations.js'
import type {MessageType, SegmentMessage} from '../spec/types.js'

/** One event to store: the normalised message with the columns it is indexed by. */
export interface NewEvent {
  messageId: string
  source: string
  type: MessageType
  event: string | null
  userId: string | null
  anonymousId: string | null
  timestamp: string
  receivedAt: string
  /** The message as received, as JSON. */
  raw: string
  /** The normalised message, as JSON. */
  message: string
  /** null when no tracking plan applies; otherwise whether the message follows it. */
  valid: boolean | null
  violations: Violation[]
  /** What the source's Protocols policy did: quarantined ('blocked') or values removed ('omitted'). */
  policy: 'blocked' | 'omitted' | null
}

export interface AppendResult {
  /** Events newly stored. */
  inserted: number
  /** Events whose messageId the source had already sent: kept once. */
  duplicates: number
  /** Per event, in order: true when stored now, false when it was a duplicate. */
  stored: boolean[]
}

export interface EventFilter {
  type?: string
  event?: string
  /** Matches userId or anonymousId. */
  user?: string
  source?: string
  /** ISO 8601: events whose (corrected) timestamp is at or after it. */
  since?: string
  /** Only events checked against a plan that passed (true) or broke it (false). */
  valid?: boolean
  /** The newest N that match, returned oldest first. */
  limit: number
}

export interface StoredEvent {
  seq: number
  source: string
  message: SegmentMessage
  valid: boolean | null
  policy: 'blocked' | 'omitted' | null
}

export interface ViolationFilter {
  event?: string
  kind?: string
  source?: string
  /** ISO 8601: violations received at or after it. */
  since?: string
  limit: number
}

export interface StoredViolation extends Violation {
  id: number
  messageId: string
  source: string
  type: string
  event: string | null
  receivedAt: string
}

/**
 * What the rest of cdp needs from storage. SQLite is the embedded default; another store (a
 * PostgreSQL one shared by a team) implements the same interface.
 */
export interface EventStore {
  appendEvents(events: readonly NewEvent[]): AppendResult
  queryEvents(filter: EventFilter): StoredEvent[]
  queryViolations(filter: ViolationFilter): StoredViolation[]
  iterateMessages(types: readonly string[]): Iterable<SegmentMessage>
  /** Moves the write-ahead log into the database (a no-op for stores without one). */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): {frames: number; checkpointed: number}
  /** Bytes of write-ahead log waiting, or 0 for stores without one. */
  walBytes(): number
  countEvents(): number
  /** Deletes every stored event; answers how many there were. */
  resetEvents(): number
  getMeta(key: string): string | undefined
  setMeta(key: string, value: string): void
  close(): void
}

/** Appends events durably: the promise resolves only after they are committed. */
export interface EventWriter {
  submit(events: readonly NewEvent[]): Promise<AppendResult>
  close(): Promise<void>
}
