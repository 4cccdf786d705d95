import {describe, expect, it} from 'vitest'
import {SseParser} from '../../src/stream/client.js'
import type {HistoryCursor} from '../../src/stream/history.js'
import {StreamHub, type StreamWriter} from '../../src/stream/hub.js'
import type {StreamEvent, StreamItem} from '../../src/stream/types.js'
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
