import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import type {DestinationConfig, RetrySettings} from '../../src/config/schema.js'
import {DeliveryError, type DestinationAdapter, type OutgoingEvent} from '../../src/delivery/types.js'
import {DestinationWorker, type WorkerOptions} from '../../src/delivery/worker.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {toNewEvent} from '../../src/pipeline/pipeline.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {DeliveryOutcome, DeliveryStore} from '../../src/store/types.js'
import {memoryLogger} from '../helpers/daemon.js'
import {tempDir} from '../helpers/workspace.js'

/**
 * The delivery worker's contract, on a fake clock: when it sends (linger, retry backoff, the pause
 * a 429 asks for), in what order (one user's events in order; a retrying event holds back only
 * its user), what a refused batch costs (only the bad event is dead-lettered), and when the
 * cursor moves (only once the round's records are written). The store is the real SQLite one
 * (the bookkeeping of held users and due retries is its job, not a fake's); the destination is a
 * fake adapter that records each send and answers as the test says.
 */

/** What the fake destination answers to a send: nothing (accepted), or a DeliveryError thrown. */
type Answer = (ids: string[], signal: AbortSignal) => void | Promise<void>

class FakeDestination implements DestinationAdapter {
  /** Each send: when (ms after the test's start) and the messageIds in it. */
  readonly sends: {at: number; ids: string[]}[] = []
  closed = false

  constructor(
    private readonly started: number,
    private readonly answer: Answer = () => {},
  ) {}

  async send(batch: readonly OutgoingEvent[], signal: AbortSignal): Promise<void> {
    const ids = batch.map((event) => event.messageId)
    this.sends.push({at: Date.now() - this.started, ids})
    await this.answer(ids, signal)
  }

  async close(): Promise<void> {
    this.closed = true
  }

  /** When each attempt to send this event was made. */
  attemptsAt(messageId: string): number[] {
    return this.sends.filter((send) => send.ids.includes(messageId)).map((send) => send.at)
  }
}

const unavailable = () => new DeliveryError('HTTP 503: maintenance', {retryable: true, status: 503})

let store: SqliteStore
let cleanup: () => void
let started: number
const workers: DestinationWorker[] = []

beforeEach(() => {
  vi.useFakeTimers({now: Date.parse('2026-03-01T12:00:00.000Z')})
  // No jitter: each retry comes exactly at its backoff (initialDelay doubled after each failure).
  vi.spyOn(Math, 'random').mockReturnValue(0.5)
  started = Date.now()
  const temp = tempDir('cdp-worker-')
  cleanup = temp.cleanup
  store = new SqliteStore(path.join(temp.dir, 'cdp.sqlite'))
})

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop()
  store.close()
  cleanup()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

function destination(answer?: Answer): FakeDestination {
  return new FakeDestination(started, answer)
}

