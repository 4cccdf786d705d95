import type {DeliveryResult} from '../delivery/types.js'
import type {FunctionRunRecord} from '../functions/types.js'
import {eventMatch} from '../store/filter-spec.js'
import type {AppendResult, NewEvent} from '../store/types.js'
import {streamEventMatch} from './filter.js'
import type {HistoryCursor} from './history.js'
import {historySliceBytes, historySliceEvents, maxQueuedBytes, maxStreamReaders} from './limits.js'
import type {StreamEvent, StreamFilter, StreamReplay} from './types.js'

/** A reader of the live stream: it takes whole SSE frames. */
export interface StreamWriter {
  /** false: past the response's high-water mark (16 KB); not a sign of a stalled reader. */
  write(frame: string): boolean
  /** Bytes written that the connection has not taken yet (the response's writableLength). */
  queuedBytes(): number
  /** Called once when everything written was taken, after write() answered false. */
  onDrain(listener: () => void): void
  /** Ends the stream (the daemon is stopping). */
  end(): void
}

export interface StreamHubLimits {
  /** Readers at once. */
  readers: number
  /** Bytes queued for one reader past which its items are dropped. */
  queuedBytes: number
}

/** The first slice of history is small: the size of its events is not known yet. */
const firstSliceEvents = 25

/** Deliveries (and, for a filtered reader, function records) follow the events a reader was sent; it remembers this many. */
const rememberedSeqs = 10_000

/**
 * Which function records a reader takes. With no filter, every one. With a filter, those of
 * events it was sent (by messageId: destination functions, and source functions whose event
 * came first); and when the filter names only a source, the records of functions that ran before
 * storage on that source (stage 'source' and 'request': their event is not stored yet, or never
 * will be when it was dropped). A filter on type, event, user or violations cannot be applied to
 * a record that ran before its event was stored, so such a reader gets only the records of its
 * events that come after them.
 */
type FunctionRunFilter = {all: true} | {all: false; source: string | undefined}

function functionRunFilter(filter: StreamFilter): FunctionRunFilter {
  if (!filter.type && !filter.event && !filter.user && !filter.violations) return filter.source ? {all: false, source: filter.source} : {all: true}
  return {all: false, source: undefined}
}

/**
 * Runs steps one per turn of the event loop, in the order they come: readers' history slices
 * take turns, and requests (ingest, /health) are answered between any two slices.
 */
class TurnQueue {
  private readonly steps: (() => void)[] = []
  private scheduled = false

  add(step: () => void): void {
    this.steps.push(step)
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled || this.steps.length === 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.steps.shift()?.()
      this.schedule()
    })
  }
}

class Reader {
  /** Items dropped since the reader last took one. */
  private skipped = 0
  private drainAwaited = false
  private readonly sentSeqs = new Set<number>()
  /** The messageIds of the events sent, only for a filtered reader (whose function records follow them). */
  private readonly sentMessageIds: Set<string> | undefined
  private readonly functionRuns: FunctionRunFilter
  /** Live frames that came while history was being sent, and their size; undefined once live. */
  private held: {frame: string; seq?: number}[] | undefined = []
  private heldBytes = 0
  closed = false
  /** The reader's filter as the store applies it to history: one specification, both forms. */
  readonly matches: (row: NewEvent) => boolean

  constructor(
    readonly writer: StreamWriter,
    filter: StreamFilter,
    private readonly maxQueuedBytes: number,
  ) {
    this.matches = eventMatch.matcher(streamEventMatch(filter))
    this.functionRuns = functionRunFilter(filter)
    this.sentMessageIds = this.functionRuns.all ? undefined : new Set()
  }

  wasSent(seq: number): boolean {
    return this.sentSeqs.has(seq)
  }

  takesFunctionRun(run: FunctionRunRecord): boolean {
    if (this.functionRuns.all) return true
    if (run.messageId !== undefined && this.sentMessageIds?.has(run.messageId)) return true
    return run.stage !== 'destination' && this.functionRuns.source === run.target
  }

  /**
   * A live item. While history is being sent it waits behind it (up to the byte bound); then it
   * is written unless the reader is really stalled, with more queued than the bound: then it is
   * dropped and counted, and the reader is told how many it missed once it reads again. Ingest
   * never waits for a reader.
   */
  send(frame: string, seq?: number, messageId?: string): void {
    if (this.held) {
      // Once one is dropped, so is every later one: the skipped notice comes after the held items.
      if (this.skipped > 0 || this.heldBytes + frame.length > this.maxQueuedBytes) {
        this.skipped++
        return
      }
      this.held.push({frame, seq})
      this.heldBytes += frame.length
      if (seq !== undefined) this.remember(seq, messageId)
      return
    }
    this.deliver(frame, seq, messageId)
  }

  /** History frames: always written; the caller waits for drain when this answers false. */
  sendHistory(frames: string, seqs: readonly number[], messageIds: readonly string[]): boolean {
    for (let i = 0; i < seqs.length; i++) this.remember(seqs[i], messageIds[i])
    return this.writer.write(frames)
  }

  /** History is all sent: the live items held meanwhile follow, then a count of any dropped. */
  goLive(): void {
    const held = this.held ?? []
    this.held = undefined
    this.heldBytes = 0
    const droppedWhileHeld = this.skipped
    this.skipped = 0
    for (const {frame, seq} of held) this.deliver(frame, seq)
    this.skipped += droppedWhileHeld
    if (this.skipped === 0) return
    if (this.writer.queuedBytes() < this.maxQueuedBytes) this.announceSkipped()
    else this.announceWhenDrained()
  }

