import type {AppendResult, EventWriter, NewEvent} from './types.js'

/** What group commit needs of the SQLite store: one transaction per call, and the WAL's upkeep. */
export interface CommitTarget {
  appendEvents(events: readonly NewEvent[]): AppendResult
  /** busy: readers or another checkpoint kept it from finishing. */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): {busy: boolean}
  walBytes(): number
}

interface Pending {
  events: readonly NewEvent[]
  resolve: (result: AppendResult) => void
  reject: (error: unknown) => void
}

/** One request's share of a commit's result. */
function resultOf(stored: boolean[]): AppendResult {
  let inserted = 0
  for (const isNew of stored) if (isNew) inserted++
  return {inserted, duplicates: stored.length - inserted, stored}
}

/**
 * Whether an error is the store's rather than a row's, so that committing the requests one by one
 * would only meet it again (each time after the busy timeout, for a locked database): SQLite's
 * result codes for a busy, locked, full, read-only, unreadable or broken database.
 */
function failsEveryRequest(error: unknown): boolean {
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CORRUPT|CANTOPEN|NOMEM|NOTADB|PERM|PROTOCOL)/.test(code)
}

/**
 * Past this, the writer runs a PASSIVE checkpoint between its commits. The checkpoint thread copies
 * the WAL into the database, but under steady commits it never catches the newest frame, and
 * SQLite only starts the WAL again from its beginning when a write finds every frame copied: the
 * file grew by ~40 MB/s under single events (measured) until the cap below. On the writer, between
 * commits, it copies the few frames the thread has not and lets the next commit start the log
 * again (which journal_size_limit then cuts back, so the file size says how full the log is).
 */
const walRestartBytes = 64 * 1024 * 1024

/** Past this, the writer truncates the WAL (a TRUNCATE waits for readers): the PASSIVE ones are not enough. */
const walLimitBytes = 256 * 1024 * 1024

/**
 * Group commit: appends submitted in the same turn of the event loop share one transaction, so
 * many concurrent requests cost one commit. Each submit resolves only after its events are
 * committed, which is what lets the server answer 200 only for stored events. When the shared
 * transaction fails, each request is committed again on its own, so a request whose row the store
 * refuses fails alone instead of taking its group with it.
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
    private readonly store: CommitTarget,
    /** Called after each commit that stored new events, with the group's events and result (delivery and the live stream start here). */
    private readonly afterCommit: (events: readonly NewEvent[], result: AppendResult) => void = () => undefined,
    /** Told when the writer's own checkpoint (the WAL past its cap) fails; it is tried again after the next hundred commits. */
    private readonly checkpointFailed: (error: unknown) => void = () => undefined,
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
      // The transaction rolled back. One request's row may be what the store refused: commit each
      // request on its own, so only the requests that fail again get the error. A failure of the
      // store itself (locked, full, read-only) would only fail again, once per request.
      if (group.length === 1 || failsEveryRequest(error)) for (const submission of group) submission.reject(error)
      else this.commitOneByOne(group)
      return
    }
    this.keepWalBounded()
    const stored = result.stored
    let offset = 0
    for (const submission of group) {
      const mine = stored.slice(offset, offset + submission.events.length)
      offset += submission.events.length
      submission.resolve(resultOf(mine))
    }
    if (result.inserted > 0) this.afterCommit(all, result)
  }

  /** After a group's commit failed: one transaction per request, then one afterCommit for all that committed. */
  private commitOneByOne(group: readonly Pending[]): void {
    const events: NewEvent[] = []
    const stored: boolean[] = []
    const seqs: number[] = []
    let inserted = 0
    let storeFailure: {error: unknown} | undefined
    for (const submission of group) {
      let result: AppendResult
      if (storeFailure) {
        submission.reject(storeFailure.error)
        continue
      }
      try {
        result = this.store.appendEvents(submission.events)
      } catch (error) {
        submission.reject(error)
        if (failsEveryRequest(error)) storeFailure = {error}
        continue
      }
      submission.resolve(resultOf(result.stored))
      if (result.inserted === 0) continue
      // Sequence numbers grow with each commit, so the committed requests' events stay in order.
      for (const event of submission.events) events.push(event)
      for (const isNew of result.stored) stored.push(isNew)
      for (const seq of result.seqs ?? []) seqs.push(seq)
      inserted += result.inserted
    }
    this.keepWalBounded()
    if (inserted > 0) this.afterCommit(events, {inserted, duplicates: events.length - inserted, stored, seqs: seqs.length === events.length ? seqs : undefined})
  }

  /** A long reader can pin old WAL pages so PASSIVE checkpoints cannot finish; never let it grow without bound. */
  private keepWalBounded(): void {
    if (++this.commitsSinceWalCheck < 100) return
    this.commitsSinceWalCheck = 0
    const bytes = this.store.walBytes()
    if (bytes <= walRestartBytes) return
    try {
      if (bytes <= walLimitBytes) {
        // Busy: the checkpoint thread is at it; the next check tries again.
        this.store.checkpoint('PASSIVE')
      } else if (this.store.checkpoint('TRUNCATE').busy) {
        throw new Error('readers kept the write-ahead log from being truncated')
      }
    } catch (error) {
      // A reader holds the WAL, say: tried again after the next hundred commits, and reported.
      this.checkpointFailed(error)
    }
  }

  /** Commits what is queued, then refuses new appends. */
  async close(): Promise<void> {
    this.closed = true
    this.flush()
  }
}
