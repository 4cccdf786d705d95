import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'
import {DeliveryManager} from '../../src/delivery/manager.js'
import {toNewEvent} from '../../src/pipeline/pipeline.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {DeliveryOutcome, DeliveryStore} from '../../src/store/types.js'
import {memoryLogger} from '../helpers/daemon.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir} from '../helpers/workspace.js'

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

/** The store's delivery bookkeeping, whose first write of delivery records fails as a busy database's would. */
function failingOnce(store: DeliveryStore): {store: DeliveryStore; failedWith: () => DeliveryOutcome | undefined} {
  let failedWith: DeliveryOutcome | undefined
  const recordOutcome = (outcome: DeliveryOutcome) => {
    if (!failedWith && (outcome.inserted.length > 0 || outcome.updated.length > 0)) {
      failedWith = outcome
      throw new Database.SqliteError('database is locked', 'SQLITE_BUSY')
    }
    store.recordOutcome(outcome)
  }
  const wrapped = new Proxy(store, {
    get(target, property) {
      if (property === 'recordOutcome') return recordOutcome
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {store: wrapped, failedWith: () => failedWith}
}

/** Ten track calls of five users, two each, as the pipeline would store them. */
function messages(): SegmentMessage[] {
  const at = new Date().toISOString()
  return Array.from({length: 10}, (_, i) => ({
    type: 'track',
    event: 'Order Completed',
    userId: `user-${i % 5}`,
    messageId: `m-${i}`,
    properties: {n: i},
    timestamp: at,
    receivedAt: at,
    sentAt: at,
    originalTimestamp: at,
    context: {},
    integrations: {},
  })) as unknown as SegmentMessage[]
}

function firstArrivals(sink: Sink): Record<string, any>[] {
  const seen = new Set<string>()
  return sink.accepted().filter((m) => !seen.has(m.messageId) && seen.add(m.messageId))
}

describe('delivery cursor', () => {
  it('moves only after the records of a round are written: a write that fails once skips nothing', async () => {
    // Given a real store whose next write of delivery records will fail once (SQLITE_BUSY),
    const {dir, cleanup} = tempDir()
    cleanups.push(cleanup)
    const store = new SqliteStore(path.join(dir, 'cdp.sqlite'))
    cleanups.push(() => store.close())
    const flaky = failingOnce(store.deliveries)
    // a webhook destination that is down (503),
    const sink = await startSink(() => ({status: 503, body: 'maintenance'}))
    cleanups.push(() => sink.close())
    const log = memoryLogger()
    const manager = new DeliveryManager({store: flaky.store, dir, log, pollMs: 50})
    await manager.start([{name: 'hook', type: 'webhook', url: sink.url, batchSize: 5, concurrency: 2, retry: {initialDelayMs: 20, maxDelayMs: 50}}])
    cleanups.push(() => manager.stop())

    // When ten events are committed and their first round fails, and recording that fails too
    const rows = messages().map((message) => toNewEvent('web', message, JSON.stringify(message)))
    const result = store.appendEvents(rows)
    manager.offer(rows, result.seqs!)
    const failed = await waitFor('the failing write of the first round', () => flaky.failedWith())
    // (that write held a record of each of the ten: retrying, or pending behind its user's)
    expect(failed.inserted.map((row) => row.seq).sort((a, b) => a - b)).toEqual(result.seqs)
    expect(new Set(failed.inserted.map((row) => row.status))).toEqual(new Set(['retrying', 'pending']))
    expect(log.lines.join('\n')).toContain('destination "hook": database is locked')
    // and the destination comes back
    sink.answerWith(() => ({status: 200}))

    // Then every event arrives, each user's in order, and nothing is left open
    await waitFor('all 10 events at the sink', () => firstArrivals(sink).length === 10)
    for (let user = 0; user < 5; user++) {
      expect(firstArrivals(sink).filter((m) => m.userId === `user-${user}`).map((m) => m.properties.n), `user-${user}`).toEqual([user, user + 5])
    }
    await waitFor('no open delivery records', () => store.deliveries.countDeliveries('hook', store.deliveries.destinationState('hook')!.cursor, {}).retrying === 0)
    await manager.stop()
    const state = store.deliveries.destinationState('hook')!
    expect(state.cursor).toBe(result.seqs![9])
    expect(store.deliveries.countDeliveries('hook', state.cursor, {})).toEqual({pending: 0, pendingCapped: false, retrying: 0, dead: 0})
  })
})
