import http from 'node:http'
import v8 from 'node:v8'
import vm from 'node:vm'
import {describe, expect, it} from 'vitest'
import {maxStreamHistory, maxStreamReaders} from '../../src/stream/limits.js'
import {cleanupsAfterEach, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

/**
 * Bounded work per reader of the live stream: a cap on readers and on history, and history sent
 * a slice per turn of the event loop so that ingest and /health are answered meanwhile.
 */

const writeKey = testSources[0].writeKey

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/**
 * Memory this process holds after a full garbage collection: what the daemon keeps, not its
 * garbage. The resident size, because bytes waiting to be written to a socket are copied out of
 * the JavaScript heap.
 */
function residentBytes(): number {
  gc()
  return process.memoryUsage().rss
}
const cleanups = cleanupsAfterEach()

async function daemon(): Promise<TestDaemon> {
  const started = await startTestDaemon()
  cleanups.push(() => started.close())
  return started
}

const event = (batch: number, i: number) => ({
  type: 'track',
  userId: `user-${i}`,
  event: 'Product Viewed',
  messageId: `m-${batch}-${String(i).padStart(4, '0')}`,
  properties: {product_id: `p-${i}`, description: 'd'.repeat(520)},
})
const batchOf = (batch: number, size = 100) => ({batch: Array.from({length: size}, (_, i) => event(batch, i))})

interface Reader {
  status: number
  /** Event frames received so far (counted, not parsed: the readers must cost the test little). */
  events: () => number
  /** Whether a skipped notice came. */
  skipped: () => boolean
  /** Starts reading (a reader opened paused). */
  resume: () => void
  close: () => void
}

/** A real SSE connection that reads as data comes and counts event frames. */
function openReader(url: string, query = '', options: {paused?: boolean} = {}): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}/api/stream${query}`, (response) => {
      // A paused reader takes nothing from its socket: the kernel's buffers fill, then the daemon's.
      if (options.paused) response.pause()
      let events = 0
      let skipped = false
      let tail = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        // A frame starts with "\nevent: <kind>\n" after the blank line; it may be cut between two
        // chunks, so the last characters are looked at again with the next chunk.
        const joined = tail + chunk
        events += joined.match(/\nevent: event\n/g)?.length ?? 0
        if (joined.includes('\nevent: skipped\n')) skipped = true
        tail = joined.slice(-16)
        if (tail.includes('\nevent: event\n')) events--
      })
      const reader = {status: response.statusCode ?? 0, events: () => events, skipped: () => skipped, resume: () => void response.resume(), close: () => void request.destroy()}
      cleanups.push(reader.close)
      resolve(reader)
    })
    request.on('error', (error) => {
      if (!request.destroyed) reject(error)
    })
  })
}

describe('live stream reader limits', () => {
  it(`refuses a reader past ${maxStreamReaders} with 503 saying how many are allowed, and takes one again when a reader leaves`, async () => {
    // Given as many readers as the daemon serves
    const {url} = await daemon()
    const readers = await Promise.all(Array.from({length: maxStreamReaders}, () => openReader(url)))
    expect(readers.map((reader) => reader.status)).toEqual(Array(maxStreamReaders).fill(200))

    // When one more connects
    const refused = await getJson(`${url}/api/stream`)

    // Then it gets 503 with a JSON error naming the limit
    expect(refused.status).toBe(503)
    expect(refused.body).toEqual({
      success: false,
      code: 'too_many_readers',
      error: `the live stream already has ${maxStreamReaders} readers, the most it serves at once; close one (another cdp tail?) and try again`,
      limit: maxStreamReaders,
    })

    // and once a reader leaves, a new one is served
    readers[0].close()
    const again = await waitFor('a free place', async () => {
      const reader = await openReader(url)
      if (reader.status === 200) return reader
      reader.close()
      return undefined
    })
    expect(again.status).toBe(200)
  })

  it(`refuses history past ${maxStreamHistory} with a 400 naming the limit`, async () => {
    const {url} = await daemon()
    const answer = await getJson(`${url}/api/stream?history=${maxStreamHistory + 1}`)
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({
      success: false,
      code: 'invalid_filter',
      error: `history is at most ${maxStreamHistory}, not ${maxStreamHistory + 1}`,
      field: 'history',
      limit: maxStreamHistory,
    })
    // The limit itself is fine.
    const reader = await openReader(url, `?history=${maxStreamHistory}`)
    expect(reader.status).toBe(200)
  })

  it('readers at the cap, each asking the most history, get all of it and every live event without holding up /health or ingest', async () => {
    // Given 1,500 stored ~600-byte events
    const {url} = await daemon()
    for (let b = 0; b < 15; b++) expect((await post(`${url}/v1/batch`, batchOf(b), {writeKey})).status).toBe(200)

    // When every reader the daemon serves asks for the most history at once
    const readers = await Promise.all(Array.from({length: maxStreamReaders}, () => openReader(url, `?history=${maxStreamHistory}`)))
    expect(readers.map((reader) => reader.status)).toEqual(Array(maxStreamReaders).fill(200))
    const over = await getJson(`${url}/api/stream?history=${maxStreamHistory}`)
    expect(over.status).toBe(503)

    // and meanwhile another connection keeps sending events and asking /health
    const healthMs: number[] = []
    const ingestMs: number[] = []
    let liveBatches = 0
    const timed = async <T>(times: number[], work: () => Promise<T>): Promise<T> => {
      const started = performance.now()
      const result = await work()
      times.push(performance.now() - started)
      return result
    }
    while (readers.some((reader) => reader.events() < maxStreamHistory) || liveBatches < 5) {
      const health = await timed(healthMs, () => getJson(`${url}/health`))
      expect(health.status).toBe(200)
      const ingest = await timed(ingestMs, () => post(`${url}/v1/batch`, batchOf(100 + liveBatches, 10), {writeKey}))
      expect(ingest.status).toBe(200)
      liveBatches++
      expect(liveBatches).toBeLessThan(2000)
    }

    // Then every reader gets all its history and every live event, with nothing skipped
    const expected = maxStreamHistory + liveBatches * 10
    await waitFor('every reader to have every event', () => readers.every((reader) => reader.events() === expected))
    expect(readers.filter((reader) => reader.skipped())).toHaveLength(0)
    // /health and ingest were answered promptly all along (32,000 history events were sent meanwhile)
    expect(Math.max(...healthMs)).toBeLessThan(500)
    expect(Math.max(...ingestMs)).toBeLessThan(1000)
  })

  it('readers at the cap that ask the most history and stop reading get all of it, unskipped, once they read again', async () => {
    // Given 1,000 stored events of ~3 KB: 3 MB of history per reader
    const {url} = await daemon()
    const big = (b: number, i: number) => ({...event(b, i), properties: {product_id: `p-${i}`, description: 'd'.repeat(3000)}})
    for (let b = 0; b < 10; b++) {
      const answer = await post(`${url}/v1/batch`, {batch: Array.from({length: 100}, (_, i) => big(b, i))}, {writeKey})
      expect(answer.status).toBe(200)
    }
    const before = residentBytes()

    // When every reader the daemon serves asks for all of it and reads nothing
    const paused = await Promise.all(Array.from({length: maxStreamReaders}, () => openReader(url, `?history=${maxStreamHistory}`, {paused: true})))
    expect(paused.map((reader) => reader.status)).toEqual(Array(maxStreamReaders).fill(200))

    // Then ingest and /health are answered promptly meanwhile
    for (let round = 0; round < 20; round++) {
      const started = performance.now()
      expect((await getJson(`${url}/health`)).status).toBe(200)
      expect((await post(`${url}/v1/track`, event(200, round), {writeKey})).status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1000)
    }
    // and the process holds far less than the 96 MB of history asked for (the kernel's socket
    // buffers take part; the daemon waits for each reader with at most a slice queued)
    expect(residentBytes() - before).toBeLessThan(64 * 1024 * 1024)

    // and once they read again, each gets its whole history, then the 20 live events: nothing skipped
    for (const reader of paused) reader.resume()
    await waitFor('every reader to have every event', () => paused.every((reader) => reader.events() === maxStreamHistory + 20), 30_000)
    expect(paused.filter((reader) => reader.skipped())).toHaveLength(0)
  })
})
