import {describe, expect, it} from 'vitest'
import {SseParser} from '../../src/stream/client.js'
import type {HistoryCursor} from '../../src/stream/history.js'
import {StreamHub, type StreamWriter} from '../../src/stream/hub.js'
import type {StreamEvent, StreamFilter, StreamItem} from '../../src/stream/types.js'
import type {NewEvent} from '../../src/store/types.js'

/**
 * The hub's contract with a connection, step by step: what it writes while the reader has not
 * taken anything, when it drops, when it waits. A connection whose reader takes data only when
 * told makes each step observable (the socket tests in backpressure.test.ts and
 * reader-limits.test.ts show the same end to end).
 */

/** A connection as the hub sees a ServerResponse: write() answers false past 16 KB queued. */
class Connection implements StreamWriter {
  private queued: string[] = []
  private taken = ''
  private drainListeners: (() => void)[] = []
  ended = false

  write(frame: string): boolean {
    this.queued.push(frame)
    return this.queuedBytes() < 16 * 1024
  }

  queuedBytes(): number {
    return this.queued.reduce((sum, frame) => sum + frame.length, 0)
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener)
  }

  end(): void {
    this.ended = true
  }

  /** The reader takes everything queued; the connection drains. */
  take(): void {
    this.taken += this.queued.join('')
    this.queued = []
    const listeners = this.drainListeners
    this.drainListeners = []
    for (const listener of listeners) listener()
  }

  items(): StreamItem[] {
    return new SseParser().push(this.taken)
  }
}

const padding = 'x'.repeat(600)

function row(n: number): NewEvent {
  const message = JSON.stringify({type: 'track', event: 'Product Viewed', messageId: `live-${n}`, properties: {padding}})
  return {
    messageId: `live-${n}`,
    source: 'web',
    type: 'track',
    event: 'Product Viewed',
    userId: 'u',
    anonymousId: null,
    timestamp: '2026-03-01T12:00:00.000Z',
    receivedAt: '2026-03-01T12:00:00.000Z',
    raw: message,
    message,
    valid: null,
    violations: [],
    policy: null,
  }
}

/** Publishes live events with seqs from..to as one commit. */
function publish(hub: StreamHub, from: number, to: number): void {
  const rows = Array.from({length: to - from + 1}, (_, i) => row(from + i))
  hub.publishEvents(rows, {inserted: rows.length, duplicates: 0, stored: rows.map(() => true), seqs: rows.map((_, i) => from + i)})
}

/** A stored history of `count` events with seqs 1..count, handed out as the hub asks. */
function history(count: number): HistoryCursor & {calls: number[]} {
  let next = 1
  const calls: number[] = []
  return {
    calls,
    next(most) {
      calls.push(most)
      if (next > count) return undefined
      const events: StreamEvent[] = []
      for (; next <= count && events.length < most; next++) {
        events.push({kind: 'event', seq: next, messageId: `stored-${next}`, source: 'web', type: 'track', name: 'Product Viewed', message: {padding}} as unknown as StreamEvent)
      }
      return events
    },
  }
}

