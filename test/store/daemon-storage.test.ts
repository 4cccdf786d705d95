import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'
import {workspacePaths} from '../../src/config/workspace.js'
import {silentLogger} from '../../src/log.js'
import {startDev} from '../../src/services/dev.js'
import {Shutdown} from '../../src/services/shutdown.js'
import {openStorage} from '../../src/store/open-storage.js'
import type {DaemonStorage} from '../../src/store/storage.js'
import {memoryLogger, startTestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {cleanupsAfterEach} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempFolder, testSources} from '../helpers/workspace.js'

const cleanups = cleanupsAfterEach()
const workspace = () => tempFolder(cleanups)

/** Every method called on the target, as "prefix.method", then the call itself. */
function recorded<T extends object>(target: T, prefix: string, calls: string[]): T {
  return new Proxy(target, {
    get(object, key) {
      const value = Reflect.get(object, key, object) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(`${prefix}.${String(key)}`)
        return (value as (...a: unknown[]) => unknown).apply(object, args)
      }
    },
  })
}

/** The workspace's daemon storage behind a wrapper that records each call. */
async function recordingStorage(dir: string): Promise<{storage: DaemonStorage; calls: string[]}> {
  const inner = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger})
  const calls: string[] = []
  const storage: DaemonStorage = {
    events: recorded(inner.events, 'events', calls),
    deliveries: recorded(inner.deliveries, 'deliveries', calls),
    functionRuns: recorded(inner.functionRuns, 'functionRuns', calls),
    meta: recorded(inner.meta, 'meta', calls),
    replays: recorded(inner.replays, 'replays', calls),
    writer: recorded(inner.writer, 'writer', calls),
    location: inner.location,
    listen: (listeners) => inner.listen(listeners),
    health: () => inner.health(),
    close: async () => {
      calls.push('close')
      await inner.close()
    },
  }
  return {storage, calls}
}

/** Whether another daemon could take the workspace's store now (its lock was released). */
async function storeIsFree(dir: string): Promise<boolean> {
  const storage = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger}).catch(() => undefined)
  await storage?.close()
  return storage !== undefined
}

describe('startDev on a storage passed in', () => {
  it('keeps its write key, stores and answers through it, and closes it at stop', async () => {
    // Given a workspace with no cdp.json and its storage wrapped to record calls
    const dir = workspace()
    const {storage, calls} = await recordingStorage(dir)
    const daemon = await startDev({dir, port: 0, host: '127.0.0.1', log: silentLogger, storage})
    cleanups.push(() => daemon.stop())

    // When an event is sent and read back over the API
    const sent = await post(`${daemon.url}/v1/track`, {userId: 'u1', event: 'Signed Up'}, {writeKey: daemon.sources[0].writeKey})
    const events = await getJson(`${daemon.url}/api/events`)

    // Then the default source's key was kept in its meta, the event went through its writer and came back through its events
    expect(sent.status).toBe(200)
    expect(events.body).toEqual([expect.objectContaining({userId: 'u1', event: 'Signed Up'})])
    expect(calls).toEqual(expect.arrayContaining(['meta.get', 'meta.set', 'writer.submit', 'events.queryEvents']))

    // And stop() closes it last, releasing the store for the next daemon
    await daemon.stop()
    expect(calls.at(-1)).toBe('close')
    expect(await storeIsFree(dir)).toBe(true)
  })
})

