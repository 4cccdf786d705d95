import type {AppendResult, EventStore, EventWriter, NewEvent} from './types.js'

interface Pending {
  events: readonly NewEvent[]
  resolve: (result: AppendResult) => void
  reject: (error: unknown) => void
}

/** Past this, the writer checkpoints the WAL itself: the checkpoint thread is not keeping up. */
const walLimitBytes = 256 * 1024 * 1024

/**
 * Group commit: appends submitted in the same turn of the event loop share one transaction, so
 * many concurrent requests cost one commit. Each submit resolves only after its events are
 * committed, which is what lets the server answer 200 only for stored events.
 *
 * It runs on the HTTP thread. WAL checkpoints, which sync the disk, run in their own thread
 * (Checkpointer); with them out of the commit path, this measured faster than a writer thread
 * for single events and batches alike (docs/PERFORMANCE.md).
 */
export class GroupCommitter implements EventWriter {
  private pending: Pending[] = []
  private scheduled = false
  private closed = false
  private commitsSinceWalCheck = 0

  constructor(
    private readonly store: Pick<EventStore, 'appendEvents' | 'checkpoint' | 'walBytes'>,
    /** Called after each commit that stored new events, with the group's events and result (delivery and the live stream start here). */
    private readonly afterCommit: (events: readonly NewEvent[], result: AppendResult) => void = () => undefined,
  ) {}

  submit(events: readonly NewEvent[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('the event store is closing'))
    return new Promise((resolve, reject) => {
      this.pending.push({events, resolve, reject})
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.scheduled = false
    const group = this.pending
    this.pending = []
    if (group.length === 0) return
    const all = group.length === 1 ? group[0].events : group.flatMap((submission) => submission.events)
    let result: AppendResult
    try {
      result = this.store.appendEvents(all)
    } catch (error) {
      for (const submission of group) submission.reject(error)
      return
    }
    this.keepWalBounded()
    const stored = result.stored
    let offset = 0
    for (const submission of group) {
      const mine = stored.slice(offset, offset + submission.events.length)
      offset += submission.events.length
      let inserted = 0
      for (const isNew of mine) if (isNew) inserted++
      submission.resolve({inserted, duplicates: mine.length - inserted, stored: mine})
    }
    if (result.inserted > 0) this.afterCommit(all, result)
  }

  /** A long reader can pin old WAL pages so PASSIVE checkpoints cannot finish; never let it grow without bound. */
  private keepWalBounded(): void {
    if (++this.commitsSinceWalCheck < 100) return
    this.commitsSinceWalCheck = 0
    if (this.store.walBytes() > walLimitBytes) {
      try {
        this.store.checkpoint('TRUNCATE')
      } catch {
        // A reader holds the WAL: try again after the next hundred commits.
      }
    }
  }

  /** Commits what is queued, then refuses new appends. */
  async close(): Promise<void> {
    this.closed = true
    this.flush()
  }
}
