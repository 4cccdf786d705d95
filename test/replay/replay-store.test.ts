import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {DestinationConfig} from '../../src/config/schema.js'
import {DeliveryError, type DestinationAdapter, type OutgoingEvent} from '../../src/delivery/types.js'
import {DestinationWorker} from '../../src/delivery/worker.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {toNewEvent} from '../../src/pipeline/pipeline.js'
import {openArchiveReader} from '../../src/replay/archive-reader.js'
import {createReplayWorkerStore, withIntegrations, type ReplayWorkerStore} from '../../src/replay/replay-store.js'
import {openStoreReader} from '../../src/replay/store-reader.js'
import type {ReplayReader, ReplaySelection} from '../../src/replay/types.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {memoryLogger} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir} from '../helpers/workspace.js'

/**
 * A replay's bookkeeping under the real DestinationWorker (src/delivery/worker.ts), over a real
 * SQLite store, with a fake adapter that records each send and answers as the test says: what
 * arrives (every event once, in order, `integrations` naming only the target), what a failing
 * event costs (a dead letter, counted failed, its message kept), where the checkpoint may be
 * (never past an event not confirmed), the destination's filter (counted skipped) and the rate cap.
 */

type Answer = (events: readonly OutgoingEvent[], signal: AbortSignal) => void | Promise<void>

class FakeDestination implements DestinationAdapter {
  readonly sends: {at: number; ids: string[]; messages: Record<string, unknown>[]}[] = []

  constructor(private readonly answer: Answer = () => {}) {}

  async send(batch: readonly OutgoingEvent[], signal: AbortSignal): Promise<void> {
    this.sends.push({at: Date.now(), ids: batch.map((event) => event.messageId), messages: batch.map((event) => JSON.parse(event.json))})
    await this.answer(batch, signal)
  }

  async close(): Promise<void> {}

  get ids(): string[] {
    return this.sends.flatMap((send) => send.ids)
  }
}

let store: SqliteStore
let dir: string
let cleanup: () => void
const running: {worker: DestinationWorker; reader: ReplayReader}[] = []

beforeEach(() => {
  const temp = tempDir('cdp-replay-store-')
  dir = temp.dir
  cleanup = temp.cleanup
  store = new SqliteStore(path.join(dir, 'cdp.sqlite'))
})

afterEach(async () => {
  for (const {worker, reader} of running.splice(0)) {
    await worker.stop()
    await reader.close()
  }
  store.close()
  cleanup()
})

const at = (i: number) => new Date(Date.parse('2026-10-01T00:00:00.000Z') + i * 1000).toISOString()

/** Stores events e1…eN (user u(i % users)); identify for the numbers in `identifies`. */
function storeEvents(count: number, options: {users?: number; identifies?: (i: number) => boolean} = {}): string[] {
  const rows = Array.from({length: count}, (_, index) => {
    const i = index + 1
    const identify = options.identifies?.(i) ?? false
    const message = {
      type: identify ? 'identify' : 'track',
      ...(identify ? {traits: {i}} : {event: 'Order Completed', properties: {i}}),
      userId: `u${i % (options.users ?? 3)}`,
      messageId: `e${i}`,
      context: {consent: {categoryPreferences: {analytics: true}}},
      integrations: {All: true, Mixpanel: false},
      timestamp: at(i),
      receivedAt: at(i),
    } as unknown as SegmentMessage
    return toNewEvent('web', message, JSON.stringify(message))
  })
  store.appendEvents(rows)
  return rows.map((row) => row.messageId)
}

