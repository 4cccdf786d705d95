import type {Logger} from '../log.js'
import type {CheckpointStatus} from './storage.js'

/** While checkpoints keep failing, the failure is logged again this often (not every 200 ms). */
const relogEveryMs = 60_000

/**
 * How the WAL checkpoints go, from the checkpoint thread and from the writer's own cap. A failing
 * checkpoint harms nothing at once (commits go on) but lets the WAL grow; it was swallowed before.
 * Now the first failure of a run is logged, then once a minute while it lasts, then the recovery;
 * GET /health shows the counts.
 */
export class CheckpointHealth {
  private failures = 0
  private lastError: string | null = null
  private lastFailedAt: number | undefined
  private lastOkAt: number | undefined
  /** Failures since the last success, and when the current run was last logged. */
  private failingRun = 0
  private loggedAt = 0

  constructor(private readonly log: Logger) {}

  succeeded(at = Date.now()): void {
    if (this.lastOkAt === undefined || at > this.lastOkAt) this.lastOkAt = at
    if (this.failingRun === 0) return
    this.log.info(`WAL checkpoints succeed again (after ${this.failingRun} failed).`)
    this.failingRun = 0
  }

  failed(error: string, by: string, at = Date.now()): void {
    this.failures++
    this.failingRun++
    this.lastError = error
    this.lastFailedAt = at
    if (this.failingRun > 1 && at - this.loggedAt < relogEveryMs) return
    this.loggedAt = at
    const run = this.failingRun > 1 ? ` (${this.failingRun} in a row)` : ''
    this.log.error(`WAL checkpoint by the ${by} failed${run}: ${error}. Commits go on, but the write-ahead log grows until one succeeds.`)
  }

  status(): CheckpointStatus {
    const iso = (at: number | undefined) => (at === undefined ? null : new Date(at).toISOString())
    return {failures: this.failures, lastError: this.lastError, lastFailedAt: iso(this.lastFailedAt), lastOkAt: iso(this.lastOkAt)}
  }
}
