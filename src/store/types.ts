import type {Violation} from '../plan/violations.js'
import type {MessageType, SegmentMessage} from '../message/types.js'

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
  /**
   * The message as received, as JSON, when the stored message does not hold all of it (a source's
   * transformations or insert function changed it, or the plan's policy omitted values); null
   * when the message is what was received, normalised: one stored copy (issue 15).
   */
  raw: string | null
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
  /** Per event, in order: its sequence number when stored now, 0 for a duplicate (from the store only). */
  seqs?: number[]
}

export interface EventFilter {
  type?: string
  event?: string
  /** Message types: any of them (`cdp replay --type`, repeatable). An empty list sets nothing. */
  types?: readonly string[]
  /** Track event names (and page/screen names): any of them. An empty list sets nothing. */
  events?: readonly string[]
  /** Matches userId or anonymousId. */
  user?: string
  source?: string
  /** ISO 8601: events whose (corrected) timestamp is at or after it. */
  since?: string
  /** ISO 8601: events whose (corrected) timestamp is before it. */
  until?: string
  /** Only events checked against a plan that passed (true) or broke it (false). */
  valid?: boolean
  /** Only events with a sequence number below it. */
  before?: number
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
  /** The sequence number of the event it belongs to. */
  seq: number
  messageId: string
  source: string
  type: string
  event: string | null
  receivedAt: string
}

/** A value a store may answer at once (SQLite, in-process) or later (a store over the network): callers await it. */
export type Awaitable<T> = T | Promise<T>

/**
 * The events half of the storage contract (src/store/storage.ts; docs/ARCHITECTURE.md, "The
 * storage contract"). Appends go through the storage's EventWriter. What the API and commands
 * read is Awaitable; what the live stream's history reads stays synchronous (it is taken in the
 * same turn as the reader's subscription).
 */
export interface EventStore {
  queryEvents(filter: EventFilter): Awaitable<StoredEvent[]>
  queryViolations(filter: ViolationFilter): Awaitable<StoredViolation[]>
  /** The violations recorded with each of these events, by sequence number. */
  violationsOf(seqs: readonly number[]): Map<number, Violation[]>
  /** Events by sequence number, after `after`, matching the filter: the newest `limit`, oldest first. */
  eventsAfter(after: number, filter: EventFilter): StoredEvent[]
  /** The sequence numbers eventsAfter would answer, without reading the events (cheap paging). */
  seqsAfter(after: number, filter: EventFilter): number[]
  /** Every stored message of these types, oldest first, one at a time. */
  iterateMessages(types: readonly string[]): Iterable<SegmentMessage> | AsyncIterable<SegmentMessage>
  countEvents(): Awaitable<number>
  /**
   * Events after seq `after` that a replay's filter takes, oldest first, as the delivery queue
   * gives them; `cursor` the seq to read after next, `complete` when nothing is left up to
   * `filter.through`. One page: a replay reads a window at a time, in constant memory.
   */
  replayEvents(after: number, filter: ReplayFilter, limit: number): Awaitable<QueuedEvents>
  /** How many events replayEvents would give from the start, by type and event name. */
  countReplayEvents(filter: ReplayFilter): Awaitable<ReplayCount>
  /** Deletes every stored event; answers how many there were. */
  resetEvents(): Awaitable<number>
}

/**
 * Which stored events a replay sends (`cdp replay`): the events filter of `cdp events`, with lists
 * and an end; quarantined ('blocked') events never go. `through` bounds it to the events stored
 * when the replay began (absent: the newest now), so a replay beside a running daemon ends.
 */
export interface ReplayFilter extends Pick<EventFilter, 'types' | 'events' | 'user' | 'source' | 'since' | 'until' | 'valid'> {
  /** Only events with a sequence number at or below it. */
  through?: number
}

/** What a replay would send, counted up front (`cdp replay --dry-run`, and the progress view's time left). */
export interface ReplayCount {
  total: number
  /** Per message type and event name (null for types without one), most first. */
  byType: {type: string; event: string | null; count: number}[]
}

/** Appends events durably: the promise resolves only after they are committed. */
export interface EventWriter {
  submit(events: readonly NewEvent[]): Promise<AppendResult>
  close(): Promise<void>
}

/** Which events a destination takes; an absent list takes all. Blocked (quarantined) events never go. */
export interface DestinationFilter {
  types?: readonly string[]
  events?: readonly string[]
  sources?: readonly string[]
}

/** A stored event queued for a destination. */
export interface QueuedEvent {
  seq: number
  messageId: string
  source: string
  type: string
  event: string | null
  userId: string | null
  anonymousId: string | null
  receivedAt: string
  /** The normalised message as JSON. */
  message: string
}