  private deliver(frame: string, seq?: number, messageId?: string): void {
    if (this.writer.queuedBytes() >= this.maxQueuedBytes) {
      this.skipped++
      this.announceWhenDrained()
      return
    }
    if (this.skipped > 0) this.announceSkipped()
    if (seq !== undefined) this.remember(seq, messageId)
    this.writer.write(frame)
  }

  private remember(seq: number, messageId: string | undefined): void {
    this.sentSeqs.add(seq)
    if (this.sentSeqs.size > rememberedSeqs) this.sentSeqs.delete(this.sentSeqs.values().next().value as number)
    if (this.sentMessageIds === undefined || messageId === undefined) return
    this.sentMessageIds.add(messageId)
    if (this.sentMessageIds.size > rememberedSeqs) this.sentMessageIds.delete(this.sentMessageIds.values().next().value as string)
  }

  private announceSkipped(): void {
    const count = this.skipped
    this.skipped = 0
    this.writer.write(sseFrame('skipped', JSON.stringify({kind: 'skipped', count})))
  }

  /** Past the bound, write() has answered false, so 'drain' comes once the reader took it all. */
  private announceWhenDrained(): void {
    if (this.drainAwaited) return
    this.drainAwaited = true
    this.writer.onDrain(() => {
      this.drainAwaited = false
      if (!this.closed && !this.held && this.skipped > 0) this.announceSkipped()
    })
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
 * The daemon's live stream: events as they are committed, then each delivery outcome, and what
 * user functions did to them. It costs
 * nothing while nobody reads; each item is serialised once, whatever the number of readers.
 * History is sent a slice per turn of the event loop, each reader's at the pace it reads.
 */
export class StreamHub {
  private readonly readers = new Set<Reader>()
  private readonly turns = new TurnQueue()
  readonly limits: StreamHubLimits

  constructor(limits: Partial<StreamHubLimits> = {}) {
    this.limits = {readers: limits.readers ?? maxStreamReaders, queuedBytes: limits.queuedBytes ?? maxQueuedBytes}
  }

  get readerCount(): number {
    return this.readers.size
  }

  get full(): boolean {
    return this.readers.size >= this.limits.readers
  }

  /**
   * Adds a reader: its history first (create the cursor in this same turn, so that no event falls
   * between history and live), then live items. Deliveries follow the events it was sent.
   */
  subscribe(writer: StreamWriter, filter: StreamFilter, history?: HistoryCursor): {unsubscribe: () => void} {
    const reader = new Reader(writer, filter, this.limits.queuedBytes)
    this.readers.add(reader)
    if (history) this.turns.add(() => this.sendHistory(reader, history, firstSliceEvents))
    else reader.goLive()
    return {
      unsubscribe: () => {
        reader.closed = true
        this.readers.delete(reader)
      },
    }
  }

  /**
   * One slice of a reader's history. The next slice waits its turn, and for drain when the
   * reader is behind; its size follows the size of this one's events.
   */
  private sendHistory(reader: Reader, history: HistoryCursor, most: number): void {
    if (reader.closed) return
    let events: StreamEvent[] | undefined
    try {
      events = history.next(most)
    } catch {
      // The store failed under it (closing, or busy): end the stream; the reader reconnects.
      reader.closed = true
      this.readers.delete(reader)
      reader.writer.end()
      return
    }
    if (events === undefined) {
      reader.goLive()
      return
    }
    if (events.length === 0) return this.turns.add(() => this.sendHistory(reader, history, most))
    const frames = events.map((event) => sseFrame('event', JSON.stringify(event), event.seq)).join('')
    const nextMost = Math.max(1, Math.min(historySliceEvents, Math.floor((historySliceBytes * events.length) / frames.length)))
    const next = () => this.turns.add(() => this.sendHistory(reader, history, nextMost))
    const seqs = events.map((event) => event.seq)
    if (reader.sendHistory(frames, seqs, events.map((event) => event.messageId))) next()
    else reader.writer.onDrain(next)
  }

  /** Ends every reader's stream: the daemon is stopping, and open streams would hold it up. */
  close(): void {
    for (const reader of this.readers) {
      reader.closed = true
      reader.writer.end()
    }
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
        reader.send(frame, seq, rows[i].messageId)
      }
    }
  }

  /**
   * What user functions did, as the daemon's run log is handed them (at once, before they are
   * stored): to every reader without a filter, and to filtered readers as functionRunFilter says.
   * Live only: history does not replay them.
   */
  publishFunctionRuns(records: readonly FunctionRunRecord[]): void {
    if (this.readers.size === 0) return
    for (const run of records) {
      let frame: string | undefined
      for (const reader of this.readers) {
        if (!reader.takesFunctionRun(run)) continue
        frame ??= sseFrame('function', JSON.stringify({kind: 'function', run}))
        reader.send(frame)
      }
    }
  }

  /** Where replays stand (a replay that changed since the last look), to every reader. */
  publishReplays(replays: readonly StreamReplay['replay'][]): void {
    if (this.readers.size === 0 || replays.length === 0) return
    const frames = replays.map((replay) => sseFrame('replay', JSON.stringify({kind: 'replay', replay}))).join('')
    for (const reader of this.readers) reader.send(frames)
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
