import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {GroupCommitter} from '../../src/store/group-commit.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {NewEvent} from '../../src/store/types.js'
import {tempDir} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
let store: SqliteStore
beforeEach(() => {
  ;({dir, cleanup} = tempDir())
  store = new SqliteStore(path.join(dir, 'cdp.sqlite'), {autoCheckpoint: false})
})
afterEach(() => {
  store.close()
  cleanup()
})

function event(messageId: string): NewEvent {
  const message = {type: 'track', event: 'E', userId: 'u', messageId, timestamp: 't', receivedAt: 'r', context: {}, integrations: {}}
  return {messageId, source: 's', type: 'track', event: 'E', userId: 'u', anonymousId: null, timestamp: 't', receivedAt: 'r', raw: '{}', message: JSON.stringify(message), valid: null, violations: [], policy: null}
}

describe('GroupCommitter', () => {
  it('commits submits of one event-loop turn in one transaction and tells each its own duplicates', async () => {
    const committer = new GroupCommitter(store)
    const [a, b, c] = await Promise.all([
      committer.submit([event('m1'), event('m2')]),
      committer.submit([event('m2'), event('m3')]),
      committer.submit([event('m1')]),
    ])
    expect(a).toEqual({inserted: 2, duplicates: 0, stored: [true, true]})
    expect(b).toEqual({inserted: 1, duplicates: 1, stored: [false, true]})
    expect(c).toEqual({inserted: 0, duplicates: 1, stored: [false]})
    expect(store.countEvents()).toBe(3)
  })

  it('commits what is queued on close, then refuses new events', async () => {
    const committer = new GroupCommitter(store)
    const pending = committer.submit([event('late')])
    await committer.close()
    expect(await pending).toMatchObject({inserted: 1})
    await expect(committer.submit([event('after')])).rejects.toThrow('the event store is closing')
  })

  it('with auto-checkpoint off the WAL keeps the commits until a checkpoint moves them', async () => {
    const committer = new GroupCommitter(store)
    for (let i = 0; i < 20; i++) await committer.submit([event(`w${i}`)])
    expect(store.walBytes()).toBeGreaterThan(0)
    const {frames, checkpointed} = store.checkpoint('PASSIVE')
    expect(frames).toBeGreaterThan(0)
    expect(checkpointed).toBe(frames)
  })

  it('when the group\'s commit fails, commits each request on its own: the one SQLite refuses fails alone', async () => {
    // Given a row SQLite refuses: an object where a text column goes, as a "__proto__" key once put there (issue 10)
    const poison = {...event('poison'), userId: {} as unknown as string}
    const committed: {events: readonly NewEvent[]; seqs?: number[]}[] = []
    const committer = new GroupCommitter(store, (events, result) => committed.push({events, seqs: result.seqs}))
    // When it is submitted in the same turn as valid requests, before and after it
    const outcomes = await Promise.allSettled([
      committer.submit([event('a1'), event('a2')]),
      committer.submit([event('b1'), poison]),
      committer.submit([event('c1')]),
      committer.submit([event('a1')]),
    ])
    // Then only its request fails, with SQLite's error, and none of its events is stored
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).toBe('Too few parameter values were provided')
    expect(outcomes[0]).toEqual({status: 'fulfilled', value: {inserted: 2, duplicates: 0, stored: [true, true]}})
    expect(outcomes[2]).toEqual({status: 'fulfilled', value: {inserted: 1, duplicates: 0, stored: [true]}})
    // A duplicate is still told apart from a new event
    expect(outcomes[3]).toEqual({status: 'fulfilled', value: {inserted: 0, duplicates: 1, stored: [false]}})
    expect(store.queryEvents({limit: 10}).map((e) => e.message.messageId)).toEqual(['a1', 'a2', 'c1'])
    // And delivery and the live stream hear of the new events once, in sequence order
    expect(committed).toHaveLength(1)
    expect(committed[0].events.map((e) => e.messageId)).toEqual(['a1', 'a2', 'c1'])
    expect(committed[0].seqs).toEqual([1, 2, 3])
  })

  it('a request refused alone gets the store\'s error, and the next group commits normally', async () => {
    const committer = new GroupCommitter(store)
    const refused = {...event('x'), anonymousId: Symbol('not a value') as unknown as string}
    await expect(committer.submit([refused])).rejects.toThrow('SQLite3 can only bind numbers, strings, bigints, buffers, and null')
    expect(await committer.submit([event('next')])).toEqual({inserted: 1, duplicates: 0, stored: [true]})
    expect(store.countEvents()).toBe(1)
  })

  it('a failure of the store itself (SQLITE_BUSY, SQLITE_FULL…) fails the group at once, without a retry per request', async () => {
    // Given a real store that is locked by another writer for the first commit
    let attempts = 0
    const locked = {
      appendEvents: (events: readonly NewEvent[]) => {
        attempts++
        if (attempts === 1) throw new Database.SqliteError('database is locked', 'SQLITE_BUSY')
        return store.appendEvents(events)
      },
      checkpoint: store.checkpoint.bind(store),
      walBytes: store.walBytes.bind(store),
    }
    const committer = new GroupCommitter(locked)
    const outcomes = await Promise.allSettled([committer.submit([event('l1')]), committer.submit([event('l2')]), committer.submit([event('l3')])])
    // Then every request gets the store's error after one attempt: each retry would have waited out the busy timeout again
    expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as Error).message)).toEqual(['database is locked', 'database is locked', 'database is locked'])
    expect(attempts).toBe(1)
    // And the next group commits
    expect(await committer.submit([event('after')])).toEqual({inserted: 1, duplicates: 0, stored: [true]})
  })

  it('bounds the WAL from the writer: past 64 MB a PASSIVE checkpoint between commits, past 256 MB a TRUNCATE; checked every 100 commits', async () => {
    const sizes = [10, 100, 300].map((mb) => mb * 1024 * 1024)
    let size = 0
    const calls: string[] = []
    const target = {
      appendEvents: store.appendEvents.bind(store),
      checkpoint: (mode: 'PASSIVE' | 'TRUNCATE') => {
        calls.push(mode)
        return {busy: false}
      },
      walBytes: () => size,
    }
    const committer = new GroupCommitter(target)
    for (const [round, bytes] of sizes.entries()) {
      size = bytes
      for (let i = 0; i < 100; i++) await committer.submit([event(`r${round}-${i}`)])
    }
    expect(calls).toEqual(['PASSIVE', 'TRUNCATE'])
  })

  it('a WAL grown past 64 MB under steady commits starts again from its beginning, and its file is cut back to 32 MB', async () => {
    // Given commits of 30 KB events, one per commit, with no other checkpoint running (as under load the thread never catches up)
    const committer = new GroupCommitter(store)
    const padding = 'x'.repeat(30_000)
    const big = (id: string): NewEvent => ({...event(id), message: JSON.stringify({messageId: id, padding})})
    let peak = 0
    for (let i = 0; i < 4000; i++) {
      await committer.submit([big(`b${i}`)])
      peak = Math.max(peak, store.walBytes())
    }
    // Then it passed 64 MB once, and was brought back under it (without any TRUNCATE: PASSIVE and a restarted log)
    expect(peak).toBeGreaterThan(64 * 1024 * 1024)
    expect(peak).toBeLessThan(80 * 1024 * 1024)
    expect(store.walBytes()).toBeLessThan(64 * 1024 * 1024)
    expect(store.countEvents()).toBe(4000)
  })
})
