import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {workspacePaths} from '../../src/config/workspace.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {toNewEvent} from '../../src/pipeline/pipeline.js'
import {openStorage} from '../../src/store/open-storage.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {NewEvent, QueuedEvent} from '../../src/store/types.js'
import {tempDir} from '../helpers/workspace.js'

/**
 * The replays' bookkeeping in a real SQLite file: their records (create, get, list, status), what
 * a round of delivery writes (counts, checkpoint, the records of failed events with the message to
 * send again), and the store's reading of events to replay (filters, order, paging, counts).
 */

let store: SqliteStore
let dir: string
let cleanup: () => void

beforeEach(() => {
  const temp = tempDir('cdp-replays-')
  dir = temp.dir
  cleanup = temp.cleanup
  store = new SqliteStore(path.join(dir, '.cdp', 'cdp.sqlite'))
})

afterEach(() => {
  store.close()
  cleanup()
})

interface Spec {
  id: string
  type?: 'track' | 'page' | 'identify'
  event?: string
  userId?: string
  anonymousId?: string
  timestamp: string
  source?: string
}

function row(spec: Spec): NewEvent {
  const type = spec.type ?? 'track'
  const message = {
    type,
    messageId: spec.id,
    ...(type === 'track' ? {event: spec.event ?? 'Order Completed'} : type === 'page' ? {name: spec.event ?? 'Home'} : {}),
    ...(spec.userId ? {userId: spec.userId} : {}),
    ...(spec.anonymousId ? {anonymousId: spec.anonymousId} : {}),
    properties: {},
    context: {},
    integrations: {},
    timestamp: spec.timestamp,
    receivedAt: spec.timestamp,
  } as unknown as SegmentMessage
  return toNewEvent(spec.source ?? 'web', message, JSON.stringify(message))
}

const at = (minute: number) => new Date(Date.parse('2026-11-30T10:00:00.000Z') + minute * 60_000).toISOString()

function fill(): number[] {
  return store.appendEvents([
    row({id: 'e1', userId: 'alice', timestamp: at(0)}),
    row({id: 'e2', type: 'page', event: 'Home', anonymousId: 'anon-1', timestamp: at(1)}),
    row({id: 'e3', type: 'identify', userId: 'bob', timestamp: at(2)}),
    row({id: 'e4', event: 'Signed Up', userId: 'alice', timestamp: at(3), source: 'ios'}),
    row({id: 'e5', event: 'Signed Up', userId: 'carol', anonymousId: 'anon-1', timestamp: at(4)}),
    row({id: 'e6', userId: 'bob', timestamp: at(5)}),
  ]).seqs!
}

const ids = (events: QueuedEvent[]) => events.map((event) => event.messageId)