/** Lets the hub's turns run (each history slice takes one turn of the event loop). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

const ids = (items: StreamItem[]) => items.map((item) => (item.kind === 'event' ? item.messageId : `${item.kind}:${item.kind === 'skipped' ? item.count : ''}`))

describe('stream hub and a connection', () => {
  it('writes every live event while less than the bound is queued, though write() answers false past 16 KB', () => {
    const hub = new StreamHub({queuedBytes: 1024 * 1024})
    const connection = new Connection()
    hub.subscribe(connection, {})

    // 100 events of ~900 bytes as one commit: ~90 KB, five times the high-water mark
    publish(hub, 1, 100)
    connection.take()

    expect(ids(connection.items())).toEqual(Array.from({length: 100}, (_, i) => `live-${i + 1}`))
  })

  it('drops past the bound, counts, and says how many once the reader has taken what was queued', () => {
    const hub = new StreamHub({queuedBytes: 50_000})
    const connection = new Connection()
    hub.subscribe(connection, {})

    publish(hub, 1, 200)
    const written = connection.queuedBytes()
    expect(written).toBeGreaterThanOrEqual(50_000)
    expect(written).toBeLessThan(52_000)
    connection.take()
    publish(hub, 201, 201)
    connection.take()

    const items = connection.items()
    const events = items.filter((item) => item.kind === 'event').length - 1
    expect(ids(items)).toEqual([...Array.from({length: events}, (_, i) => `live-${i + 1}`), `skipped:${200 - events}`, 'live-201'])
  })

  it('sends history a slice at a time, waiting for the reader to take each, and never skips any', async () => {
    const hub = new StreamHub()
    const connection = new Connection()
    const stored = history(1000)
    hub.subscribe(connection, {}, stored)

    // The reader takes nothing: after many turns only the first slice was read and written.
    await turns()
    expect(stored.calls).toHaveLength(1)
    expect(connection.queuedBytes()).toBeGreaterThan(0)
    expect(connection.queuedBytes()).toBeLessThan(32 * 1024)

    // As the reader takes, the rest follows, sized to ~256 KB slices.
    for (let round = 0; round < 200 && connection.items().length < 1000; round++) {
      connection.take()
      await turns(2)
    }
    connection.take()
    expect(ids(connection.items())).toEqual(Array.from({length: 1000}, (_, i) => `stored-${i + 1}`))
    expect(Math.max(...stored.calls)).toBeLessThanOrEqual(100)
  })

  it('holds live events behind the history, up to the bound; drops the rest and says so after them', async () => {
    const hub = new StreamHub({queuedBytes: 20_000})
    const connection = new Connection()
    hub.subscribe(connection, {}, history(30))

    // 100 live events (~110 KB as frames) come before the reader took any history
    publish(hub, 31, 130)
    for (let round = 0; round < 50; round++) {
      connection.take()
      await turns(2)
    }

    const items = ids(connection.items())
    const held = items.filter((id) => id.startsWith('live-')).length
    expect(held).toBeGreaterThan(10)
    expect(items).toEqual([
      ...Array.from({length: 30}, (_, i) => `stored-${i + 1}`),
      ...Array.from({length: held}, (_, i) => `live-${31 + i}`),
      `skipped:${100 - held}`,
    ])
  })

  it('is full at its reader limit until a reader leaves', () => {
    const hub = new StreamHub({readers: 2})
    const first = hub.subscribe(new Connection(), {})
    hub.subscribe(new Connection(), {})
    expect(hub.full).toBe(true)
    first.unsubscribe()
    expect(hub.full).toBe(false)
  })
})

describe('stream hub: what goes to which reader', () => {
  /** Publishes rows as one commit with the seqs the store gave them; 0 is a duplicate it did not keep. */
  function commit(hub: StreamHub, rows: NewEvent[], seqs: number[]): void {
    hub.publishEvents(rows, {inserted: seqs.filter(Boolean).length, duplicates: seqs.filter((seq) => !seq).length, stored: seqs.map(Boolean), seqs})
  }

  function reader(hub: StreamHub, filter: StreamFilter = {}): Connection & {unsubscribe: () => void} {
    const connection = new Connection()
    return Object.assign(connection, hub.subscribe(connection, filter))
  }

  const taken = (connection: Connection) => {
    connection.take()
    return ids(connection.items())
  }

  it("sends each live event to the readers whose filter takes it: type, event, source, user, violations", () => {
    const hub = new StreamHub()
    const all = reader(hub)
    const identifies = reader(hub, {type: 'identify'})
    const viewed = reader(hub, {event: 'Product Viewed'})
    const server = reader(hub, {source: 'server'})
    const anon = reader(hub, {user: 'anon-9'})
    const failing = reader(hub, {violations: true})
    commit(
      hub,
      [
        row(1),
        {...row(2), type: 'identify', event: null},
        {...row(3), source: 'server', event: 'Order Completed'},
        {...row(4), userId: null, anonymousId: 'anon-9', valid: false, violations: [{kind: 'unplanned_event', path: 'event', expected: 'a planned event', actual: 'Product Viewed', message: 'unplanned'}]},
      ],
      [1, 2, 3, 4],
    )
    expect(taken(all)).toEqual(['live-1', 'live-2', 'live-3', 'live-4'])
    expect(taken(identifies)).toEqual(['live-2'])
    expect(taken(viewed)).toEqual(['live-1', 'live-4'])
    expect(taken(server)).toEqual(['live-3'])
    expect(taken(anon)).toEqual(['live-4'])
    expect(taken(failing)).toEqual(['live-4'])
  })

  it('leaves out duplicates (seq 0): they were not stored now', () => {
    const hub = new StreamHub()
    const connection = reader(hub)
    commit(hub, [row(1), row(2), row(3)], [7, 0, 8])
    connection.take()
    expect(connection.items().map((item) => (item.kind === 'event' ? [item.messageId, item.seq] : item.kind))).toEqual([
      ['live-1', 7],
      ['live-3', 8],
    ])
  })

  it("sends a delivery outcome only to the readers that were sent its event, after it", () => {
    const hub = new StreamHub()
    const identifies = reader(hub, {type: 'identify'})
    const all = reader(hub)
    commit(hub, [row(1), {...row(2), type: 'identify', event: null}], [1, 2])
    hub.publishDeliveries([
      {destination: 'hook', seq: 1, messageId: 'live-1', status: 'delivered', attempts: 1},
      {destination: 'hook', seq: 2, messageId: 'live-2', status: 'retrying', attempts: 1, httpStatus: 503, error: 'HTTP 503', nextAttemptAt: 5000},
      // An event sent before the reader came: not its business.
      {destination: 'hook', seq: 99, messageId: 'earlier', status: 'delivered', attempts: 1},
    ])
    expect(taken(all)).toEqual(['live-1', 'live-2', 'delivery:', 'delivery:'])
    identifies.take()
    expect(identifies.items()).toEqual([
      expect.objectContaining({kind: 'event', messageId: 'live-2'}),
      {kind: 'delivery', destination: 'hook', seq: 2, messageId: 'live-2', status: 'retrying', attempts: 1, httpStatus: 503, error: 'HTTP 503', nextAttemptAt: 5000},
    ])
  })

  it('after unsubscribe a reader gets nothing more; close() ends every open stream', () => {
    const hub = new StreamHub()
    const leaving = reader(hub)
    const staying = reader(hub)
    commit(hub, [row(1)], [1])
    leaving.unsubscribe()
    commit(hub, [row(2)], [2])
    expect(taken(leaving)).toEqual(['live-1'])
    expect(hub.readerCount).toBe(1)

    hub.close()
    expect(staying.ended).toBe(true)
    expect(leaving.ended).toBe(false)
    expect(hub.readerCount).toBe(0)
  })

  it('a history cursor that fails (the store closing) ends that stream; the reader reconnects', async () => {
    const hub = new StreamHub()
    const connection = new Connection()
    hub.subscribe(connection, {}, {
      next() {
        throw new Error('the database connection is not open')
      },
    })
    await turns(2)
    expect(connection.ended).toBe(true)
    expect(hub.readerCount).toBe(0)
  })
})
