import path from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'
import type {Logger} from '../../src/log.js'
import {eventMatch} from '../../src/store/filter-spec.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {NewEvent} from '../../src/store/types.js'
import {UserIndexer} from '../../src/store/user-indexer.js'
import {cleanupsAfterEach} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempFolder} from '../helpers/workspace.js'

const cleanups = cleanupsAfterEach()

function row(messageId: string, userId: string | null, anonymousId: string | null): NewEvent {
  const message = {type: 'track', event: 'E', messageId, ...(userId ? {userId} : {}), ...(anonymousId ? {anonymousId} : {}), timestamp: 't', receivedAt: 'r', context: {}, integrations: {}}
  return {messageId, source: 'web', type: 'track', event: 'E', userId, anonymousId, timestamp: 't', receivedAt: 'r', raw: null, message: JSON.stringify(message), valid: null, violations: [], policy: null}
}

function openStore(): {store: SqliteStore; file: string} {
  const file = path.join(tempFolder(cleanups), 'cdp.sqlite')
  const store = new SqliteStore(file)
  cleanups.push(() => store.close())
  return {store, file}
}

const idsOf = (store: SqliteStore, user: string) => store.queryEvents({user, limit: 100}).map((e) => e.message.messageId)

describe("a user's events: event_users up to a mark, a scan after it", () => {
  it('answers the same before, during and after indexing, and for events stored after the mark', () => {
    const {store, file} = openStore()
    store.appendEvents([row('a', 'u1', null), row('b', null, 'anon-1'), row('c', 'u1', 'anon-1'), row('d', 'u2', 'anon-2'), row('e', 'u1', 'u1')])
    const expected = {u1: ['a', 'c', 'e'], 'anon-1': ['b', 'c'], u2: ['d'], nobody: []}
    const check = () => {
      for (const [user, ids] of Object.entries(expected)) expect(idsOf(store, user), user).toEqual(ids)
    }
    check()
    expect(store.indexUsers(2)).toBe(2)
    check()
    expect(store.indexUsers(100)).toBe(3)
    expect(store.indexUsers(100)).toBe(0)
    check()
    const db = new Database(file, {readonly: true})
    cleanups.push(() => void db.close())
    // One entry per distinct user of an event: 'e' has u1 as both ids.
    expect(db.prepare('SELECT user, seq FROM event_users ORDER BY user, seq').raw().all()).toEqual([
      ['anon-1', 2],
      ['anon-1', 3],
      ['anon-2', 4],
      ['u1', 1],
      ['u1', 3],
      ['u1', 5],
      ['u2', 4],
    ])
    store.appendEvents([row('f', 'u1', null)])
    expected.u1.push('f')
    check()
    expect(store.indexUsers(100)).toBe(1)
    check()
  })

  it('finds them through event_users and the seqs after the mark, never a scan of the whole table', () => {
    const {store, file} = openStore()
    store.appendEvents([row('a', 'u1', null)])
    const db = new Database(file, {readonly: true})
    cleanups.push(() => void db.close())
    const {conditions, params} = eventMatch.sql({user: 'u1'})
    const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT seq FROM events WHERE ${conditions.join(' AND ')} ORDER BY seq DESC LIMIT 50`).all(...params) as {detail: string}[]).map((r) => r.detail)
    expect(plan.join('\n')).toMatch(/event_users/)
    expect(plan.filter((detail) => /^SCAN events\b/.test(detail) && !/INTEGER PRIMARY KEY|USING/.test(detail))).toEqual([])
  })

  it('starts again from nothing when the events are reset', () => {
    const {store, file} = openStore()
    store.appendEvents([row('a', 'u1', null), row('b', 'u1', null)])
    store.indexUsers(100)
    store.resetEvents()
    store.appendEvents([row('c', 'u1', null)])
    expect(idsOf(store, 'u1')).toEqual(['c'])
    expect(store.indexUsers(100)).toBe(1)
    const db = new Database(file, {readonly: true})
    cleanups.push(() => void db.close())
    expect(db.prepare('SELECT user, seq FROM event_users').raw().all()).toEqual([['u1', 1]])
  })

  it('UserIndexer keeps up in slices, and a failing store is reported once, then retried', async () => {
    const {store, file} = openStore()
    const batch = Array.from({length: 10_000}, (_, i) => row(`m${i}`, `user-${i % 997}`, `anon-${i}`))
    store.appendEvents(batch)
    const warnings: string[] = []
    const log: Logger = {level: 'warn', error: () => undefined, warn: (message: string) => void warnings.push(message), info: () => undefined, debug: () => undefined}
    let failures = 3
    const flaky = {
      indexUsers: (limit: number) => {
        if (failures-- > 0) throw new Error('database is locked')
        return store.indexUsers(limit)
      },
    }
    const indexer = new UserIndexer(flaky, log, 10).start()
    cleanups.push(() => indexer.stop())
    const db = new Database(file, {readonly: true})
    cleanups.push(() => void db.close())
    await waitFor('every event indexed', () => db.prepare('SELECT count(*) FROM event_users').pluck().get() === 20_000, 10_000)
    expect(warnings).toEqual(['Indexing users of stored events failed (tried again shortly): database is locked'])
    expect(idsOf(store, 'user-5').length).toBe(11)
  })
})
