import type {AppendResult, EventStore, NewEvent} from './types.js'

interface Pending {
  events: readonly NewEvent[]
  resolve: (result: AppendResult) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: appends submitted in the same turn of the event loop share one transaction, so
 * many concurrent requests cost one commit. Each submit resolves only after its events are
 * committed, which is what lets the server answer 200 only for stored events.
 */
export class GroupCommitter {
  private pending: Pending[] = []
  private scheduled = false
  private closed = false
  private idle: Promise<void> = Promise.resolve()
  private settleIdle: (() => void) | undefined

  constructor(private readonly store: EventStore) {}

  submit(events: readonly NewEvent[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('the event store is closing'))
    return new Promise((resolve, reject) => {
      this.pending.push({events, resolve, reject})
      if (!this.scheduled) {
        this.scheduled = true
        this.idle = new Promise((settle) => (this.settleIdle = settle))
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    const all: NewEvent[] = []
    for (const item of batch) for (const event of item.events) all.push(event)
    try {
      // One transaction for everything queued; duplicates are counted per submitter afterwards.
      const {stored} = this.store.appendEvents(all)
      let offset = 0
      for (const item of batch) {
        const mine = stored.slice(offset, offset + item.events.length)
        offset += item.events.length
        const inserted = mine.reduce((n, isNew) => (isNew ? n + 1 : n), 0)
        item.resolve({inserted, duplicates: mine.length - inserted, stored: mine})
      }
    } catch (error) {
      for (const item of batch) item.reject(error)
    }
    this.settleIdle?.()
  }

  /** Waits for queued appends to commit, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true
    await this.idle
  }
}
