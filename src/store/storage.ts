import type {FunctionRunStore} from './function-runs.js'
import type {ReplayStore} from './replays.js'
import type {StoreUnavailableError} from './store-errors.js'
import type {AppendResult, Awaitable, DeliveryStore, EventStore, EventWriter, NewEvent} from './types.js'

/** Small values the daemon keeps with its events (the default source's write key). */
export interface MetaStore {
  get(key: string): Awaitable<string | undefined>
  set(key: string, value: string): Awaitable<void>
}

/**
 * What the daemon and the commands get from storage, whatever the store: built by openStorage
 * (src/store/open-storage.ts) and never bypassed. What a second implementation must guarantee is
 * in docs/ARCHITECTURE.md, "The storage contract".
 */
export interface Storage {
  readonly events: EventStore
  readonly deliveries: DeliveryStore
  /** User functions' run records and counts: appended by the daemon's run log, read by `cdp fn logs` and `cdp deliveries`. */
  readonly functionRuns: FunctionRunStore
  readonly meta: MetaStore
  /**
   * `cdp replay`'s records: read by `--list` (reader), written by the process running a replay
   * (writer: beside a running daemon too, WAL and busy_timeout let both write).
   */
  readonly replays: ReplayStore
  /** Releases what the storage holds (connections, threads, the daemon's lock). */
  close(): Promise<void>
}

/** What the daemon is told by its storage. */
export interface StorageListeners {
  /**
   * After each commit that stored new events, with them and their sequence numbers, in commit
   * order and before any later commit is acknowledged: delivery and the live stream start here.
   */
  committed?: (events: readonly NewEvent[], result: AppendResult) => void
  /** The store can no longer be written (its files were deleted or replaced): told once. */
  unavailable?: (error: StoreUnavailableError) => void
}

/** How a store's own upkeep goes, for GET /health. SQLite's is its WAL checkpoints. */
export interface StorageHealth {
  checkpoint?: CheckpointStatus
}

export interface CheckpointStatus {
  /** Checkpoints that failed since the daemon started. */
  failures: number
  /** The last failure's message, or null before any. */
  lastError: string | null
  /** ISO time of the last failure, or null. */
  lastFailedAt: string | null
  /** ISO time of the last checkpoint that succeeded, or null before the first. */
  lastOkAt: string | null
}

/** The daemon's storage: the single writer's, with the writer, the commit feed and upkeep health. */
export interface DaemonStorage extends Storage {
  /** Appends: each submit resolves after its events are committed. */
  readonly writer: EventWriter
  /** Where the events are kept, as shown to people (a file, a URL without credentials). */
  readonly location: string
  listen(listeners: StorageListeners): void
  health(): StorageHealth
}
