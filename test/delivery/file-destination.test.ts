import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {createFileDestination} from '../../src/delivery/file.js'
import type {OutgoingEvent} from '../../src/delivery/types.js'
import {silentLogger} from '../../src/log.js'
import {memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let daemon: TestDaemon | undefined
let log: ReturnType<typeof memoryLogger>

afterEach(async () => {
  await daemon?.close()
  daemon = undefined
})

/** Track calls for a few users, each with a property that makes its line a few hundred bytes. */
function batchOf(count: number, prefix = 'evt'): Record<string, unknown>[] {
  return Array.from({length: count}, (_, i) => ({
    type: 'track',
    userId: `user-${i % 3}`,
    event: 'Page Scrolled',
    messageId: `${prefix}-${String(i).padStart(4, '0')}`,
    properties: {n: i, note: 'x'.repeat(150 + (i % 7) * 10)},
  }))
}

async function sendAll(messages: Record<string, unknown>[]): Promise<void> {
  // In batches of 20, as an SDK flushes.
  for (let start = 0; start < messages.length; start += 20) {
    expect((await post(`${daemon!.url}/v1/batch`, {batch: messages.slice(start, start + 20)}, {writeKey})).status).toBe(200)
  }
}

/** The files of the destination, oldest first: path.N … path.1, path. */
function rotationFiles(file: string): string[] {
  const base = path.basename(file)
  const names = readdirSync(path.dirname(file)).filter((name) => name === base || name.startsWith(`${base}.`))
  const rank = (name: string) => (name === base ? 0 : Number(name.slice(base.length + 1)))
  return names.sort((a, b) => rank(b) - rank(a))
}

function lines(file: string): Record<string, any>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line))
}

/** How many files lines of these sizes fill, each file taking lines until the next would pass maxBytes. */
function packedFileCount(sizes: readonly number[], maxBytes: number): number {
  let files = 1
  let size = 0
  for (const bytes of sizes) {
    if (size > 0 && size + bytes > maxBytes) {
      files++
      size = 0
    }
    size += bytes
  }
  return files
}

async function delivered(): Promise<number> {
  const report = await getJson(`${daemon!.url}/api/deliveries`)
  return report.body.destinations[0].delivered as number
}