export const deliveryStatuses = ['pending', 'retrying', 'dead', 'delivered'] as const
export type DeliveryStatus = (typeof deliveryStatuses)[number]

export interface DeliveryAttempt {
  /** ISO time the attempt ended. */
  at: string
  /** The destination's HTTP status, when it answered. */
  status?: number
  /** Why it failed; absent for the attempt that succeeded. */
  error?: string
  /** How long the attempt took. */
  ms: number
}

/** The state of one event at one destination, once it left the cursor's path. */
export interface DeliveryRow {
  status: DeliveryStatus
  attempts: number
  /** Epoch ms of the next attempt; 0 when due now. */
  nextAttemptAt: number
  lastStatus: number | null
  lastError: string | null
  history: DeliveryAttempt[]
}

/** An event waiting at a destination outside the cursor: retrying, or held behind its user's. */
export interface OpenDelivery extends QueuedEvent, DeliveryRow {
  id: number
  userKey: string
}

/** What one round of sending changed, written in one transaction. */
export interface DeliveryOutcome {
  destination: string
  /** The destination's new cursor, when the round took events from it. */
  cursor?: number
  delivered: number
  /** Events done with but not sent: the destination's insert function dropped them. */
  dropped?: number
  failedAttempts: number
  /** The latency histogram after this round, serialised. */
  latency: string
  /** Events taken from the cursor that did not get through: first record. */
  inserted: (DeliveryRow & {seq: number; userKey: string})[]
  /** Open deliveries sent again. */
  updated: (DeliveryRow & {id: number})[]
}

export interface DestinationState {
  name: string
  cursor: number
  /** Events up to this one were stored before the destination existed. */
  firstSeq: number
  delivered: number
  failedAttempts: number
  latency: string
  lastDeliveredAt: string | null
}

export interface DeliveryCounts {
  /** Queued, not yet attempted: after the cursor, or held behind an earlier event of the user. */
  pending: number
  /** The queue after the cursor was only counted this far (counting a long backlog would stall the daemon): pending is at least this. */
  pendingCapped: boolean
  retrying: number
  dead: number
}

export interface DeliveryRecord extends DeliveryRow {
  id: number
  destination: string
  seq: number
  messageId: string
  type: string
  event: string | null
  userKey: string
  createdAt: string
  updatedAt: string
}

/** Which delivery records to list: what `cdp deliveries` and GET /api/deliveries show. */
export interface DeliveryQuery {
  destination?: string
  status?: DeliveryStatus
  limit: number
}

/** Queued events after a cursor (DeliveryStore.queuedEvents). */
export interface QueuedEvents {
  events: QueuedEvent[]
  cursor: number
  complete: boolean
}

/**
 * Delivery bookkeeping: the cursor per destination and the records of events off its path. What
 * the delivery worker calls is Awaitable (the worker awaits each call, one round at a time);
 * recordsOf and destinationState are read with history and stay synchronous.
 */
export interface DeliveryStore {
  /** The destination's state; a destination seen for the first time starts at the newest event. */
  openDestination(name: string): Awaitable<DestinationState>
  /**
   * Events after the cursor that match the filter, oldest first; the cursor to move to when they
   * are done; and whether that cursor is the newest event stored (nothing left to read).
   */
  queuedEvents(after: number, filter: DestinationFilter, limit: number): Awaitable<QueuedEvents>
  openDeliveries(destination: string, limit: number): Awaitable<OpenDelivery[]>
  /** Users with an open delivery at the destination: their newer events must wait. */
  heldUsers(destination: string): Awaitable<Set<string>>
  /** Epoch ms of the earliest retry due, or undefined with nothing to retry. */
  nextRetryAt(destination: string): Awaitable<number | undefined>
  /** Writes the round's records, counters and cursor at once: the worker moves its cursor only once this is done. */
  recordOutcome(outcome: DeliveryOutcome): Awaitable<void>
  /** The delivery records of these events, at every destination. */
  recordsOf(seqs: readonly number[]): {seq: number; destination: string; status: DeliveryStatus; attempts: number}[]
  /** Sends dead-lettered events again; answers how many. */
  retryDead(filter: {destination?: string; ids?: readonly number[]}): Awaitable<number>
  countDeliveries(destination: string, cursor: number, filter: DestinationFilter): Awaitable<DeliveryCounts>
  destinationState(name: string): DestinationState | undefined
  queryDeliveries(query: DeliveryQuery): Awaitable<DeliveryRecord[]>
}