function config(more: Partial<DestinationConfig> = {}): DestinationConfig {
  return {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/', batchSize: 10, concurrency: 1, ...more} as DestinationConfig
}

/** Starts the replay's worker, as the runner does: the real worker on the replay's store. */
function start(replayId: string, reader: ReplayReader, adapter: FakeDestination, destination = config(), rate?: number): {worker: DestinationWorker; replayStore: ReplayWorkerStore} {
  const replayStore = createReplayWorkerStore({replays: store.replays, reader, replayId, destination: destination.name, rate})
  const worker = new DestinationWorker({config: destination, adapter, store: replayStore, log: memoryLogger(), pollMs: 10, lingerMs: 0})
  running.push({worker, reader})
  worker.wake()
  return {worker, replayStore}
}

async function stop(worker: DestinationWorker): Promise<void> {
  const index = running.findIndex((entry) => entry.worker === worker)
  const [entry] = running.splice(index, 1)
  await entry.worker.stop()
  await entry.reader.close()
}

function storeReplay(selection: Partial<ReplaySelection> = {}): {id: string; reader: ReplayReader} {
  const replay = store.replays.create({destination: 'hook', ...selection})
  return {id: replay.id, reader: openStoreReader(store, replay.selection, replay.through)}
}

describe('a replay through the real DestinationWorker', () => {
  it('sends every selected event once, in order, with integrations naming only the target and the rest kept', async () => {
    // Given 45 stored events, and a replay of those from e6 on
    const ids = storeEvents(45)
    const {id, reader} = storeReplay({since: at(6)})
    // When the worker runs on the replay's store until it is settled
    const adapter = new FakeDestination()
    const {worker, replayStore} = start(id, reader, adapter)
    // Events stored after the replay began are not part of it
    storeEvents(0)
    store.appendEvents([toNewEvent('web', {type: 'track', event: 'Late', userId: 'u1', messageId: 'late', timestamp: at(99), receivedAt: at(99)} as unknown as SegmentMessage, '{}')])
    await waitFor('the replay to settle', () => replayStore.settled())
    await stop(worker)
    // Then each event arrived once, in order, with only the target in integrations and everything else as stored
    expect(adapter.ids).toEqual(ids.slice(5))
    const first = adapter.sends[0].messages[0]
    expect(first).toMatchObject({messageId: 'e6', timestamp: at(6), receivedAt: at(6), context: {consent: {categoryPreferences: {analytics: true}}}, properties: {i: 6}})
    expect(first.integrations).toEqual({All: false, hook: true})
    expect(adapter.sends.every((send) => send.messages.every((message) => JSON.stringify(message.integrations) === '{"All":false,"hook":true}'))).toBe(true)
    // And the replay's record says so, its checkpoint at the end of what it read
    expect(store.replays.get(id)).toMatchObject({checkpoint: 45, counts: {sent: 40, failed: 0, skipped: 0}})
    expect(replayStore.progress().counts).toMatchObject({sent: 40, failed: 0, skipped: 0})
    // And the destination's live cursor was never opened or moved
    expect(store.deliveries.destinationState('hook')).toBeUndefined()
  })

  it('dead-letters an event the destination refuses, counts it failed, and keeps the message it sent (an archive event too)', async () => {
    // Given an archive of 12 events of which the destination refuses e7
    const file = path.join(dir, 'archive.ndjson')
    writeFileSync(file, Array.from({length: 12}, (_, i) => JSON.stringify({type: 'track', event: 'Viewed', userId: `u${i % 4}`, messageId: `e${i + 1}`, timestamp: at(i)})).join('\n'))
    const replay = store.replays.create({destination: 'hook', files: [file]})
    const reader = await openArchiveReader(replay.selection)
    const adapter = new FakeDestination((batch) => {
      if (batch.some((event) => event.messageId === 'e7')) throw new DeliveryError('HTTP 400: bad event', {retryable: false, status: 400})
    })
    // When replayed
    const {worker, replayStore} = start(replay.id, reader, adapter)
    await waitFor('the replay to settle', () => replayStore.settled())
    await stop(worker)
    // Then every other event was delivered and e7 is a dead letter with its message as sent
    const delivered = adapter.sends.filter((send) => !send.ids.includes('e7')).flatMap((send) => send.ids)
    expect(delivered.sort()).toEqual(Array.from({length: 12}, (_, i) => `e${i + 1}`).filter((id) => id !== 'e7').sort())
    expect(store.replays.get(replay.id)).toMatchObject({checkpoint: 12, counts: {sent: 11, failed: 1, skipped: 0}})
    const [dead] = store.replays.records(replay.id, {status: 'dead', limit: 10})
    expect(dead).toMatchObject({seq: 7, messageId: 'e7', source: 'archive', userKey: 'u2', status: 'dead', lastStatus: 400, attempts: 1})
    expect(JSON.parse(dead.message)).toMatchObject({messageId: 'e7', event: 'Viewed', integrations: {All: false, hook: true}})
    expect(replayStore.progress().lastError).toBe('HTTP 400: bad event')
  })

  it('keeps the checkpoint behind what the destination has not confirmed; a resumed replay sends the rest', async () => {
    // Given 30 stored events and a destination that takes the first batch and then hangs until stopped
    const ids = storeEvents(30, {users: 1})
    const {id, reader} = storeReplay()
    let taken = 0
    const adapter = new FakeDestination(async (_batch, signal) => {
      if (taken++ === 0) return
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    })
    const {worker, replayStore} = start(id, reader, adapter)
    await waitFor('the second batch to be sent', () => adapter.sends.length === 2)
    // When the replay is stopped part way (Ctrl-C)
    await stop(worker)
    // Then its checkpoint is after the confirmed batch only, and it is not settled
    expect(store.replays.get(id)).toMatchObject({checkpoint: 10, counts: {sent: 10}})
    expect(replayStore.settled()).toBe(false)
    // When it is resumed with a destination that takes everything
    const resumedAdapter = new FakeDestination()
    const resumed = start(id, openStoreReader(store, {destination: 'hook'}, 30), resumedAdapter)
    await waitFor('the resumed replay to settle', () => resumed.replayStore.settled())
    await stop(resumed.worker)
    // Then the rest arrives, and nothing confirmed is sent twice
    expect(resumedAdapter.ids).toEqual(ids.slice(10))
    expect(store.replays.get(id)).toMatchObject({checkpoint: 30, counts: {sent: 30, failed: 0}})
  })

  it('is not settled while an event is retrying; its user waits, others go on; the retry settles it', async () => {
    // Given a destination that fails e4 once (retryable), with a short backoff
    storeEvents(12, {users: 3})
    const {id, reader} = storeReplay()
    let failedOnce = false
    const adapter = new FakeDestination((batch) => {
      if (!failedOnce && batch.some((event) => event.messageId === 'e4')) {
        failedOnce = true
        throw new DeliveryError('HTTP 503', {retryable: true, status: 503})
      }
    })
    const {worker, replayStore} = start(id, reader, adapter, config({batchSize: 1, concurrency: 3, retry: {initialDelayMs: 300, maxDelayMs: 300, maxAttempts: 3}}))
    // When the failure is recorded
    await waitFor('e4 to be recorded as retrying', () => store.replays.countOpen(id) > 0)
    // Then the replay is not settled while it is open
    expect(replayStore.settled()).toBe(false)
    await waitFor('the replay to settle', () => replayStore.settled())
    await stop(worker)
    expect(adapter.ids.filter((messageId) => messageId === 'e4')).toHaveLength(2)
    expect(store.replays.get(id)).toMatchObject({checkpoint: 12, counts: {sent: 12, failed: 0}})
    // e4's record, and those of its user's events held behind it, all delivered in the end
    const records = store.replays.records(id, {limit: 10})
    expect(records[0]).toMatchObject({messageId: 'e4', status: 'delivered', attempts: 2})
    expect(records.every((record) => record.status === 'delivered' && record.userKey === 'u1')).toBe(true)
    // The events of e4's user after it were sent after it
    const u1 = adapter.ids.filter((messageId) => Number(messageId.slice(1)) % 3 === 1)
    expect(u1.slice(u1.lastIndexOf('e4'))).toEqual(['e4', 'e7', 'e10'])
  })

  it("counts what the destination's own filter leaves out as skipped", async () => {
    // Given 20 events of which every fourth is an identify, and a destination that takes only track
    storeEvents(20, {identifies: (i) => i % 4 === 0})
    const {id, reader} = storeReplay()
    const adapter = new FakeDestination()
    const {worker, replayStore} = start(id, reader, adapter, config({types: ['track']}))
    await waitFor('the replay to settle', () => replayStore.settled())
    await stop(worker)
    expect(adapter.ids).toHaveLength(15)
    expect(adapter.ids.some((messageId) => Number(messageId.slice(1)) % 4 === 0)).toBe(false)
    expect(store.replays.get(id)).toMatchObject({checkpoint: 20, counts: {sent: 15, skipped: 5, failed: 0}})
  })

  it('holds to the rate cap', async () => {
    // Given 120 events and a cap of 200 events per second
    storeEvents(120)
    const {id, reader} = storeReplay({rate: 200})
    const adapter = new FakeDestination()
    const began = Date.now()
    const {worker, replayStore} = start(id, reader, adapter, config({batchSize: 50}))
    await waitFor('the replay to settle', () => replayStore.settled())
    const seconds = (Date.now() - began) / 1000
    await stop(worker)
    // Then all were sent, no faster than the cap allows (a burst of a tenth of a second's worth, then 200/s)
    expect(adapter.ids).toHaveLength(120)
    expect(seconds).toBeGreaterThanOrEqual((120 - 20) / 200 - 0.05)
    // And no send carried more than the bucket holds
    expect(Math.max(...adapter.sends.map((send) => send.ids.length))).toBeLessThanOrEqual(20)
  })
})

describe('withIntegrations', () => {
  const target = JSON.stringify({All: false, hook: true})
  const expected = (json: string) => {
    const message = JSON.parse(json)
    message.integrations = {All: false, hook: true}
    return message
  }

  it('replaces the top-level integrations only, keeping every other byte, whatever the strings hold', () => {
    const tricky = [
      {type: 'track', integrations: {All: true, 'Google Analytics': {clientId: '1'}}, event: 'x'},
      {integrations: null, type: 'track'},
      {type: 'track', properties: {integrations: {nested: true}, note: '"integrations":{"All":true}'}, integrations: ['a', {b: 1}], z: 1},
      {type: 'track', event: 'quote \\" and \\\\', integrations: 'text, with } and ]', after: [1, {c: '}'}]},
      {type: 'track', integrations: 12.5e3},
      {type: 'track', integrations: true, last: false},
      {type: 'identify', traits: {name: 'Zoë 🎉', '\u0000': 'nul'}},
      {},
      JSON.parse('{"__proto__": {"polluted": true}, "type": "track", "integrations": {"__proto__": 1}}'),
    ]
    for (const message of tricky) {
      const json = JSON.stringify(message)
      const rewritten = withIntegrations(json, target)
      expect(JSON.parse(rewritten), json).toEqual(expected(json))
      // Everything outside integrations as it was
      if ('integrations' in message && Object.hasOwn(message, 'integrations')) {
        const original = JSON.stringify(message.integrations)
        expect(rewritten.replace(target, original)).toBe(json)
      }
    }
    // A "__proto__" key stays a key
    expect(Object.hasOwn(JSON.parse(withIntegrations(JSON.stringify(tricky[8]), target)), '__proto__')).toBe(true)
  })

  it('falls back to parsing what JSON.stringify would not have written', () => {
    const spaced = '{ "type": "track", "integrations": {"All": true} }'
    expect(JSON.parse(withIntegrations(spaced, target))).toEqual({type: 'track', integrations: {All: false, hook: true}})
  })
})
