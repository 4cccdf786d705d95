import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {createFunctionRunLog} from '../../src/functions/run-log.js'
import type {FunctionRunRecord} from '../../src/functions/types.js'
import type {FunctionRunBatch} from '../../src/store/function-runs.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {memoryLogger} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir} from '../helpers/workspace.js'

let cleanups: (() => Promise<unknown> | unknown)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

function record(result: FunctionRunRecord['result'], extra: Partial<FunctionRunRecord> = {}): FunctionRunRecord {
  return {at: '2026-03-01T12:00:00.000Z', function: 'hash-email', kind: 'insert', stage: 'source', target: 'web', messageId: 'm-1', result, console: [], ms: 0.4, ...extra}
}

/** A store that keeps each batch it is given. */
function recordingStore(): {append: (batch: FunctionRunBatch) => void; batches: FunctionRunBatch[]} {
  const batches: FunctionRunBatch[] = []
  return {batches, append: (batch) => void batches.push(batch)}
}

describe('the function run log', () => {
  it('streams every record at once, stores only those worth keeping, and counts every one, in one batch per flush', async () => {
    // Given a run log over a recording store and stream
    const store = recordingStore()
    const streamed: FunctionRunRecord[] = []
    const runLog = createFunctionRunLog({store, publish: (records) => streamed.push(...records), log: memoryLogger(), flushMs: 20})

    // When 1,000 unchanged, 1 changed with a console line, 1 dropped and 1 error are recorded
    const plain = Array.from({length: 1000}, () => record('unchanged'))
    const withConsole = record('changed', {console: [{level: 'log', message: 'hashed'}]})
    const dropped = record('dropped', {message: 'DropEvent thrown'})
    const error = record('error', {function: 'crm', kind: 'destination', stage: 'destination', target: 'crm', errorClass: 'RetryError', message: 'later'})
    runLog.record(plain)
    runLog.record([withConsole, dropped, error])

    // Then the stream has all of them at once, and the store nothing yet
    expect(streamed).toHaveLength(1003)
    expect(store.batches).toEqual([])

    // And after the flush, one batch: three rows and the counts
    await waitFor('the first batch', () => store.batches.length === 1)
    expect(store.batches[0]).toEqual({
      runs: [withConsole, dropped, error],
      counts: [
        {function: 'hash-email', stage: 'source', target: 'web', result: 'unchanged', count: 1000},
        {function: 'hash-email', stage: 'source', target: 'web', result: 'changed', count: 1},
        {function: 'hash-email', stage: 'source', target: 'web', result: 'dropped', count: 1},
        {function: 'crm', stage: 'destination', target: 'crm', result: 'error', count: 1},
      ],
    })
    await runLog.close()
    expect(store.batches).toHaveLength(1)
  })

  it('flushes as soon as 500 records wait to be kept, not in the caller’s turn', async () => {
    // Given a run log with a long timer
    const store = recordingStore()
    const runLog = createFunctionRunLog({store, log: memoryLogger(), flushMs: 60_000})

    // When 500 errors are recorded
    runLog.record(Array.from({length: 500}, () => record('error')))

    // Then nothing is written in that turn, and all of them right after
    expect(store.batches).toHaveLength(0)
    await new Promise((resolve) => setImmediate(resolve))
    await waitFor('the first batch', () => store.batches.length === 1)
    expect(store.batches[0].runs).toHaveLength(500)
    await runLog.close()
  })

  it('writes what waits on close, and takes nothing after', async () => {
    // Given a run log with records waiting
    const store = recordingStore()
    const runLog = createFunctionRunLog({store, log: memoryLogger(), flushMs: 60_000})
    runLog.record([record('error'), record('changed')])

    // When it closes, then they are written
    await runLog.close()
    expect(store.batches.map((b) => [b.runs.length, b.counts.length])).toEqual([[1, 2]])

    // And later records are ignored
    runLog.record([record('error')])
    await runLog.flush()
    expect(store.batches).toHaveLength(1)
  })

  it('never throws: a failing store and a failing stream are logged, and the next flush works', async () => {
    // Given a store that fails once, and a stream that always throws
    let failures = 1
    const batches: FunctionRunBatch[] = []
    const log = memoryLogger()
    const runLog = createFunctionRunLog({
      store: {
        append: (batch) => {
          if (failures-- > 0) throw new Error('disk full')
          batches.push(batch)
        },
      },
      publish: () => {
        throw new Error('stream gone')
      },
      log,
      flushMs: 10,
    })

    // When records come before and after the failure
    expect(() => runLog.record([record('error')])).not.toThrow()
    await runLog.flush()
    runLog.record([record('dropped')])
    await runLog.close()

    // Then the first batch is logged as lost, the second is kept
    expect(log.lines).toEqual(['function run records not kept (1 records, 1 counted runs): disk full'])
    expect(batches.map((b) => b.runs.map((r) => r.result))).toEqual([['dropped']])
  })

  it('lets the oldest go while the store falls behind, and says how many', async () => {
    // Given a store whose writes never end, and a buffer of 10
    const log = memoryLogger()
    let release: () => void = () => {}
    const batches: FunctionRunBatch[] = []
    const runLog = createFunctionRunLog({
      store: {
        append: (batch) => {
          batches.push(batch)
          return new Promise<void>((resolve) => (release = resolve))
        },
      },
      log,
      flushMs: 1,
      maxBuffered: 10,
    })
    runLog.record([record('error', {message: 'first'})])
    await waitFor('the first write', () => batches.length === 1)

    // When 15 more errors come while the first write hangs, and then it ends
    runLog.record(Array.from({length: 15}, (_, i) => record('error', {message: `e${i}`})))
    release()
    await waitFor('the second write', () => batches.length === 2)
    release()
    await runLog.close()

    // Then the newest 10 are written, and the 5 let go are reported (but still counted)
    expect(batches[1].runs.map((r) => r.message)).toEqual(['e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12', 'e13', 'e14'])
    expect(batches[1].counts).toEqual([{function: 'hash-email', stage: 'source', target: 'web', result: 'error', count: 15}])
    expect(log.lines).toEqual(['5 function run records were let go: the store fell behind'])
  })

  it('writes through the SQLite store for readers to find', async () => {
    // Given a run log over a real store
    const {dir, cleanup} = tempDir()
    cleanups.push(cleanup)
    const store = new SqliteStore(path.join(dir, 'cdp.sqlite'))
    cleanups.push(() => store.close())
    const runLog = createFunctionRunLog({store: store.functionRuns, log: memoryLogger()})

    // When records are recorded and the log closes
    runLog.record([record('unchanged'), record('error', {errorClass: 'TypeError', message: 'x is undefined'})])
    await runLog.close()

    // Then the store has the error as a row and both counted
    expect(store.functionRuns.recent({limit: 10}).map((r) => [r.id, r.result, r.errorClass, r.message])).toEqual([[1, 'error', 'TypeError', 'x is undefined']])
    expect(store.functionRuns.counts().map((c) => [c.result, c.count])).toEqual([
      ['error', 1],
      ['unchanged', 1],
    ])
  })
})