describe('file destination', () => {
  it('appends each event as one NDJSON line, the stored message unchanged', async () => {
    daemon = await startTestDaemon({config: {sources: testSources, destinations: [{name: 'archive', type: 'file', path: 'out/events.ndjson'}]}})
    const sent = batchOf(5)
    await sendAll(sent)
    const file = path.join(daemon.dir, 'out', 'events.ndjson')
    await waitFor('5 delivered', async () => (await delivered()) === 5)

    const written = lines(file)
    expect(written).toEqual(daemon.storedMessages())
    expect(written.map((m) => m.messageId)).toEqual(sent.map((m) => m.messageId))
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true)
  })

  it('rotates at maxBytes into path.1, path.2 …: each file within the limit, full, and every event exactly once, in order', async () => {
    // Given a file destination rotating at 4 KB and keeping up to 5 rotated files
    const maxBytes = 4096
    daemon = await startTestDaemon({
      config: {sources: testSources, destinations: [{name: 'archive', type: 'file', path: 'events.ndjson', maxBytes, maxFiles: 5, batchSize: 7}]},
    })
    const file = path.join(daemon.dir, 'events.ndjson')

    // When about 20 KB of events arrive
    const sent = batchOf(40)
    await sendAll(sent)
    await waitFor('40 delivered', async () => (await delivered()) === 40)

    // Then the files are exactly events.ndjson, .1, .2 … as many as packing the lines into 4 KB files takes
    const sizes = daemon.storedMessages().map((m) => Buffer.byteLength(JSON.stringify(m) + '\n'))
    const expectedCount = packedFileCount(sizes, maxBytes)
    expect(expectedCount).toBeGreaterThanOrEqual(3)
    const files = rotationFiles(file)
    expect(files).toEqual(['events.ndjson', ...Array.from({length: expectedCount - 1}, (_, i) => `events.ndjson.${i + 1}`)].reverse())
    const contents = files.map((name) => lines(path.join(daemon!.dir, name)))
    // each at most maxBytes, and each rotated one full: the next event's line would not have fitted
    files.forEach((name, i) => {
      const size = statSync(path.join(daemon!.dir, name)).size
      expect(size, name).toBeLessThanOrEqual(maxBytes)
      if (i < files.length - 1) {
        const next = Buffer.byteLength(JSON.stringify(contents[i + 1][0]) + '\n')
        expect(size + next, `${name} rotated too early`).toBeGreaterThan(maxBytes)
      }
    })
    // and every event appears once, oldest file first, in the order received
    expect(contents.flat().map((m) => m.messageId)).toEqual(sent.map((m) => m.messageId))
  })

  it('keeps maxFiles rotated files: the oldest events are rotated away, the newest kept in order', async () => {
    const maxBytes = 2048
    daemon = await startTestDaemon({
      config: {sources: testSources, destinations: [{name: 'archive', type: 'file', path: 'logs/events.ndjson', maxBytes, maxFiles: 2}]},
    })
    const file = path.join(daemon.dir, 'logs', 'events.ndjson')

    const sent = batchOf(60)
    await sendAll(sent)
    await waitFor('60 delivered', async () => (await delivered()) === 60)

    const files = rotationFiles(file)
    expect(files).toEqual(['events.ndjson.2', 'events.ndjson.1', 'events.ndjson'])
    expect(existsSync(`${file}.3`)).toBe(false)
    const kept = files.flatMap((name) => lines(path.join(daemon!.dir, 'logs', name))).map((m) => m.messageId)
    for (const name of files) expect(statSync(path.join(daemon.dir, 'logs', name)).size).toBeLessThanOrEqual(maxBytes)
    // What is kept is the newest events, contiguous and in order, ending with the last sent.
    const all = sent.map((m) => m.messageId)
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.length).toBeLessThan(all.length)
    expect(kept).toEqual(all.slice(all.length - kept.length))
  })

  it('stays within maxBytes when cdp.json changes its settings while it writes', async () => {
    // Given a backlog being written in batches of 10 lines, about half a file each
    const maxBytes = 4096
    const destination = {name: 'archive', type: 'file', path: 'events.ndjson', maxBytes, maxFiles: 100, batchSize: 10}
    log = memoryLogger()
    daemon = await startTestDaemon({config: {sources: testSources, destinations: [destination]}, log})
    const sent = batchOf(400)
    await sendAll(sent)
    await waitFor('the first events written', async () => (await delivered()) >= 50, 15_000, 5)

    // When its settings change three times while it writes (each a restart of the destination)
    for (const batchSize of [11, 12, 13]) {
      const before = log.lines.length
      writeConfig(daemon.dir, {sources: testSources, destinations: [{...destination, batchSize}]})
      await waitFor('the restart', () => log.lines.slice(before).some((line) => line === 'destination "archive" (file) restarted with new settings'))
    }
    await waitFor('every event delivered', async () => (await delivered()) >= 400, 20_000)

    // Then no file passed maxBytes, and every event is there, in order (a batch in flight at a
    // restart may be written twice: delivery is at least once)
    const files = rotationFiles(path.join(daemon.dir, 'events.ndjson'))
    for (const name of files) expect(statSync(path.join(daemon.dir, name)).size, name).toBeLessThanOrEqual(maxBytes)
    const ids = files.flatMap((name) => lines(path.join(daemon!.dir, name))).map((m) => m.messageId as string)
    expect([...new Set(ids)]).toEqual(sent.map((m) => m.messageId))
  })

  it('an adapter opened while another still writes the file reads its size when it sends (a restart\'s hand-over)', async () => {
    const {dir, cleanup} = tempDir()
    try {
      const config = {name: 'archive', type: 'file', path: 'events.ndjson', maxBytes: 1024, maxFiles: 5}
      const event = (n: number): OutgoingEvent => {
        const json = JSON.stringify({messageId: `m-${n}`, pad: 'x'.repeat(150)})
        return {seq: n, messageId: `m-${n}`, source: 'web', userKey: 'u', json, message: JSON.parse(json)}
      }
      const signal = new AbortController().signal
      const previous = createFileDestination(config, {dir, log: silentLogger})
      await previous.open!()
      await previous.send([1, 2, 3].map(event), signal)
      // Lines of 180 bytes: five fit in 1024. The replacement opens (cdp.json was edited) while the
      // previous one writes its last batch.
      const next = createFileDestination(config, {dir, log: silentLogger})
      await next.open!()
      await previous.send([4, 5].map(event), signal)
      await previous.close()
      await next.send([6, 7, 8].map(event), signal)
      await next.close()

      const files = rotationFiles(path.join(dir, 'events.ndjson'))
      expect(files).toEqual(['events.ndjson.1', 'events.ndjson'])
      for (const name of files) expect(statSync(path.join(dir, name)).size, name).toBeLessThanOrEqual(1024)
      expect(files.map((name) => lines(path.join(dir, name)).map((m) => m.messageId))).toEqual([
        ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'],
        ['m-6', 'm-7', 'm-8'],
      ])
    } finally {
      cleanup()
    }
  })

  it('carries on from the size of the file it finds after a restart', async () => {
    // Given a file that a first daemon half filled
    const maxBytes = 4096
    const config = {sources: testSources, destinations: [{name: 'archive', type: 'file', path: 'events.ndjson', maxBytes, maxFiles: 3}]}
    daemon = await startTestDaemon({config})
    const dir = daemon.dir
    const file = path.join(dir, 'events.ndjson')
    const first = batchOf(8, 'first')
    await sendAll(first)
    await waitFor('8 delivered', async () => (await delivered()) === 8)
    await daemon.daemon.stop()
    expect(rotationFiles(file)).toEqual(['events.ndjson'])

    // When a second daemon in the same workspace writes more
    const previous = daemon
    try {
      daemon = await startTestDaemon({config, dir})
      const second = batchOf(12, 'second')
      await sendAll(second)
      await waitFor('12 more delivered', async () => (await delivered()) === 20)
      await daemon.close()
      daemon = undefined

      // Then the file it found was rotated at the size set, not grown past it
      const files = rotationFiles(file)
      expect(files).toEqual(['events.ndjson.1', 'events.ndjson'])
      for (const name of files) expect(statSync(path.join(dir, name)).size).toBeLessThanOrEqual(maxBytes)
      const ids = files.flatMap((name) => lines(path.join(dir, name))).map((m) => m.messageId)
      expect(ids).toEqual([...first, ...second].map((m) => m.messageId))
    } finally {
      // The first daemon's close removes the workspace.
      await previous.close()
    }
  })
})
