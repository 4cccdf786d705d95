import path from 'node:path'
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
})
