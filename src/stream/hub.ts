import type {DeliveryResult} from '../delivery/worker.js'
import type {AppendResult, NewEvent} from '../store/types.js'
import type {StreamFilter} from './types.js'

/** A reader of the live stream: it takes whole SSE frames; false means its buffer is full. */
export interface StreamWriter {
  write(frame: string): boolean
  /** Called once when the writer can take more after answering false. */
  onDrain(listener: () => void): void
  /** Ends the stream (the daemon is stopping). */
  end(): void
}

/** Deliveries are forwarded for the events a reader was sent; it remembers this many. */
const rememberedSeqs = 10_000

class Reader {
  /** Items dropped since the writer last said it was full. */
  private skipped = 0
  private congested = false
  private readonly sentSeqs = new Set<number>()

  constructor(
    readonly writer: StreamWriter,
    readonly filter: StreamFilter,
  ) {}

  matches(row: NewEvent): boolean {
    const f = this.filter
    if (f.type !== undefined && row.type !== f.type) return false
    if (f.event !== undefined && row.event !== f.event) return false
    if (f.source !== undefined && row.source !== f.source) return false
    if (f.user !== undefined && row.userId !== f.user && row.anonymousId !== f.user) return false
    if (f.violations && row.violations.length === 0) return false
    return true
  }

  wasSent(seq: number): boolean {
    return this.sentSeqs.has(seq)
  }

  /**
   * Writes a frame, unless the reader is behind: then the frame is dropped and counted, and the
   * reader is told how many it missed once it catches up. Ingest never waits for a reader.
   */
  send(frame: string, seq?: number): void {
    if (this.congested) {
      this.skipped++
      return
    }
    if (seq !== undefined) {
      this.sentSeqs.add(seq)
      if (this.sentSeqs.size > rememberedSeqs) this.sentSeqs.delete(this.sentSeqs.values().next().value as number)
    }
    if (!this.writer.write(frame)) {
      this.congested = true
      this.writer.onDrain(() => {
        this.congested = false
        if (this.skipped > 0) {
          const count = this.skipped
          this.skipped = 0
          this.writer.write(sseFrame('skipped', JSON.stringify({kind: 'skipped', count})))
        }
      })
    }
  }
}

export function sseFrame(kind: string, data: string, id?: number): string {
  return `event: ${kind}\n${id === undefined ? '' : `id: ${id}\n`}data: ${data}\n\n`
}

/** The StreamEvent JSON of a stored row: the message's JSON is spliced in, not serialised again. */
export function eventJson(row: NewEvent, seq: number): string {
  const head = JSON.stringify({
    kind: 'event',
    seq,
    source: row.source,
    messageId: row.messageId,
    type: row.type,
    name: row.event,
    userId: row.userId,
    anonymousId: row.anonymousId,
    timestamp: row.timestamp,
    receivedAt: row.receivedAt,
    valid: row.valid,
    policy: row.policy,
    violations: row.violations,
  })
  return `${head.slice(0, -1)},"message":${row.message}}`
}

/**
 * The daemon's live stream: events as they are committed, then each delivery outcome. It costs
 * nothing while nobody reads; each item is serialised once, whatever the number of readers.
 */
export class StreamHub {
  private readonly readers = new Set<Reader>()

  get readerCount(): number {
    return this.readers.size
  }

  /** Adds a reader; history is sent through send() so that its deliveries follow too. */
  subscribe(writer: StreamWriter, filter: StreamFilter): {send: (frame: string, seq?: number) => void; unsubscribe: () => void} {
    const reader = new Reader(writer, filter)
    this.readers.add(reader)
    return {send: (frame, seq) => reader.send(frame, seq), unsubscribe: () => this.readers.delete(reader)}
  }

  /** Ends every reader's stream: the daemon is stopping, and open streams would hold it up. */
  close(): void {
    for (const reader of this.readers) reader.writer.end()
    this.readers.clear()
  }

  /** Events just committed (duplicates, which were not stored, are left out). */
  publishEvents(rows: readonly NewEvent[], result: AppendResult): void {
    if (this.readers.size === 0 || !result.seqs) return
    for (let i = 0; i < rows.length; i++) {
      const seq = result.seqs[i]
      if (!seq) continue
      let frame: string | undefined
      for (const reader of this.readers) {
        if (!reader.matches(rows[i])) continue
        frame ??= sseFrame('event', eventJson(rows[i], seq), seq)
        reader.send(frame, seq)
      }
    }
  }

  /** Delivery outcomes, to the readers that were sent the event. */
  publishDeliveries(results: readonly DeliveryResult[]): void {
    if (this.readers.size === 0) return
    for (const result of results) {
      let frame: string | undefined
      for (const reader of this.readers) {
        if (!reader.wasSent(result.seq)) continue
        frame ??= sseFrame('delivery', JSON.stringify({kind: 'delivery', ...result}))
        reader.send(frame)
      }
    }
  }
}
