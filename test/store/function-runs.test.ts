import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {workspacePaths} from '../../src/config/workspace.js'
import type {FunctionRunRecord} from '../../src/functions/types.js'
import {silentLogger} from '../../src/log.js'
import {openStorage} from '../../src/store/open-storage.js'
import {boundedConsoleJson} from '../../src/store/sqlite-function-runs.js'
import {cleanupsAfterEach} from '../helpers/daemon.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {tempFolder} from '../helpers/workspace.js'

const cleanups = cleanupsAfterEach()
const workspace = () => tempFolder(cleanups)

function run(n: number, extra: Partial<FunctionRunRecord> = {}): FunctionRunRecord {
  return {
    at: new Date(Date.UTC(2026, 2, 1, 12, 0, 0, n)).toISOString(),
    function: 'hash-email',
    kind: 'insert',
    stage: 'source',
    target: 'web',
    messageId: `msg-${n}`,
    result: 'error',
    errorClass: 'TypeError',
    message: `boom ${n}`,
    console: [],
    ms: 1.5,
    ...extra,
  }
}

describe('the function run store (SQLite)', () => {
  it('keeps what the daemon appends for any reader, newest by function, and adds the counts', async () => {
    // Given the daemon's storage of a fresh workspace
    const dir = workspace()
    const daemon = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger})
    cleanups.push(() => daemon.close())

    // When two batches are appended
    await daemon.functionRuns.append({
      runs: [run(1), run(2, {function: 'crm', kind: 'destination', stage: 'destination', target: 'crm', result: 'error', errorClass: 'RetryError', message: 'try later'})],
      counts: [
        {function: 'hash-email', stage: 'source', target: 'web', result: 'changed', count: 40},
        {function: 'hash-email', stage: 'source', target: 'web', result: 'error', count: 1},
        {function: 'crm', stage: 'destination', target: 'crm', result: 'error', count: 1},
      ],
    })
    await daemon.functionRuns.append({
      runs: [run(3, {result: 'changed', errorClass: undefined, message: undefined, console: [{level: 'log', message: 'hashed'}]})],
      counts: [{function: 'hash-email', stage: 'source', target: 'web', result: 'changed', count: 2}],
    })

    // Then a reader beside the daemon sees every row, oldest first, with the absent fields absent
    const reader = await openStorage(workspacePaths(dir), {role: 'reader'})
    cleanups.push(() => reader.close())
    const all = await reader.functionRuns.recent({limit: 10})
    expect(all.map((r) => [r.id, r.function, r.result])).toEqual([
      [1, 'hash-email', 'error'],
      [2, 'crm', 'error'],
      [3, 'hash-email', 'changed'],
    ])
    expect(all[2]).toEqual({
      id: 3,
      at: '2026-03-01T12:00:00.003Z',
      function: 'hash-email',
      kind: 'insert',
      stage: 'source',
      target: 'web',
      messageId: 'msg-3',
      result: 'changed',
      console: [{level: 'log', message: 'hashed'}],
      ms: 1.5,
    })
    // And one function's newest, and a follower's page after an id
    expect((await reader.functionRuns.recent({function: 'hash-email', limit: 1})).map((r) => r.id)).toEqual([3])
    expect((await reader.functionRuns.recent({after: 1, limit: 1})).map((r) => r.id)).toEqual([2])
    expect((await reader.functionRuns.recent({function: 'crm', after: 2, limit: 10})).map((r) => r.id)).toEqual([])
    // And the counts add up
    expect(await reader.functionRuns.counts()).toEqual([
      {function: 'crm', stage: 'destination', target: 'crm', result: 'error', count: 1},
      {function: 'hash-email', stage: 'source', target: 'web', result: 'changed', count: 42},
      {function: 'hash-email', stage: 'source', target: 'web', result: 'error', count: 1},
    ])
  })

  it('keeps only the newest rows past its bound, and ids keep growing', () => {
    // Given a store whose function runs are bounded at 10,000 rows
    const dir = workspace()
    const store = new SqliteStore(path.join(dir, 'cdp.sqlite'))
    cleanups.push(() => store.close())

    // When 10,250 records are appended in batches of 500
    let n = 0
    for (let batch = 0; batch < 21 && n < 10_250; batch++) {
      const runs = Array.from({length: Math.min(500, 10_250 - n)}, () => run(++n))
      store.functionRuns.append({runs, counts: []})
    }

    // Then the oldest 250 are gone, and the newest is 10,250
    const oldest = store.functionRuns.recent({after: 0, limit: 1})
    const newest = store.functionRuns.recent({limit: 1})
    expect([oldest[0].id, newest[0].id]).toEqual([251, 10_250])
    expect(store.functionRuns.recent({after: 0, limit: 20_000})).toHaveLength(10_000)
  })

  it('bounds a row: console lines past 64 KB become one line that counts them, a long message is cut', () => {
    // Given a record with 100 console lines of 1 KB and a 10,000-character message
    const dir = workspace()
    const store = new SqliteStore(path.join(dir, 'cdp.sqlite'))
    cleanups.push(() => store.close())
    const lines = Array.from({length: 100}, (_, i) => ({level: 'log' as const, message: `${i}:${'x'.repeat(1020)}`}))

    // When it is appended
    store.functionRuns.append({runs: [run(1, {console: lines, message: 'm'.repeat(10_000)})], counts: []})

    // Then 62 lines are kept, then a note for the 38 left out, within 64 KB
    const [stored] = store.functionRuns.recent({limit: 1})
    expect(stored.console).toHaveLength(63)
    expect(stored.console[61].message.startsWith('61:')).toBe(true)
    expect(stored.console[62]).toEqual({level: 'warn', message: '… 38 more console lines not kept (64 KB per record)'})
    expect(Buffer.byteLength(JSON.stringify(stored.console))).toBeLessThanOrEqual(64 * 1024)
    expect(stored.message).toBe('m'.repeat(4095) + '…')
  })

  it('cuts one console line larger than the whole bound to its start', () => {
    // Given one line of 200 KB of multi-byte text
    const json = boundedConsoleJson([{level: 'error', message: 'é'.repeat(200_000)}], 64 * 1024)

    // Then it fits, and says it was cut
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(64 * 1024)
    const lines = JSON.parse(json) as {message: string}[]
    expect(lines[1]).toEqual({level: 'warn', message: '… cut to 64 KB per record'})
    expect(lines[0].message.endsWith('é…')).toBe(true)
  })

  it('refuses appends from a reader', async () => {
    // Given a store the daemon created, and a reader
    const dir = workspace()
    const daemon = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger})
    await daemon.close()
    const reader = await openStorage(workspacePaths(dir), {role: 'reader'})
    cleanups.push(() => reader.close())

    // When the reader appends, then it is refused
    expect(() => reader.functionRuns.append({runs: [run(1)], counts: []})).toThrow(/read-only/)
  })
})
