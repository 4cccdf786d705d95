import {Analytics} from '@segment/analytics-node'
import {afterEach, describe, expect, it} from 'vitest'
import {batchBodies} from '../../src/delivery/segment.js'
import {limits} from '../../src/message/limits.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

const inbound = {name: 'upstream', writeKey: 'upstream-write-key-0009'}
let daemons: TestDaemon[] = []
let sink: Sink | undefined

afterEach(async () => {
  for (const daemon of daemons.reverse()) await daemon.close()
  daemons = []
  await sink?.close()
  sink = undefined
})

/** Daemon B receives on its own source; daemon A forwards everything to it with the segment destination. */
async function startPair(settings: Record<string, unknown> = {}): Promise<{a: TestDaemon; b: TestDaemon}> {
  const b = await startTestDaemon({config: {sources: [inbound]}})
  daemons.push(b)
  const a = await startTestDaemon({
    config: {sources: testSources, destinations: [{name: 'next-hop', type: 'segment', url: b.url, writeKey: inbound.writeKey, ...settings}]},
  })
  daemons.push(a)
  return {a, b}
}

/** A message as stored, without what belongs to one hop: sentAt (dropped on forwarding) and receivedAt. */
function withoutHop(message: Record<string, any>): Record<string, any> {
  const {sentAt: _sentAt, receivedAt: _receivedAt, ...rest} = message
  return rest
}