describe('stopping the daemon', () => {
  it('closes every part when one fails, the store last, and reports the failure', async () => {
    // Given a daemon whose group commit fails to close
    const dir = workspace()
    const log = memoryLogger()
    const recording = await recordingStorage(dir)
    const writer = recording.storage.writer
    const failing: DaemonStorage = {...recording.storage, writer: {submit: (events) => writer.submit(events), close: () => Promise.reject(new Error('disk on fire'))}}
    const daemon = await startDev({dir, port: 0, host: '127.0.0.1', log, storage: failing})

    // When it stops
    const stopped = await daemon.stop().then(
      () => undefined,
      (error: unknown) => error,
    )

    // Then stop() rejects naming the part that failed, the log says so, and the server and the store are closed all the same
    expect(stopped).toBeInstanceOf(AggregateError)
    expect((stopped as AggregateError).message).toContain('group commit: disk on fire')
    expect(log.lines.join('\n')).toContain('closing the group commit failed: disk on fire')
    expect(recording.calls.at(-1)).toBe('close')
    await expect(fetch(`${daemon.url}/health`)).rejects.toThrow()
    expect(await storeIsFree(dir)).toBe(true)
  })

  it('closes parts last started first, each whatever the others do, and names every failure', async () => {
    // Given four parts, two of which fail to close
    const log = memoryLogger()
    const closed: string[] = []
    const shutdown = new Shutdown()
    shutdown.add('store', () => closed.push('store'))
    shutdown.add('plans', () => {
      closed.push('plans')
      throw new Error('watcher stuck')
    })
    shutdown.add('delivery', async () => closed.push('delivery'))
    shutdown.add('server', () => {
      closed.push('server')
      return Promise.reject(new Error('socket gone'))
    })

    // When they are closed
    const error = await shutdown.run(log).catch((e: unknown) => e)

    // Then all closed in reverse order, and both failures were logged and reported
    expect(closed).toEqual(['server', 'delivery', 'plans', 'store'])
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['server: socket gone', 'plans: watcher stuck'])
    expect(log.lines.filter((line) => line.includes('while stopping'))).toHaveLength(2)
  })
})

describe('WAL checkpoint failures', () => {
  it('are logged and shown in /health while ok stays true, then the recovery too', async () => {
    // Given a running daemon
    const log = memoryLogger()
    const t = await startTestDaemon({log})
    cleanups.push(() => t.close())
    const writeKey = testSources[0].writeKey
    expect((await post(`${t.url}/v1/track`, {userId: 'u1', event: 'First'}, {writeKey})).status).toBe(200)
    // (its checkpoint thread running)
    const before = await waitFor('a first checkpoint', async () => {
      const body = (await getJson(`${t.url}/health`)).body
      return body.store.checkpoint.lastOkAt === null ? undefined : body
    })
    expect(before).toMatchObject({ok: true, version: expect.any(String), store: {checkpoint: {failures: 0, lastError: null, lastFailedAt: null}}})

    // When another connection holds the checkpoint lock for 1.5 s: a TRUNCATE waiting for a reader
    // whose snapshot is older than the last commit (the checkpoint thread's PASSIVE ones get SQLITE_BUSY)
    const reader = new Database(t.daemon.database, {readonly: true})
    const truncating = new Database(t.daemon.database, {timeout: 1500})
    try {
      reader.exec('BEGIN')
      reader.prepare('SELECT count(*) FROM events').get()
      expect((await post(`${t.url}/v1/track`, {userId: 'u1', event: 'Second'}, {writeKey})).status).toBe(200)
      const [result] = truncating.pragma('wal_checkpoint(TRUNCATE)') as {busy: number}[]
      expect(result.busy).toBe(1)
      reader.exec('COMMIT')
    } finally {
      reader.close()
      truncating.close()
    }

    // Then /health counts the failures with the last error, ok stays true, and the log says so once
    const failing = await waitFor('a failure in /health', async () => {
      const body = (await getJson(`${t.url}/health`)).body
      return body.store.checkpoint.failures > 0 ? body : undefined
    })
    expect(failing).toMatchObject({ok: true, store: {checkpoint: {lastError: expect.stringContaining('SQLITE_BUSY'), lastFailedAt: expect.any(String)}}})
    expect(log.lines.filter((line) => line.includes('WAL checkpoint by the checkpoint thread failed'))).toHaveLength(1)

    // And once checkpoints succeed again, the log and /health say so
    const recovered = await waitFor('a checkpoint after the failures', async () => {
      const {checkpoint} = (await getJson(`${t.url}/health`)).body.store
      return checkpoint.lastOkAt !== null && checkpoint.lastOkAt > checkpoint.lastFailedAt ? checkpoint : undefined
    })
    expect(recovered.failures).toBeGreaterThanOrEqual(failing.store.checkpoint.failures)
    expect(log.lines.some((line) => line.includes('WAL checkpoints succeed again'))).toBe(true)
  })
})