describe('replay records', () => {
  it('creates, gets and lists replays with ids sortable by time, and bounds a store replay by the newest event', () => {
    // Given 6 stored events
    fill()
    // When two replays are created, one of the store and one of archives
    const first = store.replays.create({destination: 'hook', since: at(1)})
    const second = store.replays.create({destination: 'hook', files: ['/tmp/a.ndjson.gz']}, {selected: 12})
    // Then each is running with zero counts; the store replay stops at the newest seq, the archive one has no bound
    expect(first.id).toMatch(/^r-\d{8}-\d{6}-[0-9a-f]{4}$/)
    expect(first).toMatchObject({destination: 'hook', status: 'running', checkpoint: 0, through: 6, finishedAt: null, lastError: null, selection: {destination: 'hook', since: at(1)}})
    expect(first.counts).toEqual({selected: null, sent: 0, failed: 0, skipped: 0, corrupt: 0})
    expect(second).toMatchObject({through: null, counts: {selected: 12}})
    expect(store.replays.get(first.id)).toEqual(first)
    expect(store.replays.get('r-nope')).toBeUndefined()
    expect(store.replays.list().map((replay) => replay.id)).toEqual([first.id, second.id])
  })

  it('sets the status: finishedAt when it stops, cleared when it runs again; lastError kept unless given', () => {
    const replay = store.replays.create({destination: 'hook'})
    store.replays.setStatus(replay.id, 'interrupted', 'Ctrl-C')
    const stopped = store.replays.get(replay.id)!
    expect(stopped).toMatchObject({status: 'interrupted', lastError: 'Ctrl-C'})
    expect(stopped.finishedAt).not.toBeNull()
    store.replays.setStatus(replay.id, 'running')
    expect(store.replays.get(replay.id)).toMatchObject({status: 'running', finishedAt: null, lastError: 'Ctrl-C'})
    store.replays.setStatus(replay.id, 'completed', null)
    expect(store.replays.get(replay.id)).toMatchObject({status: 'completed', lastError: null})
    store.replays.setSelected(replay.id, 42)
    expect(store.replays.get(replay.id)!.counts.selected).toBe(42)
    expect(() => store.replays.setStatus('r-nope', 'failed')).toThrow(/no replay/)
  })

  it('records a round: counts and checkpoint move together, failed events keep their message, open records hold their users', () => {
    // Given a replay and two events handed out to its worker
    const seqs = fill()
    const replay = store.replays.create({destination: 'hook'})
    const [e1, e2] = store.replayEvents(0, {}, 2).events
    const failedMessage = '{"type":"track","integrations":{"All":false,"hook":true}}'
    // When a round delivered 3, dead-lettered e1, left e2 retrying, and skipped 1 by the destination's filter
    store.replays.recordOutcome({
      replayId: replay.id,
      checkpoint: seqs[4],
      sent: 3,
      failed: 1,
      skipped: 1,
      corrupt: 0,
      latency: '{"10":3}',
      inserted: [
        {event: {...e1, message: failedMessage}, userKey: 'alice', status: 'dead', attempts: 1, nextAttemptAt: 0, lastStatus: 400, lastError: 'HTTP 400', history: [{at: at(9), ms: 5, status: 400, error: 'HTTP 400'}]},
        {event: e2, userKey: 'anon-1', status: 'retrying', attempts: 1, nextAttemptAt: 5000, lastStatus: 503, lastError: 'HTTP 503', history: []},
      ],
      updated: [],
    })
    // Then the replay's counts and checkpoint moved, and the open record holds its user
    expect(store.replays.get(replay.id)).toMatchObject({checkpoint: seqs[4], counts: {sent: 3, failed: 1, skipped: 1, corrupt: 0}, latency: '{"10":3}'})
    expect(store.replays.heldUsers(replay.id)).toEqual(new Set(['anon-1']))
    expect(store.replays.nextRetryAt(replay.id)).toBe(5000)
    expect(store.replays.countOpen(replay.id)).toBe(1)
    const [open] = store.replays.openDeliveries(replay.id, 10)
    expect(open).toMatchObject({seq: e2.seq, messageId: 'e2', type: 'page', event: 'Home', anonymousId: 'anon-1', userKey: 'anon-1', status: 'retrying', attempts: 1, message: e2.message})
    // When the retry is delivered in the next round (no cursor move)
    store.replays.recordOutcome({replayId: replay.id, sent: 1, failed: 0, skipped: 0, corrupt: 2, latency: '{}', inserted: [], updated: [{id: open.id, status: 'delivered', attempts: 2, nextAttemptAt: 0, lastStatus: 503, lastError: 'HTTP 503', history: []}]})
    // Then nothing is open and the checkpoint stayed
    expect(store.replays.countOpen(replay.id)).toBe(0)
    expect(store.replays.nextRetryAt(replay.id)).toBeUndefined()
    expect(store.replays.get(replay.id)).toMatchObject({checkpoint: seqs[4], counts: {sent: 4, failed: 1, corrupt: 2}})
    // And the dead record keeps the message as it was sent, with its attempts
    expect(store.replays.records(replay.id, {status: 'dead', limit: 10})).toMatchObject([
      {seq: e1.seq, messageId: 'e1', userKey: 'alice', status: 'dead', message: failedMessage, lastStatus: 400, history: [{status: 400, error: 'HTTP 400'}]},
    ])
    expect(store.replays.records(replay.id, {limit: 10}).map((record) => record.status)).toEqual(['dead', 'delivered'])
  })

  it('writes nothing when a round cannot be written (an unknown replay): all or nothing', () => {
    fill()
    const [e1] = store.replayEvents(0, {}, 1).events
    expect(() =>
      store.replays.recordOutcome({replayId: 'r-nope', checkpoint: 1, sent: 1, failed: 0, skipped: 0, corrupt: 0, latency: '{}', inserted: [{event: e1, userKey: 'alice', status: 'retrying', attempts: 1, nextAttemptAt: 0, lastStatus: null, lastError: 'x', history: []}], updated: []}),
    ).toThrow()
    expect(store.replays.countOpen('r-nope')).toBe(0)
  })

  it('is reached through openStorage: a writer beside another writing connection, and a reader', async () => {
    // Given the store open for writing (as cdp dev holds it) and a replay begun through a second writer
    fill()
    const paths = workspacePaths(dir)
    const writer = await openStorage(paths, {role: 'writer'})
    const replay = await writer.replays.create({destination: 'hook'})
    // When both connections write
    store.appendEvents([row({id: 'e7', userId: 'dave', timestamp: at(6)})])
    await writer.replays.setStatus(replay.id, 'completed')
    // Then a reader sees the replay as it was last written, and its bound stayed at the events stored when it began
    const reader = await openStorage(paths, {role: 'reader'})
    expect(await reader.replays.list()).toMatchObject([{id: replay.id, status: 'completed', through: 6}])
    await reader.close()
    await writer.close()
  })

  it('a writer can create the store for a replay of archives on a new workspace', async () => {
    const fresh = tempDir('cdp-replays-fresh-')
    try {
      const storage = await openStorage(workspacePaths(fresh.dir), {role: 'writer', create: true})
      expect((await storage.replays.create({destination: 'hook', files: ['a.ndjson']})).through).toBeNull()
      await storage.close()
    } finally {
      fresh.cleanup()
    }
  })
})