describe('segment destination forwarding into a second cdp dev', () => {
  it('delivers what an unmodified @segment/analytics-node sent to A unchanged to B', async () => {
    const {a, b} = await startPair()

    // Given an app sending every call type with the Segment SDK to daemon A
    const analytics = new Analytics({writeKey: testSources[0].writeKey, host: a.url, flushInterval: 50, maxRetries: 1})
    const errors: unknown[] = []
    analytics.on('error', (error) => errors.push(error))
    const userId = 'fwd-user-1'
    analytics.identify({userId, traits: {email: 'ada@example.com', plan: 'pro', address: {city: 'London'}}})
    analytics.track({
      userId,
      event: 'Order Completed',
      properties: {order_id: 'o-1', total: 42.5, products: [{sku: 'A-1', quantity: 2}], coupon: null},
      context: {campaign: {name: 'spring', source: 'newsletter', medium: 'email'}, ip: '203.0.113.9'},
      timestamp: new Date('2026-02-01T10:00:00.000Z'),
    })
    analytics.page({anonymousId: 'anon-9', category: 'Docs', name: 'Getting Started', properties: {path: '/docs'}})
    analytics.screen({userId, name: 'Settings', properties: {tab: 'billing'}})
    analytics.group({userId, groupId: 'acme', traits: {name: 'Acme', employees: 50}})
    analytics.alias({userId, previousId: 'anon-9'})
    await analytics.closeAndFlush({timeout: 10_000})
    expect(errors).toEqual([])
    const storedAtA = a.storedMessages()
    expect(storedAtA).toHaveLength(6)

    // When A forwards them
    const storedAtB = await waitFor('all 6 at B', () => {
      const messages = b.storedMessages()
      return messages.length === 6 ? messages : undefined
    })

    // Then B holds the same messages: same ids, types, fields, context, timestamps; sentAt is
    // dropped, and receivedAt is B's own
    const byId = new Map(storedAtB.map((m) => [m.messageId, m]))
    for (const sent of storedAtA) {
      const received = byId.get(sent.messageId)
      expect(received, sent.messageId).toBeDefined()
      expect(withoutHop(received!)).toEqual(withoutHop(sent))
      for (const field of ['messageId', 'type', 'event', 'userId', 'anonymousId', 'properties', 'traits', 'context', 'timestamp', 'originalTimestamp']) {
        expect(received![field], `${sent.type} ${field}`).toEqual(sent[field])
      }
      expect(sent.sentAt).toEqual(expect.any(String))
      expect(received!.sentAt).toBeUndefined()
      expect(Date.parse(received!.receivedAt)).toBeGreaterThanOrEqual(Date.parse(sent.receivedAt))
    }
    const track = byId.get(storedAtA.find((m) => m.type === 'track')!.messageId)!
    expect(track.context.library.name).toBe('@segment/analytics-node')
    expect(track.properties).toEqual({order_id: 'o-1', total: 42.5, products: [{sku: 'A-1', quantity: 2}], coupon: null})
    expect(track.originalTimestamp).toBe('2026-02-01T10:00:00.000Z')
    // Stored at B under its own source; each user's events in the order A received them (users
    // go in parallel lanes, so only that order holds).
    expect(b.storedEvents().every((e) => e.source === inbound.name)).toBe(true)
    const ofUser = (messages: Record<string, any>[]) => messages.filter((m) => m.userId === userId).map((m) => m.messageId)
    expect(ofUser(storedAtB)).toEqual(ofUser(storedAtA))
    expect(ofUser(storedAtA)).toHaveLength(5)
  })

  it('keeps a timestamp A corrected for clock skew: B does not correct it again', async () => {
    const {a, b} = await startPair()
    // A client whose clock is an hour fast: A corrects timestamp with sentAt.
    const clientNow = Date.now() + 3_600_000
    const body = {
      userId: 'skewed',
      event: 'Clock Test',
      messageId: 'skew-1',
      timestamp: new Date(clientNow - 5000).toISOString(),
      sentAt: new Date(clientNow).toISOString(),
      integrations: {All: true, Mixpanel: false},
    }
    expect((await post(`${a.url}/v1/track`, body, {writeKey: testSources[0].writeKey})).status).toBe(200)
    const [atA] = a.storedMessages()
    expect(Date.parse(atA.timestamp)).toBeLessThan(Date.now())
    const [atB] = await waitFor('the event at B', () => (b.storedMessages().length === 1 ? b.storedMessages() : undefined))
    expect(atB.timestamp).toBe(atA.timestamp)
    expect(atB.originalTimestamp).toBe(body.timestamp)
    expect(atB.integrations).toEqual({All: true, Mixpanel: false})
    expect(withoutHop(atB)).toEqual(withoutHop(atA))
  })

  it('sends to /v1/batch with the receiving source\'s write key as Basic auth, in batches of batchSize', async () => {
    sink = await startSink()
    const a = await startTestDaemon({
      config: {sources: testSources, destinations: [{name: 'next-hop', type: 'segment', url: `${sink.url}/`, writeKey: 'receiver-key', batchSize: 10}]},
    })
    daemons.push(a)
    const batch = Array.from({length: 25}, (_, i) => ({type: 'track', userId: 'batcher', event: 'Batched', messageId: `b-${i}`}))
    expect((await post(`${a.url}/v1/batch`, {batch}, {writeKey: testSources[0].writeKey})).status).toBe(200)
    await waitFor('25 events at the sink', () => sink!.accepted().length === 25)
    expect(sink.requests.map((r) => r.path)).toEqual(['/v1/batch', '/v1/batch', '/v1/batch'])
    expect(sink.requests.map((r) => JSON.parse(r.body).batch.length)).toEqual([10, 10, 5])
    for (const request of sink.requests) {
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from('receiver-key:').toString('base64')}`)
      expect(request.headers['content-type']).toBe('application/json')
    }
    expect(sink.accepted().map((m) => m.messageId)).toEqual(batch.map((m) => m.messageId))
  })

  it('dead-letters events B refuses with 401 (a wrong write key) and says so', async () => {
    const b = await startTestDaemon({config: {sources: [inbound]}})
    daemons.push(b)
    const a = await startTestDaemon({
      config: {sources: testSources, destinations: [{name: 'next-hop', type: 'segment', url: b.url, writeKey: 'not-the-key-0000'}]},
    })
    daemons.push(a)
    await post(`${a.url}/v1/track`, {userId: 'u', event: 'Refused', messageId: 'refused-1'}, {writeKey: testSources[0].writeKey})
    const report = await waitFor('the dead record', async () => {
      const answer = await getJson(`${a.url}/api/deliveries`)
      return answer.body.records.length === 1 && answer.body.records[0].status === 'dead' ? answer.body : undefined
    })
    expect(report.records[0]).toMatchObject({destination: 'next-hop', messageId: 'refused-1', attempts: 1, lastStatus: 401})
    expect(report.records[0].lastError).toMatch(/^HTTP 401: /)
    expect(b.storedMessages()).toEqual([])
  })
})

describe('batchBodies', () => {
  const message = (n: number, bytes: number) => JSON.stringify({messageId: `m-${n}`, pad: 'x'.repeat(bytes - 27 - String(n).length)})

  it('puts everything in one body when it fits', () => {
    const messages = [message(1, 100), message(2, 100)]
    expect(batchBodies(messages, 1000)).toEqual([`{"batch":[${messages.join(',')}]}`])
  })

  it('splits before the limit would be passed, keeps order, and every body is within the limit', () => {
    const messages = Array.from({length: 10}, (_, i) => message(i, 100))
    expect(messages.every((m) => Buffer.byteLength(m) === 100)).toBe(true)
    // {"batch":[ ]} is 12 bytes; three messages and two commas are 302: 314 bytes fit in 320, four do not.
    const bodies = batchBodies(messages, 320)
    expect(bodies.map((body) => JSON.parse(body).batch.length)).toEqual([3, 3, 3, 1])
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(320)
    expect(bodies.flatMap((body) => JSON.parse(body).batch.map((m: {messageId: string}) => m.messageId))).toEqual(messages.map((m) => JSON.parse(m).messageId))
  })

  it('fills a body up to exactly the limit', () => {
    const messages = Array.from({length: 4}, (_, i) => message(i, 100))
    // 12 + 3 × 100 + 2 commas = 314 bytes: exactly the limit, one body; one byte less, two.
    expect(batchBodies(messages.slice(0, 3), 314)).toHaveLength(1)
    expect(Buffer.byteLength(batchBodies(messages.slice(0, 3), 314)[0])).toBe(314)
    expect(batchBodies(messages.slice(0, 3), 313)).toHaveLength(2)
  })

  it('counts bytes, not characters', () => {
    const wide = JSON.stringify({messageId: 'w', text: 'é'.repeat(100)})
    expect(Buffer.byteLength(wide)).toBeGreaterThan(wide.length)
    const limit = 12 + Buffer.byteLength(wide) * 2 + 1
    expect(batchBodies([wide, wide, wide], limit).map((body) => JSON.parse(body).batch.length)).toEqual([2, 1])
  })

  it('sends a message bigger than the limit alone rather than losing it', () => {
    const bodies = batchBodies([message(1, 100), message(2, 600), message(3, 100)], 320)
    expect(bodies.map((body) => JSON.parse(body).batch.map((m: {messageId: string}) => m.messageId))).toEqual([['m-1'], ['m-2'], ['m-3']])
  })

  it('splits at Segment\'s 500 KB by default', () => {
    const messages = Array.from({length: 40}, (_, i) => message(i, 30 * 1024))
    const bodies = batchBodies(messages)
    expect(bodies.map((body) => JSON.parse(body).batch.length)).toEqual([16, 16, 8])
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(limits.batchBytes)
  })
})
