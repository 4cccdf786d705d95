import {connect} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth, getJson, post} from '../helpers/http.js'
import {loopbackHost, rawRequest, type RawAnswer} from '../helpers/raw-http.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let t: TestDaemon
let port: number

beforeAll(async () => {
  t = await startTestDaemon()
  port = t.daemon.port
})
afterAll(async () => {
  await t?.close()
})

/** A batch of `bytes` bytes of valid JSON. */
function batchOf(bytes: number): Buffer {
  const head = '{"batch":[{"type":"track","userId":"u","event":"Big","properties":{"pad":"'
  const tail = '"}}]}'
  return Buffer.from(head + 'x'.repeat(bytes - head.length - tail.length) + tail)
}

function upload(body: Buffer, chunked: boolean): Promise<RawAnswer> {
  return rawRequest(port, {
    method: 'POST',
    path: '/v1/batch',
    headers: [loopbackHost(port), ['Authorization', basicAuth(writeKey)], ['Content-Type', 'application/json']],
    body,
    chunked,
  })
}

/** Runs `count` tasks, `parallel` at a time. */
async function inParallel<T>(count: number, parallel: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  let next = 0
  await Promise.all(
    Array.from({length: parallel}, async () => {
      while (next < count) {
        const i = next++
        results[i] = await task(i)
      }
    }),
  )
  return results
}

describe('an oversized upload always gets its 400 (lingering close)', () => {
  it.each([
    ['with Content-Length (refused before reading)', false],
    ['chunked (refused when the bytes pass the limit)', true],
  ])('answers 50 of 50 oversized batches %s, to clients that send everything before they read', async (_name, chunked) => {
    // Bodies larger than loopback's socket buffers (about 4 MB here): before the lingering close
    // every one of them ended in EPIPE or ECONNRESET while the client was still sending.
    const answers = await inParallel(50, 5, (i) => upload(batchOf(4_500_000 + i * 50_000), chunked))
    for (const answer of answers) {
      expect(answer.status).toBe(400)
      expect(answer.headers.connection).toBe('close')
      expect(answer.json).toMatchObject({success: false, code: 'limit_exceeded'})
      expect(answer.json.error).toContain('is over the limit of 500 KB a batch (512000 bytes)')
    }
    expect(t.storedMessages().filter((m) => m.event === 'Big')).toEqual([])
  })

  it('answers a single message over 32 KB the same way', async () => {
    const body = Buffer.from(JSON.stringify({writeKey, userId: 'u', event: 'Big', properties: {pad: 'x'.repeat(200_000)}}))
    const answer = await rawRequest(port, {method: 'POST', path: '/v1/track', headers: [loopbackHost(port), ['Content-Type', 'application/json']], body})
    expect(answer).toMatchObject({status: 400, json: {success: false, code: 'limit_exceeded'}})
  })

  it('cuts off a client that keeps sending after its 400, and serves others meanwhile', async () => {
    // Given a client that declares a 1 GB batch and writes as fast as the daemon reads
    const socket = connect({port, host: '127.0.0.1'})
    let written = 0
    let received = ''
    let closedAt = 0
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const closed = new Promise<void>((resolve) => {
      socket.on('close', () => {
        closedAt = Date.now()
        resolve()
      })
    })
    socket.on('error', () => undefined)
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')))
    await new Promise<void>((resolve) => socket.on('connect', resolve))
    socket.write(`POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basicAuth(writeKey)}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n`)
    // Bounded by count too: a daemon that never cut it off would fail the test, not hang it.
    const pump = async () => {
      while (!socket.destroyed && written < 256 * 1024 * 1024) {
        written += chunk.length
        if (!socket.write(chunk)) await new Promise<void>((resolve) => {
          socket.once('drain', resolve)
          socket.once('close', resolve)
        })
      }
    }
    const pumping = pump()
    // When the daemon has answered, ingest and /health still answer other clients.
    await waitFor('the daemon\'s 400 answer', () => received.includes('HTTP/1.1 400'), 10_000)
    expect((await post(`${t.url}/v1/track`, {userId: 'u', event: 'Meanwhile'}, {writeKey})).status).toBe(200)
    expect((await getJson(`${t.url}/health`)).status).toBe(200)
    await closed
    await pumping
    // Then it was cut off after about 8 MB more, far short of what it declared
    expect(written).toBeGreaterThan(8 * 1024 * 1024)
    expect(written).toBeLessThan(64 * 1024 * 1024)
    expect(received).toContain('"code":"limit_exceeded"')
    expect(closedAt).toBeGreaterThan(0)
  })

  it('cuts off a client that trickles its body, after about 5 s', async () => {
    const socket = connect({port, host: '127.0.0.1'})
    let received = ''
    socket.on('error', () => undefined)
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')))
    await new Promise<void>((resolve) => socket.on('connect', resolve))
    const started = Date.now()
    socket.write(`POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basicAuth(writeKey)}\r\nContent-Length: 900000\r\n\r\n`)
    const trickle = setInterval(() => socket.write('x'.repeat(100)), 100)
    await new Promise<void>((resolve) => socket.on('close', () => resolve()))
    clearInterval(trickle)
    const lasted = Date.now() - started
    expect(received).toContain('HTTP/1.1 400')
    expect(received).toContain('"code":"limit_exceeded"')
    expect(lasted).toBeGreaterThanOrEqual(4_900)
    expect(lasted).toBeLessThan(20_000)
  })
})
