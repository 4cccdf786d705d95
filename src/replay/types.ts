/**
 * The contract of `cdp replay` (issue 13) between its parts: the readers of events to replay
 * (the store, archive files), the replay's own bookkeeping in the store (a DeliveryStore for the
 * worker, so that replayed events go through the very DestinationWorker live delivery uses, with
 * a cursor, records and counts of their own), and the runner the command drives.
 */
import type {QueuedEvent} from '../store/types.js'
export type {WorkerStore} from '../delivery/types.js'

/** What a replay sends: events of the store, or of archive files, narrowed by the filters of `cdp events`. */
export interface ReplaySelection {
  destination: string
  /** ISO 8601: events whose timestamp is at or after it. */
  since?: string
  /** ISO 8601: events whose timestamp is before it. */
  until?: string
  /** Track event names (and page/screen names); any of them. */
  events?: string[]
  /** Message types; any of them. */
  types?: string[]
  source?: string
  /** userId or anonymousId. */
  user?: string
  /** Only events checked against a plan that passed (true) or broke it (false); store events only. */
  valid?: boolean
  /** Archive files and folders (NDJSON, gzip NDJSON); absent: the store. */
  files?: string[]
  /** Archives: stop at the first corrupt line instead of skipping it. */
  strict?: boolean
  /** Events per second at most. */
  rate?: number
}

export type ReplayStatus = 'running' | 'interrupted' | 'completed' | 'failed'

export interface ReplayCounts {
  /** Events of the selection, counted up front (archives: lines read so far, until the end). */
  selected: number | null
  /** Confirmed by the destination. */
  sent: number
  /** Dead-lettered: refused for good, or out of attempts. */
  failed: number
  /** Left out: the destination's own filter, or dropped by its insert function. */
  skipped: number
  /** Archive lines that are not a message (each reported with file and line). */
  corrupt: number
}

/** One replay as `cdp replay --list` shows it and `--resume` continues it. */
export interface ReplayInfo {
  id: string
  destination: string
  selection: ReplaySelection
  status: ReplayStatus
  counts: ReplayCounts
  /** The reader's position up to which everything is settled (sent, failed or skipped). */
  checkpoint: number
  createdAt: string
  updatedAt: string
  finishedAt: string | null
  lastError: string | null
}

/**
 * Events to replay, in order, from a position: store rows by sequence number, or archive lines
 * by their ordinal across the files (so a resumed replay reads on from where it stopped).
 * Constant memory: it reads ahead at most what `read` asks for.
 */
export interface ReplayReader {
  /**
   * Up to `limit` events after position `after`, oldest first, as the store queues them (their
   * `message` is the JSON to send, `seq` their position); `cursor` the position after them;
   * `complete` when nothing is left after it.
   */
  read(after: number, limit: number): Promise<{events: QueuedEvent[]; cursor: number; complete: boolean}>
  /** Corrupt archive lines met so far: file, line number, why. */
  readonly corrupt: readonly {file: string; line: number; reason: string}[]
  close(): Promise<void>
}
