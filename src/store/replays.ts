import type {ReplayInfo, ReplaySelection, ReplayStatus} from '../replay/types.js'
import type {Awaitable, DeliveryRow, DeliveryStatus, OpenDelivery, QueuedEvent} from './types.js'

/** A replay as stored: what `--list` shows, and where a store replay stops reading. */
export interface StoredReplay extends ReplayInfo {
  /** A replay of the store reads events up to this seq (the newest when it was created); null for archives. */
  through: number | null
  /** The latency histogram (handed out → confirmed), serialised: the worker goes on from it when the replay resumes. */
  latency: string
}

/** What one round of a replay's delivery changed, written in one transaction (counts are increments). */
export interface ReplayOutcome {
  replayId: string
  /** The reader's position everything up to is settled at; absent: it stays. */
  checkpoint?: number
  sent: number
  failed: number
  skipped: number
  corrupt: number
  /** The replay's latency histogram after this round, serialised. */
  latency: string
  /** Events taken from the reader that did not get through: first record, with the message to send again. */
  inserted: (DeliveryRow & {event: QueuedEvent; userKey: string})[]
  /** Open records sent again. */
  updated: (DeliveryRow & {id: number})[]
}

/**
 * The replays' bookkeeping (`cdp replay`): one record per replay (selection, status, counts,
 * checkpoint) and the records of its events off the happy path, which the delivery worker reads
 * through src/replay/replay-store.ts as it reads a destination's. Readers (`--list`) use get and
 * list; the process running a replay writes, beside a running daemon or without one.
 */
export interface ReplayStore {
  /**
   * Records a new replay, running, with a fresh id (`r-20261201-030512-ab12`: sortable by time);
   * a replay of the store (no `files`) is bounded by the newest event stored now.
   */
  create(selection: ReplaySelection, options?: {selected?: number | null}): Awaitable<StoredReplay>
  get(id: string): Awaitable<StoredReplay | undefined>
  /** Every replay, oldest first. */
  list(): Awaitable<StoredReplay[]>
  /** finishedAt is set when it leaves 'running' and cleared when it runs again; lastError replaced when given. */
  setStatus(id: string, status: ReplayStatus, lastError?: string | null): Awaitable<void>
  /** The count of the selection done up front (null: not counted). */
  setSelected(id: string, selected: number | null): Awaitable<void>
  /** The replay's open records (pending, retrying), oldest first. */
  openDeliveries(replayId: string, limit: number): Awaitable<OpenDelivery[]>
  heldUsers(replayId: string): Awaitable<Set<string>>
  nextRetryAt(replayId: string): Awaitable<number | undefined>
  /** The replay's records of one status (dead: what failed, with the message it sent), oldest first. */
  records(replayId: string, query: {status?: DeliveryStatus; limit: number}): Awaitable<OpenDelivery[]>
  /** Open records left (pending, retrying): a replay is done only when there are none. */
  countOpen(replayId: string): Awaitable<number>
  /** Writes the round's records, counts and checkpoint at once, or nothing and throws. */
  recordOutcome(outcome: ReplayOutcome): Awaitable<void>
}
