import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {CheckpointHealth} from '../../src/store/checkpoint-health.js'
import {Checkpointer} from '../../src/store/checkpointer.js'
import {GroupCommitter} from '../../src/store/group-commit.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {NewEvent} from '../../src/store/types.js'
import {WalCheckpoints} from '../../src/store/wal-checkpoints.js'
import {tempDir} from '../helpers/workspace.js'
import {waitFor} from '../helpers/wait.js'

let dir: string
let cleanup: () => void
let file: string
let writer: SqliteStore
beforeEach(() => {
  ;({dir, cleanup} = tempDir())
  file = path.join(dir, 'cdp.sqlite')
  writer = new SqliteStore(file, {autoCheckpoint: false})
})
afterEach(() => {
  writer.close()
  cleanup()
})

let next = 0
function events(n: number): NewEvent[] {
  return Array.from({length: n}, () => {
    const messageId = `m${next++}`
    const message = JSON.stringify({type: 'track', event: 'E', userId: 'u', messageId, properties: {pad: 'x'.repeat(400)}})
    return {messageId, source: 's', type: 'track', event: 'E', userId: 'u', anonymousId: null, timestamp: 't', receivedAt: 'r', raw: message, message, valid: null, violations: [], policy: null}
  })
}

const limit = 64 * 1024

describe('the checkpoint thread keeps the WAL file bounded (the writer no longer truncates it)', () => {
  it('truncates the WAL once it passes its limit; a reader that pins it makes a failure report, then it is retried later', () => {
    // Given a WAL past its limit
    const checkpointer = new SqliteStore(file, {autoCheckpoint: false, busyTimeoutMs: 20})
    const checkpoints = new WalCheckpoints(checkpointer, limit)
    try {
      writer.appendEvents(events(500))
      expect(writer.walBytes()).toBeGreaterThan(limit)
      // When the thread ticks: the PASSIVE checkpoint copies the pages, the TRUNCATE empties the file
      expect(checkpoints.tick(1_000)).toEqual({kind: 'ok', at: 1_000})
      expect(writer.walBytes()).toBe(0)
      expect(writer.countEvents()).toBe(500)

      // Given a reader holding an old snapshot while the writer grows the WAL past the limit again
      const reader = new Database(file, {readonly: true})
      reader.prepare('BEGIN').run()
      reader.prepare('SELECT count(*) FROM events').get()
      writer.appendEvents(events(500))
      // Then the TRUNCATE cannot finish: reported as a failure (the daemon logs it and counts it in /health)
      expect(checkpoints.tick(2_000)).toEqual({kind: 'failed', error: 'readers kept the write-ahead log from being truncated', at: 2_000})
      // And while the retry waits, the PASSIVE checkpoints go on and say so
      expect(checkpoints.tick(3_000)).toEqual({kind: 'ok', at: 3_000})
      expect(writer.walBytes()).toBeGreaterThan(limit)
      // When the reader is gone, the next attempt (5 s after the failed one) truncates
      reader.prepare('COMMIT').run()
      reader.close()
      expect(checkpoints.tick(3_500)).toBeUndefined()
      expect(writer.walBytes()).toBeGreaterThan(limit)
      expect(checkpoints.tick(7_001)).toEqual({kind: 'ok', at: 7_001})
      expect(writer.walBytes()).toBe(0)
      expect(writer.countEvents()).toBe(1000)
    } finally {
      checkpointer.close()
    }
  })

  it('the checkpoint thread truncates a WAL that group commit grew past the limit', async () => {
    const lines: string[] = []
    const health = new CheckpointHealth({info: (line: string) => lines.push(line), error: (line: string) => lines.push(line)} as never)
    const committer = new GroupCommitter(writer)
    const thread = Checkpointer.start(file, health, 20, limit)
    try {
      for (let i = 0; i < 20; i++) await committer.submit(events(50))
      await waitFor('the WAL truncated', () => (writer.walBytes() === 0 ? true : undefined))
      await waitFor('the thread reports it', () => health.status().lastOkAt ?? undefined)
      expect(health.status().failures).toBe(0)
      expect(writer.countEvents()).toBe(1000)
    } finally {
      await thread.close()
    }
  })
})
