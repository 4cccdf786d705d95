import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {messageTypes, type MessageType} from '../../src/message/types.js'
import {destinationMatch, eventMatch, type EventMatch} from '../../src/store/filter-spec.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {DestinationFilter, NewEvent} from '../../src/store/types.js'
import {streamEventMatch} from '../../src/stream/filter.js'
import {StreamHub, type StreamWriter} from '../../src/stream/hub.js'
import type {StreamFilter} from '../../src/stream/types.js'

/**
 * Each filter has two forms, SQL for the store and a test for an event in hand (src/store/filter-spec.ts).
 * The same random events go through both, under many random filters, and every answer must be the same:
 * the SQL through a real SQLite store (the queries the daemon runs), the other through the code that
 * uses it (the live stream's readers, a destination's filter). Seeded: a failure reproduces.
 */

const seed = 20_261_201
const eventCount = 2000
const filterCount = 250

/** mulberry32: a small seeded generator, enough to pick test data. */
function random(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const next = random(seed)
const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]
const chance = (p: number): boolean => next() < p
/** Some of the values, in any order, possibly none. */
const someOf = <T>(values: readonly T[]): T[] => values.filter(() => chance(0.4)).sort(() => next() - 0.5)

// Small pools, so that filters match some events and miss others; values absent from every event too.
const names = ['Order Completed', 'Product Viewed', 'Signed Up', 'Home', 'Ürün Görüntülendi']
const sources = ['web', 'ios', 'server']
const users = ['u1', 'u2', 'u3', 'a1', 'Zoë']
const anonymousIds = ['a1', 'a2', 'u1', 'Zoë']
const day = Date.parse('2026-11-30T00:00:00.000Z')
// Few distinct times, so that a since equal to an event's timestamp is common (at or after, not after).
const times = Array.from({length: 60}, (_, i) => new Date(day + i * 2_880_000 + (i % 7) * 137).toISOString())
const timestamp = (): string => pick(times)

function randomEvent(n: number): NewEvent {
  const type = pick(messageTypes)
  const named = type === 'track' || type === 'page' || type === 'screen'
  const valid = pick([null, true, false])
  const message = JSON.stringify({type, messageId: `m-${n}`})
  return {
    messageId: `m-${n}`,
    source: pick(sources),
    type,
    event: named && chance(0.9) ? pick(names) : null,
    userId: chance(0.7) ? pick(users) : null,
    anonymousId: chance(0.6) ? pick(anonymousIds) : null,
    timestamp: timestamp(),
    receivedAt: timestamp(),
    raw: message,
    message,
    valid,
    // As the pipeline stores them: an event breaks its plan exactly when it has violations.
    violations: valid === false ? [{kind: 'wrong_type', path: 'properties.price', expected: 'number', actual: 'string', message: 'price must be a number'}] : [],
    policy: pick([null, null, 'blocked', 'omitted'] as const),
  }
}

const typesAndMore: readonly string[] = [...messageTypes, 'unknown']

function randomEventMatch(): EventMatch {
  const match: EventMatch = {}
  if (chance(0.4)) match.type = pick(typesAndMore)
  if (chance(0.3)) match.event = pick([...names, 'Never Sent', ''])
  if (chance(0.3)) match.user = pick([...users, ...anonymousIds, 'nobody', ''])
  if (chance(0.3)) match.source = pick([...sources, 'android'])
  if (chance(0.3)) match.since = timestamp()
  if (chance(0.3)) match.valid = chance(0.5)
  // cdp replay's: lists of types and names (any of them; an empty list sets nothing), and an end.
  if (chance(0.2)) match.types = someOf(typesAndMore)
  if (chance(0.2)) match.events = someOf([...names, 'Never Sent'])
  if (chance(0.2)) match.until = timestamp()
  return match
}

function randomStreamFilter(): StreamFilter {
  const filter: StreamFilter = {}
  if (chance(0.4)) filter.type = pick(messageTypes) as MessageType
  if (chance(0.3)) filter.event = pick([...names, 'Never Sent'])
  if (chance(0.3)) filter.user = pick([...users, ...anonymousIds, 'nobody'])
  if (chance(0.3)) filter.source = pick([...sources, 'android'])
  if (chance(0.3)) filter.violations = true
  return filter
}

