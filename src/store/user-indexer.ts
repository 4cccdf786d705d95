import {errorMessage} from '../errors.js'
import type {Logger} from '../log.js'

/** What the indexer needs of the store: index the next events' users, answering how many it covered. */
export interface UserIndexTarget {
  indexUsers(limit: number): number
}

/** Events a slice covers: ~5–15 ms of the writer's thread, so requests between slices wait little. */
const sliceEvents = 4000

/**
 * Keeps the users index (src/store/user-index.ts) behind ingest on the writer's connection: every
 * `intervalMs` it indexes what was stored since, a slice at a time, letting the event loop answer
 * requests between slices. Queries never depend on it (they scan what it has not reached yet).
 */
export class UserIndexer {
  private timer?: NodeJS.Timeout
  private running = false
  private stopped = false
  private failing = false

  constructor(
    private readonly store: UserIndexTarget,
    private readonly log: Logger,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.timer = setInterval(() => this.catchUp(), this.intervalMs)
    this.timer.unref()
    return this
  }

  /** Indexes slices until caught up, yielding to the event loop between them. */
  private catchUp(): void {
    if (this.running || this.stopped) return
    this.running = true
    const slice = () => {
      if (this.stopped) return void (this.running = false)
      let covered: number
      try {
        covered = this.store.indexUsers(sliceEvents)
        this.failing = false
      } catch (error) {
        // A busy or unavailable store: the next tick tries again; said once per run of failures.
        if (!this.failing) this.log.warn(`Indexing users of stored events failed (tried again shortly): ${errorMessage(error)}`)
        this.failing = true
        covered = 0
      }
      if (covered === sliceEvents) setImmediate(slice)
      else this.running = false
    }
    slice()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }
}
