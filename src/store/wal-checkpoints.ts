import type {CheckpointReport} from './checkpointer.js'

/** What the checkpoint thread needs of its own SQLite connection. */
export interface CheckpointTarget {
  /** busy: another connection was checkpointing (PASSIVE), or readers or the writer kept a TRUNCATE from finishing. */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): {busy: boolean}
  walBytes(): number
}

/** Past this, the WAL file is truncated: PASSIVE checkpoints reuse it from the start but never shrink it. */
export const walLimitBytes = 256 * 1024 * 1024
/** Successes are reported at most this often (the daemon's /health shows when the last one was); failures each time. */
const okReportMs = 1000
/**
 * After a TRUNCATE failed (a reader pinned the WAL), it is tried again no sooner than this: while it
 * waits for readers it holds the write lock, so each attempt can hold the writer up to the
 * connection's busy timeout.
 */
const truncateRetryMs = 5000

/**
 * One tick of the checkpoint thread: a PASSIVE checkpoint (never waits for the writer or readers),
 * then, when the WAL file has grown past its limit (a long reader pinned old pages, or the
 * checkpoints fell behind), a TRUNCATE. The TRUNCATE used to run on the writer, on the request
 * path, every hundred commits (issue 15); here it syncs the disk off it. Answers what to report.
 */
export class WalCheckpoints {
  private lastOkReport = 0
  private failing = false
  private truncateFailedAt: number | undefined

  constructor(
    private readonly store: CheckpointTarget,
    private readonly limitBytes = walLimitBytes,
  ) {}

  tick(at = Date.now()): CheckpointReport | undefined {
    try {
      // PASSIVE never waits: busy means another connection was checkpointing (SQLite answers that in a row, not an error).
      if (this.store.checkpoint('PASSIVE').busy) throw new Error('the database was busy: another connection was checkpointing (SQLITE_BUSY)')
      this.truncateIfTooLarge(at)
    } catch (error) {
      // Retried at the next tick; the daemon logs it and counts it in /health.
      this.failing = true
      return {kind: 'failed', error: error instanceof Error ? error.message : String(error), at}
    }
    if (this.failing || at - this.lastOkReport >= okReportMs) {
      this.failing = false
      this.lastOkReport = at
      return {kind: 'ok', at}
    }
    return undefined
  }

  private truncateIfTooLarge(at: number): void {
    if (this.truncateFailedAt !== undefined && at - this.truncateFailedAt < truncateRetryMs) return
    if (this.store.walBytes() <= this.limitBytes) return
    let busy: boolean
    try {
      busy = this.store.checkpoint('TRUNCATE').busy
    } catch (error) {
      this.truncateFailedAt = at
      throw error
    }
    if (busy) {
      this.truncateFailedAt = at
      throw new Error('readers kept the write-ahead log from being truncated')
    }
    this.truncateFailedAt = undefined
  }
}
