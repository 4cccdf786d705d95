import {errorMessage} from '../errors.js'
import type {Logger} from '../log.js'
import type {FunctionRunStore} from './function-runs.js'
import type {ReplayStore} from './replays.js'
import {CheckpointHealth} from './checkpoint-health.js'
import {Checkpointer, type WalUpkeep} from './checkpointer.js'
import {GroupCommitter} from './group-commit.js'
import {SqliteStore} from './sqlite-store.js'
import {UserIndexer} from './user-indexer.js'
import type {DaemonStorage, MetaStore, Storage, StorageHealth, StorageListeners} from './storage.js'
import type {StoreLock} from './store-lock.js'
import type {DeliveryStore, EventStore, EventWriter} from './types.js'

/** A command's storage: one SQLite connection, read-only beside a running daemon or writing with none. */
export class SqliteStorage implements Storage {
  readonly events: EventStore
  readonly deliveries: DeliveryStore
  readonly functionRuns: FunctionRunStore
  readonly meta: MetaStore
  readonly replays: ReplayStore

  constructor(protected readonly store: SqliteStore) {
    this.events = store
    this.deliveries = store.deliveries
    this.functionRuns = store.functionRuns
    this.replays = store.replays
    this.meta = store.meta
  }

  async close(): Promise<void> {
    this.store.close()
  }
}

export interface SqliteDaemonOptions {
  log: Logger
  /** Starts what checkpoints the WAL (default: the checkpoint thread); tests pass a stand-in. */
  startUpkeep?: (file: string, health: CheckpointHealth) => WalUpkeep
}

/**
 * The daemon's SQLite storage: the store lock, one connection that writes and reads (its files
 * guarded against deletion), group commit on it, and WAL checkpoints in their own thread. The
 * checkpoints and their health are SQLite's upkeep, kept here and out of the contract.
 */
export class SqliteDaemonStorage extends SqliteStorage implements DaemonStorage {
  readonly writer: EventWriter
  readonly location: string
  private readonly listeners: StorageListeners = {}
  private readonly checkpoints: CheckpointHealth
  private readonly upkeep: WalUpkeep
  private readonly userIndexer: UserIndexer

  /** Takes ownership of the lock: released when the storage closes, or at once if opening fails. */
  static open(file: string, lock: StoreLock, options: SqliteDaemonOptions): SqliteDaemonStorage {
    let store: SqliteStore | undefined
    try {
      store = new SqliteStore(file, {
        autoCheckpoint: false,
        guardFiles: true,
        onUnavailable: (error) => storage.listeners.unavailable?.(error),
        onMigrate: (from, to, events) =>
          options.log.info(`Upgrading the event store ${file} from schema ${from} to ${to} (${events.toLocaleString('en-US')} events; a one-time rebuild, about 20 s a million events): every event is kept.`),
      })
      const storage: SqliteDaemonStorage = new SqliteDaemonStorage(store, lock, options)
      return storage
    } catch (error) {
      store?.close()
      lock.release()
      throw error
    }
  }

  private constructor(
    store: SqliteStore,
    private readonly lock: StoreLock,
    options: SqliteDaemonOptions,
  ) {
    super(store)
    this.location = store.file
    this.checkpoints = new CheckpointHealth(options.log)
    this.writer = new GroupCommitter(
      store,
      (events, result) => this.listeners.committed?.(events, result),
      (error) => this.checkpoints.failed(errorMessage(error), 'writer'),
    )
    // The writer's connection never checkpoints (a checkpoint in a commit stalls every request): this does.
    this.upkeep = (options.startUpkeep ?? Checkpointer.start)(store.file, this.checkpoints)
    // The users index follows ingest on this connection, off the commits (src/store/user-index.ts).
    this.userIndexer = new UserIndexer(store, options.log).start()
  }

  listen(listeners: StorageListeners): void {
    Object.assign(this.listeners, listeners)
  }

  health(): StorageHealth {
    return {checkpoint: this.checkpoints.status()}
  }

  /** Commits what is queued, stops the checkpoints, closes the store and releases the lock, whatever fails on the way. */
  override async close(): Promise<void> {
    this.userIndexer.stop()
    try {
      await this.writer.close()
    } finally {
      try {
        await this.upkeep.close()
      } finally {
        try {
          this.store.close()
        } finally {
          this.lock.release()
        }
      }
    }
  }
}