function randomDestinationFilter(): DestinationFilter {
  const filter: {types?: string[]; events?: string[]; sources?: string[]} = {}
  if (chance(0.5)) filter.types = someOf(typesAndMore)
  if (chance(0.5)) filter.events = someOf([...names, 'Never Sent'])
  if (chance(0.5)) filter.sources = someOf([...sources, 'android'])
  return filter
}

/** A reader that takes everything at once and keeps the seq of each event it was sent. */
/** The same seqs in the same order; vitest's diff only when they differ (a deep comparison of every pair costs seconds here). */
function expectSame(actual: readonly number[], expected: readonly number[], filter: object): void {
  if (actual.length === expected.length && actual.every((seq, i) => seq === expected[i])) return
  expect(actual, JSON.stringify(filter)).toEqual(expected)
}

class SeqCollector implements StreamWriter {
  readonly seqs: number[] = []
  write(frame: string): boolean {
    for (const match of frame.matchAll(/^id: (\d+)$/gm)) this.seqs.push(Number(match[1]))
    return true
  }
  queuedBytes(): number {
    return 0
  }
  onDrain(): void {}
  end(): void {}
}

describe('filters: the SQL form and the in-hand form give the same answers', () => {
  let dir: string
  let store: SqliteStore
  const events: NewEvent[] = Array.from({length: eventCount}, (_, i) => randomEvent(i))
  let stored: (NewEvent & {seq: number})[]
  const all = {limit: eventCount * 2}

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-filter-spec-'))
    store = new SqliteStore(path.join(dir, 'cdp.sqlite'))
    const result = await store.appendEvents(events)
    stored = events.map((event, i) => ({...event, seq: result.seqs![i]}))
  })

  afterAll(() => {
    store?.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it('the events filter: the store query and the test of an event in hand take the same events', async () => {
    // Given 2,000 stored events and 250 random filters over every field
    for (let i = 0; i < filterCount; i++) {
      const match = randomEventMatch()
      // When each is answered by the store and by the in-hand test
      const fromStore = await store.seqsAfter(0, {...match, ...all})
      const inHand = stored.filter(eventMatch.matcher(match)).map((event) => event.seq)
      // Then they are the same events
      expectSame(inHand, fromStore, match)
    }
  })

  it("the stream's live readers take what its history reads from the store", async () => {
    // Given readers with 250 random stream filters
    const hub = new StreamHub({readers: filterCount, queuedBytes: Number.MAX_SAFE_INTEGER})
    const readers = Array.from({length: filterCount}, () => {
      const filter = randomStreamFilter()
      const writer = new SeqCollector()
      hub.subscribe(writer, filter)
      return {filter, writer}
    })
    // When the 2,000 events are published live
    hub.publishEvents(events, {inserted: stored.length, duplicates: 0, stored: stored.map(() => true), seqs: stored.map((event) => event.seq)})
    // Then each reader was sent exactly the events the store answers for its filter
    for (const {filter, writer} of readers) {
      const fromStore = await store.seqsAfter(0, {...streamEventMatch(filter), ...all})
      expectSame(writer.seqs, fromStore, filter)
    }
    hub.close()
  })

  it("a destination's filter: the store's queue and count and the test of an event in hand take the same events", async () => {
    // Given 250 random destination filters (lists absent, empty, or of values that may not occur)
    for (let i = 0; i < filterCount; i++) {
      const filter = randomDestinationFilter()
      // When the store queues and counts events for it, and the in-hand test looks at each event
      const queued = await store.deliveries.queuedEvents(0, filter, eventCount * 2)
      const counts = await store.deliveries.countDeliveries('property-test', 0, filter)
      const inHand = stored.filter(destinationMatch.matcher(filter)).map((event) => event.seq)
      // Then they agree
      expectSame(inHand, queued.events.map((event) => event.seq), filter)
      expect(counts.pending, JSON.stringify(filter)).toBe(inHand.length)
    }
  })

  it('the random filters are not trivial: some take nothing, some take everything, most take some', async () => {
    const sizes = new Set<string>()
    for (let i = 0; i < 100; i++) {
      const n = (await store.seqsAfter(0, {...randomEventMatch(), ...all})).length
      sizes.add(n === 0 ? 'none' : n === eventCount ? 'all' : 'some')
    }
    expect([...sizes].sort()).toEqual(['all', 'none', 'some'])
  })
})