describe('events to replay', () => {
  it('reads events after a seq in order, in pages, up to the bound, never a quarantined one', () => {
    // Given 6 events, a quarantined one, and one stored after the replay's bound
    fill()
    const blocked = row({id: 'blocked', userId: 'alice', timestamp: at(5)})
    blocked.policy = 'blocked'
    store.appendEvents([blocked, row({id: 'late', userId: 'alice', timestamp: at(6)})])
    // When read 4 at a time up to seq 7
    const first = store.replayEvents(0, {through: 7}, 4)
    const second = store.replayEvents(first.cursor, {through: 7}, 4)
    // Then pages follow each other in order and end at the bound
    expect(ids(first.events)).toEqual(['e1', 'e2', 'e3', 'e4'])
    expect(first).toMatchObject({cursor: 4, complete: false})
    expect(ids(second.events)).toEqual(['e5', 'e6'])
    expect(second).toMatchObject({cursor: 7, complete: true})
    expect(store.replayEvents(7, {through: 7}, 4)).toEqual({events: [], cursor: 7, complete: true})
    // And the rows are queued events, with their message as stored
    expect(first.events[1]).toMatchObject({seq: 2, messageId: 'e2', source: 'web', type: 'page', event: 'Home', userId: null, anonymousId: 'anon-1'})
    expect(JSON.parse(first.events[1].message)).toMatchObject({messageId: 'e2', name: 'Home'})
    // Without a bound: the newest now
    expect(ids(store.replayEvents(6, {}, 10).events)).toEqual(['late'])
  })

  it('filters as cdp events does: lists of types and names, user (either id), source, since (at or after), until (before)', () => {
    fill()
    const read = (filter: Parameters<SqliteStore['replayEvents']>[1]) => ids(store.replayEvents(0, filter, 100).events)
    expect(read({types: ['page', 'identify']})).toEqual(['e2', 'e3'])
    expect(read({events: ['Signed Up', 'Home']})).toEqual(['e2', 'e4', 'e5'])
    expect(read({types: ['track'], events: ['Signed Up']})).toEqual(['e4', 'e5'])
    expect(read({user: 'anon-1'})).toEqual(['e2', 'e5'])
    expect(read({user: 'alice', since: at(1)})).toEqual(['e4'])
    expect(read({source: 'ios'})).toEqual(['e4'])
    expect(read({since: at(1), until: at(4)})).toEqual(['e2', 'e3', 'e4'])
    expect(read({until: at(0)})).toEqual([])
    expect(read({types: [], events: []})).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6'])
    // A filtered read pages by what it took: the cursor is the last event taken, or the bound at the end
    const page = store.replayEvents(0, {events: ['Signed Up'], through: 6}, 1)
    expect(page).toMatchObject({cursor: 4, complete: false})
    expect(store.replayEvents(page.cursor, {events: ['Signed Up'], through: 6}, 1)).toMatchObject({cursor: 5, complete: false})
    expect(store.replayEvents(5, {events: ['Signed Up'], through: 6}, 1)).toMatchObject({events: [], cursor: 6, complete: true})
  })

  it('counts what a replay would send by type and event name', () => {
    fill()
    expect(store.countReplayEvents({})).toEqual({
      total: 6,
      byType: [
        {type: 'track', event: 'Order Completed', count: 2},
        {type: 'track', event: 'Signed Up', count: 2},
        {type: 'identify', event: null, count: 1},
        {type: 'page', event: 'Home', count: 1},
      ],
    })
    expect(store.countReplayEvents({since: at(2), through: 5})).toEqual({
      total: 3,
      byType: [
        {type: 'track', event: 'Signed Up', count: 2},
        {type: 'identify', event: null, count: 1},
      ],
    })
  })
})
