import type {NewEvent, QueuedEvent} from '../store/types.js'

/**
 * The events committed since a worker last read the store, kept in memory so that a worker that
 * keeps up never reads back from SQLite what was just written (that read cost more than the
 * sending). It holds only events the destination takes, and only while it has seen every commit
 * since the worker's last read reached the newest event; any gap, or a backlog past `limit`, sends
 * the worker back to the store.
 */
export class RecentEvents {
  private events: QueuedEvent[] = []
  private head = 0
  private synced = false
  /** The highest seq this memory accounts for. */
  private tail = 0

  constructor(
    private readonly takes: (row: NewEvent) => boolean,
    private readonly limit = 50_000,
  ) {}

  /** A read of the store reached its newest event, `seq`: later events will come through offer(). */
  syncedAt(seq: number): void {
    this.events = []
    this.head = 0
    this.tail = seq
    this.synced = true
  }

  /** Forget everything: the worker reads the store until it catches up again. */
  desync(): void {
    this.synced = false
    this.events = []
    this.head = 0
  }

  /** A commit: its rows and their seqs (0 for duplicates, which were not stored). */
  offer(rows: readonly NewEvent[], seqs: readonly number[]): void {
    if (!this.synced) return
    for (let i = 0; i < rows.length; i++) {
      const seq = seqs[i]
      if (!seq) continue
      if (seq !== this.tail + 1) return this.desync()
      this.tail = seq
      const row = rows[i]
      if (!this.takes(row)) continue
      this.events.push({
        seq,
        messageId: row.messageId,
        source: row.source,
        type: row.type,
        event: row.event,
        userId: row.userId,
        anonymousId: row.anonymousId,
        receivedAt: row.receivedAt,
        message: row.message,
      })
    }
    if (this.events.length - this.head > this.limit) this.desync()
  }

  /** Up to `limit` queued events and the cursor after them; undefined when the store must be read instead. */
  take(limit: number): {events: QueuedEvent[]; cursor: number} | undefined {
    if (!this.synced) return undefined
    const end = Math.min(this.events.length, this.head + limit)
    const events = this.events.slice(this.head, end)
    this.head = end
    if (this.head === this.events.length) {
      this.events = []
      this.head = 0
      return {events, cursor: this.tail}
    }
    return {events, cursor: events[events.length - 1].seq}
  }

  /** Events waiting in memory. */
  get size(): number {
    return this.events.length - this.head
  }
}
