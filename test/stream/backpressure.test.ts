import http from 'node:http'
import net from 'node:net'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {SseParser} from '../../src/stream/client.js'
import type {StreamItem} from '../../src/stream/types.js'
import {binPath, startDaemonProcess} from '../helpers/cli.js'
import {cleanupsAfterEach, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

/**
 * The live stream against readers that keep up and readers that stall: a reader that reads gets
 * every item whatever the batch size (write() answering false is only the response's 16 KB
 * high-water mark); history is never skipped; only a reader megabytes behind loses items, and it
 * is told how many.
 */

const writeKey = testSources[0].writeKey
const cleanups = cleanupsAfterEach()

async function daemon(): Promise<TestDaemon> {
  const started = await startTestDaemon()
  cleanups.push(() => started.close())
  return started
}

/** ~600 bytes of properties, as in the report: a realistic e-commerce event. */
function event(batch: number, i: number): Record<string, unknown> {
  return {
    type: 'track',
    userId: `user-${batch}-${i}`,
    event: 'Product Viewed',
    messageId: `m-${batch}-${String(i).padStart(4, '0')}`,
    properties: {product_id: `p-${i}`, name: 'Blue Suede Shoes', description: 'd'.repeat(520), price: 49.99},
  }
}

const batchOf = (batch: number, size = 100) => ({batch: Array.from({length: size}, (_, i) => event(batch, i))})

/** A real SSE reader (node:http), reading as fast as the data comes. */
async function openReader(url: string, query = ''): Promise<{items: StreamItem[]; status: number}> {
  const items: StreamItem[] = []
  const parser = new SseParser()
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}/api/stream${query}`, (response) => {
      response.setEncoding('utf8')
      response.on('data', (text: string) => items.push(...parser.push(text)))
      resolve({items, status: response.statusCode ?? 0})
    })
    request.on('error', (error) => {
      if (!request.destroyed) reject(error)
    })
    cleanups.push(() => void request.destroy())
  })
}

const eventIds = (items: StreamItem[]) => items.flatMap((item) => (item.kind === 'event' ? [item.messageId] : []))
const skippedItems = (items: StreamItem[]) => items.filter((item) => item.kind === 'skipped')

describe('live stream backpressure', () => {
  it('a reader that keeps up gets every event of 20 batches of 100 ~600-byte events sent at once', async () => {
    // Given a daemon and a reader reading normally
    const {url} = await daemon()
    const reader = await openReader(url)
    expect(reader.status).toBe(200)

    // When 20 batches of 100 events are sent at once (2,000 events, ~2.5 MB of frames)
    const answers = await Promise.all(Array.from({length: 20}, (_, b) => post(`${url}/v1/batch`, batchOf(b), {writeKey})))
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200))

    // Then the reader sees all 2,000, each once, and no skipped notice
    await waitFor('all 2,000 events at the reader', () => eventIds(reader.items).length >= 2000)
    const ids = eventIds(reader.items)
    expect(ids).toHaveLength(2000)
    expect(new Set(ids).size).toBe(2000)
    expect(skippedItems(reader.items)).toEqual([])
    // in commit order
    const seqs = reader.items.flatMap((item) => (item.kind === 'event' ? [item.seq] : []))
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
  })

  it('history=50 sends exactly the newest 50 stored events, then live ones, with nothing skipped', async () => {
    // Given 300 stored ~600-byte events
    const {url} = await daemon()
    for (let b = 0; b < 3; b++) expect((await post(`${url}/v1/batch`, batchOf(b), {writeKey})).status).toBe(200)

    // When a reader asks for 50 of them
    const reader = await openReader(url, '?history=50')
    await waitFor('50 history events', () => eventIds(reader.items).length >= 50)
    // and one more event is stored
    expect((await post(`${url}/v1/track`, event(9, 0), {writeKey})).status).toBe(200)
    await waitFor('the live event', () => eventIds(reader.items).includes('m-9-0000'))

    // Then it got the newest 50 in order, then the live one: 51, none skipped
    const expected = Array.from({length: 50}, (_, i) => `m-2-${String(50 + i).padStart(4, '0')}`)
    expect(eventIds(reader.items)).toEqual([...expected, 'm-9-0000'])
    expect(skippedItems(reader.items)).toEqual([])
  })

  it('history larger than a slice arrives whole and in order, and live events that come meanwhile follow it', async () => {
    // Given 1,500 stored events
    const {url} = await daemon()
    for (let b = 0; b < 15; b++) expect((await post(`${url}/v1/batch`, batchOf(b), {writeKey})).status).toBe(200)

    // When a reader asks for the most history allowed while events keep arriving
    const reader = await openReader(url, '?history=1000')
    const live = await Promise.all(Array.from({length: 5}, (_, b) => post(`${url}/v1/batch`, batchOf(100 + b, 20), {writeKey})))
    expect(live.map((answer) => answer.status)).toEqual(Array(5).fill(200))

    // Then it gets the newest 1,000 stored, then the 100 live ones: every one, once, in seq order
    await waitFor('1,100 events', () => eventIds(reader.items).length >= 1100)
    const ids = eventIds(reader.items)
    expect(ids).toHaveLength(1100)
    expect(ids[0]).toBe('m-5-0000')
    expect(ids[999]).toBe('m-14-0099')
    expect(new Set(ids.slice(1000))).toEqual(new Set(Array.from({length: 100}, (_, i) => `m-${100 + Math.floor(i / 20)}-${String(i % 20).padStart(4, '0')}`)))
    const seqs = reader.items.flatMap((item) => (item.kind === 'event' ? [item.seq] : []))
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(skippedItems(reader.items)).toEqual([])
  })

  it('history with a filter that matches few events finds them across the whole store', async () => {
    // Given 12,500 stored events of which three, far apart, are "Rare"
    const {url} = await daemon()
    for (let b = 0; b < 5; b++) {
      const batch = Array.from({length: 2500}, (_, i) => ({type: 'track', userId: 'u', event: 'Common', messageId: `c-${b}-${i}`}))
      if (b === 0) batch[10] = {type: 'track', userId: 'u', event: 'Rare', messageId: 'rare-1'}
      if (b === 2) batch[2000] = {type: 'track', userId: 'u', event: 'Rare', messageId: 'rare-2'}
      if (b === 4) batch[2499] = {type: 'track', userId: 'u', event: 'Rare', messageId: 'rare-3'}
      expect((await post(`${url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    }

    // When a reader asks for the history of that event only
    const reader = await openReader(url, '?history=1000&event=Rare')
    await post(`${url}/v1/track`, {userId: 'u', event: 'Rare', messageId: 'rare-live'}, {writeKey})

    // Then it gets the three, oldest first, then the live one
    await waitFor('the live event', () => eventIds(reader.items).includes('rare-live'))
    expect(eventIds(reader.items)).toEqual(['rare-1', 'rare-2', 'rare-3', 'rare-live'])
  })

  it('a really stalled reader loses items, is told exactly how many, and ingest never waits for it', async () => {
    // Given a reader on a raw socket that stops reading (HTTP/1.0: the body is not chunked)
    const {url} = await daemon()
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1')
    cleanups.push(() => void socket.destroy())
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('GET /api/stream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => (received += text))
    await waitFor('the stream to open', () => received.includes('cdp live stream'))
    socket.pause()

    // When ~13 MB of events are stored: more than the kernel's socket buffers and the 4 MiB bound
    const padding = 'x'.repeat(2000)
    for (let b = 0; b < 60; b++) {
      const batch = Array.from({length: 100}, (_, i) => ({type: 'track', userId: `u-${b}-${i}`, event: 'Product Viewed', properties: {name: padding}}))
      const started = Date.now()
      const answer = await post(`${url}/v1/batch`, {batch}, {writeKey})
      expect(answer.status).toBe(200)
      // Ingest does not wait for the reader: each batch is answered as if nobody read.
      expect(Date.now() - started).toBeLessThan(5000)
    }

    // Then, once it reads again, every event either reached it or is counted in a skipped notice
    socket.resume()
    const counts = () => {
      const events = received.match(/^event: event$/gm)?.length ?? 0
      const skipped = [...received.matchAll(/^event: skipped\ndata: (\{[^\n]*\})$/gm)].map((m) => JSON.parse(m[1]).count as number)
      return {events, skipped}
    }
    await waitFor('6,000 events received or counted as skipped', () => {
      const {events, skipped} = counts()
      return events + skipped.reduce((a, b) => a + b, 0) === 6000
    })
    const {events, skipped} = counts()
    expect(skipped.length).toBeGreaterThan(0)
    expect(events).toBeGreaterThan(0)
    expect(events).toBeLessThan(6000)
  })

  it('cdp tail --json --history 50 prints the 50 newest events, not a skipped notice', async () => {
    // Given a cdp dev with 300 stored ~600-byte events
    const {dir, cleanup} = tempDir()
    cleanups.push(cleanup)
    writeConfig(dir, {sources: testSources})
    const dev = await startDaemonProcess(dir)
    cleanups.push(async () => void (await dev.stop()))
    for (let b = 0; b < 3; b++) expect((await post(`${dev.url}/v1/batch`, batchOf(b), {writeKey: dev.writeKey})).status).toBe(200)

    // When cdp tail runs with its output on a pipe
    const child = execa('node', [binPath, 'tail', '--dir', dir, '--json', '--history', '50'], {
      env: {NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', NODE_ENV: 'production'},
      reject: false,
      buffer: false,
    })
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    cleanups.push(async () => {
      child.kill('SIGTERM')
      await child
    })
    const lines = () => stdout.split('\n').filter((line) => line !== '')
    await waitFor('50 lines', () => lines().length >= 50)
    // and one more event is stored, to see that nothing else came before it
    expect((await post(`${dev.url}/v1/track`, event(9, 0), {writeKey: dev.writeKey})).status).toBe(200)
    await waitFor('the live line', () => stdout.includes('m-9-0000'))

    // Then it printed the newest 50, then the live one
    const items = lines().map((line) => JSON.parse(line) as StreamItem)
    expect(items.map((item) => item.kind)).toEqual(Array(51).fill('event'))
    expect(eventIds(items)).toEqual([...Array.from({length: 50}, (_, i) => `m-2-${String(50 + i).padStart(4, '0')}`), 'm-9-0000'])
  })
})