/** A webhook destination's worker over the real store (options.store swaps its bookkeeping: a failing write). */
function startWorker(adapter: FakeDestination, settings: {batchSize: number; concurrency: number; retry?: RetrySettings}, options: Partial<WorkerOptions> = {}): DestinationWorker {
  const config: DestinationConfig = {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/', ...settings}
  const worker = new DestinationWorker({config, adapter, store: store.deliveries, log: memoryLogger(), pollMs: 60_000, ...options})
  workers.push(worker)
  return worker
}

/** Stores track calls ("alice-1": user alice) as the pipeline would, and tells the worker, as the daemon does. */
function commit(worker: DestinationWorker, ...messageIds: string[]): number[] {
  const at = new Date().toISOString()
  const rows = messageIds.map((messageId) => {
    const message = {type: 'track', event: 'Order Completed', userId: messageId.split('-')[0], messageId, properties: {}, context: {}, timestamp: at, receivedAt: at} as unknown as SegmentMessage
    return toNewEvent('web', message, JSON.stringify(message))
  })
  const seqs = store.appendEvents(rows).seqs!
  worker.offer(rows, seqs)
  return seqs
}

const statusOf = (seqs: number[]) => store.deliveries.recordsOf(seqs).map(({seq, status, attempts}) => ({seq, status, attempts}))

describe('DestinationWorker', () => {
  it('retries a failing event at the backoff schedule (1 s, 2 s, 4 s) and dead-letters it at maxAttempts', async () => {
    const adapter = destination(() => {
      throw unavailable()
    })
    const worker = startWorker(adapter, {batchSize: 1, concurrency: 1, retry: {initialDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 4}}, {lingerMs: 0})
    const [seq] = commit(worker, 'alice-1')

    await vi.advanceTimersByTimeAsync(60_000)
    expect(adapter.attemptsAt('alice-1')).toEqual([0, 1000, 3000, 7000])
    expect(statusOf([seq])).toEqual([{seq, status: 'dead', attempts: 4}])
  })

  it('waits as long as Retry-After asks when that is longer than its backoff', async () => {
    let first = true
    const adapter = destination(() => {
      if (!first) return
      first = false
      throw new DeliveryError('HTTP 503', {retryable: true, status: 503, retryAfterMs: 30_000})
    })
    const worker = startWorker(adapter, {batchSize: 1, concurrency: 1, retry: {initialDelayMs: 1000, maxDelayMs: 8000}}, {lingerMs: 0})
    commit(worker, 'alice-1')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(adapter.attemptsAt('alice-1')).toEqual([0, 30_000])
  })

  it("keeps each user's events in order; a retrying event holds back only its own user", async () => {
    // Given a destination that refuses alice-1 twice; three lanes, where alice and bob share one
    // (users hash to lanes), one event a request, 200 ms of linger
    let refusals = 2
    const adapter = destination((ids) => {
      if (ids.includes('alice-1') && refusals-- > 0) throw unavailable()
    })
    const worker = startWorker(adapter, {batchSize: 1, concurrency: 3, retry: {initialDelayMs: 1000, maxDelayMs: 1000}}, {lingerMs: 200})

    // When alice's and bob's events come: alice-1 is refused at 200 ms, and its retry is due at 1,200
    commit(worker, 'alice-1', 'alice-2', 'bob-1', 'bob-2')
    await vi.advanceTimersByTimeAsync(1300)
    expect(adapter.attemptsAt('alice-1')).toEqual([200])
    // and another of bob's comes while that retry lingers: both are in the next round, in one lane
    commit(worker, 'bob-3')
    await vi.advanceTimersByTimeAsync(10_000)

    // Then every event arrived once, but alice-1 (three attempts), each user's in order
    const sent = adapter.sends.map((send) => send.ids[0])
    expect(sent.filter((id) => id.startsWith('alice'))).toEqual(['alice-1', 'alice-1', 'alice-1', 'alice-2'])
    expect(sent.filter((id) => id.startsWith('bob'))).toEqual(['bob-1', 'bob-2', 'bob-3'])
    // and alice-1's retries held back only alice: bob's first two went before its first retry, and
    // bob-3 went in the round of that retry, ahead of it, not after it
    const [, firstRetry] = adapter.attemptsAt('alice-1')
    expect(Math.max(...adapter.attemptsAt('bob-1'), ...adapter.attemptsAt('bob-2'))).toBeLessThan(firstRetry)
    expect(adapter.attemptsAt('bob-3')).toEqual([firstRetry])
    expect(sent.indexOf('bob-3')).toBeLessThan(sent.indexOf('alice-1', sent.indexOf('alice-1') + 1))
  })

  it('prepares the next batch of a lane while the current one is sent; a batch prepared but not sent is prepared again when it goes', async () => {
    // Given a destination with a prepare step, whose second send fails once
    const log: string[] = []
    let sends = 0
    const adapter = Object.assign(destination(async (ids) => {
      log.push(`send ${ids.join(',')}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
      if (++sends === 2) throw unavailable()
    }), {
      async prepare(batch: readonly OutgoingEvent[]) {
        log.push(`prepare ${batch.map((event) => event.messageId).join(',')}`)
        return batch.length
      },
    })
    // (a window of six events a round: one user's all go in one lane, as three batches)
    const worker = startWorker(adapter, {batchSize: 2, concurrency: 3, retry: {initialDelayMs: 1000, maxDelayMs: 1000}}, {lingerMs: 0})
    // When one user's six events go as three batches of a lane
    commit(worker, 'alice-1', 'alice-2', 'alice-3', 'alice-4', 'alice-5', 'alice-6')
    await vi.advanceTimersByTimeAsync(5000)
    // Then each next batch was prepared before the one before it was sent, and after the failed
    // send the third batch (prepared, never sent) was prepared again when its turn came
    expect(log.slice(0, 5)).toEqual(['prepare alice-1,alice-2', 'prepare alice-3,alice-4', 'send alice-1,alice-2', 'prepare alice-5,alice-6', 'send alice-3,alice-4'])
    // and, the failed pair retried (alice's events held behind it), every event was delivered in order
    const sent = log.filter((line) => line.startsWith('send')).flatMap((line) => line.slice(5).split(','))
    expect(sent.filter((id, index) => sent.indexOf(id) === index)).toEqual(['alice-1', 'alice-2', 'alice-3', 'alice-4', 'alice-5', 'alice-6'])
    expect(log.filter((line) => line.startsWith('prepare') && line.includes('alice-5')).length).toBeGreaterThanOrEqual(2)
    expect(store.deliveries.destinationState('hook')).toMatchObject({delivered: 6})
  })

  it('takes a fate per event from a send: delivered and dropped ones are done, only the failed one is retried', async () => {
    let attempt = 0
    const adapter = Object.assign(destination(), {
      async send(batch: readonly OutgoingEvent[]) {
        adapter.sends.push({at: Date.now() - started, ids: batch.map((event) => event.messageId)})
        attempt++
        return batch.map((event) =>
          event.messageId === 'bob-1' && attempt === 1
            ? {status: 'failed' as const, error: unavailable()}
            : event.messageId === 'carol-1'
              ? {status: 'dropped' as const, reason: 'internal'}
              : {status: 'delivered' as const},
        )
      },
    })
    const worker = startWorker(adapter, {batchSize: 5, concurrency: 1, retry: {initialDelayMs: 1000, maxDelayMs: 1000}}, {lingerMs: 0})
    const seqs = commit(worker, 'alice-1', 'bob-1', 'carol-1')
    await vi.advanceTimersByTimeAsync(5000)
    expect(adapter.sends.map((send) => send.ids)).toEqual([['alice-1', 'bob-1', 'carol-1'], ['bob-1']])
    expect(statusOf(seqs)).toEqual([{seq: seqs[1], status: 'delivered', attempts: 2}])
  })

  it('sends a batch refused outright (400) again one event at a time: only the bad event is dead-lettered', async () => {
    const adapter = destination((ids) => {
      if (ids.includes('carol-1')) throw new DeliveryError('HTTP 400: bad payload', {retryable: false, status: 400})
    })
    const worker = startWorker(adapter, {batchSize: 5, concurrency: 1}, {lingerMs: 0})
    const seqs = commit(worker, 'alice-1', 'bob-1', 'carol-1', 'dan-1', 'erin-1')

    await vi.advanceTimersByTimeAsync(1000)
    expect(adapter.sends.map((send) => send.ids)).toEqual([['alice-1', 'bob-1', 'carol-1', 'dan-1', 'erin-1'], ['alice-1'], ['bob-1'], ['carol-1'], ['dan-1'], ['erin-1']])
    expect(statusOf(seqs)).toEqual([{seq: seqs[2], status: 'dead', attempts: 1}])
    expect(store.deliveries.destinationState('hook')).toMatchObject({cursor: seqs[4], delivered: 4})
  })

  it('pauses the whole destination on a 429 until Retry-After has passed: no other user is sent meanwhile', async () => {
    let limited = true
    const adapter = destination(() => {
      if (!limited) return
      limited = false
      throw new DeliveryError('HTTP 429', {retryable: true, status: 429, retryAfterMs: 5000})
    })
    const worker = startWorker(adapter, {batchSize: 1, concurrency: 4}, {lingerMs: 0})
    commit(worker, 'alice-1')
    await vi.advanceTimersByTimeAsync(100)
    commit(worker, 'bob-1', 'carol-1')

    // On the fake clock, "nothing during the pause" is checked at its last millisecond, not slept through.
    await vi.advanceTimersByTimeAsync(4899)
    expect(adapter.sends.map((send) => send.ids[0])).toEqual(['alice-1'])
    await vi.advanceTimersByTimeAsync(1)
    expect(adapter.sends.map((send) => [send.at, send.ids[0]]).slice(1).sort()).toEqual([
      [5000, 'alice-1'],
      [5000, 'bob-1'],
      [5000, 'carol-1'],
    ])
  })

  it('lets a partial batch linger: events arriving one by one within lingerMs go in one request', async () => {
    const adapter = destination()
    const worker = startWorker(adapter, {batchSize: 10, concurrency: 1}, {lingerMs: 50})
    commit(worker, 'alice-1')
    await vi.advanceTimersByTimeAsync(20)
    commit(worker, 'bob-1')
    await vi.advanceTimersByTimeAsync(20)
    commit(worker, 'carol-1')
    await vi.advanceTimersByTimeAsync(1000)
    expect(adapter.sends).toEqual([{at: 50, ids: ['alice-1', 'bob-1', 'carol-1']}])
  })

  it('moves its cursor only once the round is recorded: a failed write leaves it, and the events are sent again', async () => {
    // Given the store's first write of delivery records fails (a busy database)
    let failedWith: DeliveryOutcome | undefined
    const deliveries = store.deliveries
    const failingOnce: DeliveryStore = new Proxy(deliveries, {
      get(target, property) {
        if (property === 'recordOutcome') {
          return (outcome: DeliveryOutcome) => {
            if (!failedWith && (outcome.inserted.length > 0 || outcome.updated.length > 0)) {
              failedWith = outcome
              throw new Database.SqliteError('database is locked', 'SQLITE_BUSY')
            }
            deliveries.recordOutcome(outcome)
          }
        }
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const adapter = destination(() => {
      throw unavailable()
    })
    const worker = startWorker(adapter, {batchSize: 5, concurrency: 1, retry: {initialDelayMs: 1000, maxDelayMs: 1000}}, {lingerMs: 0, store: failingOnce, pollMs: 500})
    const before = deliveries.destinationState('hook')!.cursor

    // When three events fail at the destination and recording that fails too
    const seqs = commit(worker, 'alice-1', 'bob-1', 'carol-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(failedWith?.inserted.map((record) => record.seq)).toEqual(seqs)
    // Then the cursor has not moved and nothing was recorded
    expect(deliveries.destinationState('hook')!.cursor).toBe(before)
    expect(statusOf(seqs)).toEqual([])

    // and the next look reads the same events from the store, sends them again and records them
    await vi.advanceTimersByTimeAsync(500)
    expect(adapter.sends.map((send) => [send.at, send.ids])).toEqual([
      [0, ['alice-1', 'bob-1', 'carol-1']],
      [500, ['alice-1', 'bob-1', 'carol-1']],
    ])
    expect(deliveries.destinationState('hook')!.cursor).toBe(seqs[2])
    expect(statusOf(seqs).map((record) => record.status)).toEqual(['retrying', 'retrying', 'retrying'])
  })

  it('stop() abandons the send in flight without recording it, sends nothing more, and closes the adapter', async () => {
    const aborted: boolean[] = []
    const adapter = destination(
      (_ids, signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.push(true)
            reject(signal.reason)
          })
        }),
    )
    const worker = startWorker(adapter, {batchSize: 1, concurrency: 1}, {lingerMs: 0})
    const before = store.deliveries.destinationState('hook')!.cursor
    const seqs = commit(worker, 'alice-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(adapter.sends).toHaveLength(1)

    workers.splice(workers.indexOf(worker), 1)
    await worker.stop()
    expect(aborted).toEqual([true])
    expect(adapter.closed).toBe(true)
    // The abandoned event is not recorded: it goes again when the destination next starts.
    expect(statusOf(seqs)).toEqual([])
    expect(store.deliveries.destinationState('hook')!.cursor).toBe(before)

    commit(worker, 'bob-1')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(adapter.sends).toHaveLength(1)
  })
})
