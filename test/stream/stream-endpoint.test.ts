import http from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {SseParser} from '../../src/stream/client.js'
import type {StreamItem} from '../../src/stream/types.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'

const writeKey = 'shop-write-key-0001'
let daemon: TestDaemon | undefined
let sink: Sink | undefined
const readers: {close: () => void}[] = []

afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close()
  await daemon?.close()
  await sink?.close()
  daemon = undefined
  sink = undefined
})

/** A real SSE connection to the daemon, collecting the items it receives. */
async function openStream(query: string): Promise<{items: StreamItem[]; status: number; close: () => void}> {
  const items: StreamItem[] = []
  const parser = new SseParser()
  return new Promise((resolve, reject) => {
    const request = http.get(`${daemon!.url}/api/stream${query}`, (response) => {
      response.setEncoding('utf8')
      response.on('data', (text: string) => items.push(...parser.push(text)))
      const reader = {items, status: response.statusCode ?? 0, close: () => request.destroy()}
      readers.push(reader)
      resolve(reader)
    })
    request.on('error', (error) => {
      if (!request.destroyed) reject(error)
    })
  })
}

async function startShop(destinations: unknown[] = []): Promise<void> {
  daemon = await startTestDaemon({fixture: 'ecommerce', config: {sources: [{name: 'shop', writeKey}], destinations}})
}

const viewed = (n: number, properties: Record<string, unknown> = {product_id: `p-${n}`}) => ({
  userId: `user-${n}`,
  event: 'Product Viewed',
  messageId: `viewed-${n}`,
  properties,
})

describe('GET /api/stream', () => {
  it('sends each stored event with its plan result and violations, then its delivery outcomes, in order', async () => {
    sink = await startSink()
    await startShop([{name: 'hook', type: 'webhook', url: sink.url}])
    const stream = await openStream('')
    expect(stream.status).toBe(200)
    expect((await post(`${daemon!.url}/v1/track`, viewed(1), {writeKey})).status).toBe(200)
    expect((await post(`${daemon!.url}/v1/track`, viewed(2, {price: 'free', quantity: 0}), {writeKey})).status).toBe(200)
    await waitFor('two events and two deliveries', () => stream.items.length >= 4)

    const events = stream.items.filter((item) => item.kind === 'event') as Extract<StreamItem, {kind: 'event'}>[]
    expect(events.map((e) => [e.messageId, e.type, e.name, e.userId, e.source, e.valid])).toEqual([
      ['viewed-1', 'track', 'Product Viewed', 'user-1', 'shop', true],
      ['viewed-2', 'track', 'Product Viewed', 'user-2', 'shop', false],
    ])
    expect(events[0].violations).toEqual([])
    expect(events[1].violations.map((v) => [v.kind, v.path])).toEqual([
      ['missing_required', 'properties.product_id'],
      ['wrong_type', 'properties.price'],
      ['constraint', 'properties.quantity'],
    ])
    expect(events[1].message).toMatchObject({messageId: 'viewed-2', properties: {price: 'free', quantity: 0}})
    expect(events[1].seq).toBe(events[0].seq + 1)

    const deliveries = stream.items.filter((item) => item.kind === 'delivery')
    expect(deliveries).toEqual([
      {kind: 'delivery', destination: 'hook', seq: events[0].seq, messageId: 'viewed-1', status: 'delivered', attempts: 1},
      {kind: 'delivery', destination: 'hook', seq: events[1].seq, messageId: 'viewed-2', status: 'delivered', attempts: 1},
    ])
    // Each delivery follows its event.
    const order = stream.items.map((item) => (item.kind === 'skipped' ? 'skipped' : item.kind === 'function' ? `function:${item.run.messageId}` : item.kind === 'replay' ? `replay:${item.replay.id}` : `${item.kind}:${item.messageId}`))
    expect(order.indexOf('delivery:viewed-1')).toBeGreaterThan(order.indexOf('event:viewed-1'))
    expect(order.indexOf('delivery:viewed-2')).toBeGreaterThan(order.indexOf('event:viewed-2'))
  })

  it('reports failed attempts as they happen', async () => {
    sink = await startSink(() => ({status: 400, body: 'bad payload'}))
    await startShop([{name: 'hook', type: 'webhook', url: sink.url}])
    const stream = await openStream('')
    await post(`${daemon!.url}/v1/track`, viewed(1), {writeKey})
    const dead = await waitFor('the dead-letter outcome', () => stream.items.find((item) => item.kind === 'delivery'))
    expect(dead).toEqual({kind: 'delivery', destination: 'hook', seq: 1, messageId: 'viewed-1', status: 'dead', attempts: 1, httpStatus: 400, error: 'HTTP 400: bad payload'})
  })

  it('filters by type, event, user, source and violations', async () => {
    await startShop()
    const onlyViolations = await openStream('?violations=true')
    const onlyIdentify = await openStream('?type=identify')
    const onlyUser2 = await openStream('?user=user-2')
    const onlyViewed = await openStream('?event=Product%20Viewed')
    const otherSource = await openStream('?source=nope')
    const everything = await openStream('')
    await post(`${daemon!.url}/v1/track`, viewed(1), {writeKey})
    await post(`${daemon!.url}/v1/track`, viewed(2, {}), {writeKey})
    await post(`${daemon!.url}/v1/identify`, {userId: 'user-3', messageId: 'identify-3', traits: {email: 'three@example.com'}}, {writeKey})
    await post(`${daemon!.url}/v1/page`, {anonymousId: 'anon-4', name: 'Home', messageId: 'page-4'}, {writeKey})
    // The hub offers each stored event to every open stream at once: when the unfiltered stream has
    // the last one, each filtered stream has been offered all four.
    await waitFor('the last event on the unfiltered stream', () => everything.items.length === 4)
    await waitFor('every filtered stream\'s events', () => onlyViolations.items.length === 1 && onlyIdentify.items.length === 1 && onlyUser2.items.length === 1 && onlyViewed.items.length === 2)
    const ids = (items: StreamItem[]) => items.map((item) => (item.kind === 'event' ? item.messageId : item.kind))
    expect(ids(onlyViolations.items)).toEqual(['viewed-2'])
    expect(ids(onlyIdentify.items)).toEqual(['identify-3'])
    expect(ids(onlyUser2.items)).toEqual(['viewed-2'])
    expect(ids(onlyViewed.items)).toEqual(['viewed-1', 'viewed-2'])
    expect(ids(otherSource.items)).toEqual([])
  })

  it('sends the newest stored events first with history=N (after a seq with after=), with their violations and delivery state', async () => {
    sink = await startSink()
    await startShop([{name: 'hook', type: 'webhook', url: sink.url}])
    for (let n = 1; n <= 5; n++) await post(`${daemon!.url}/v1/track`, viewed(n, n === 4 ? {} : {product_id: `p-${n}`}), {writeKey})
    await waitFor('deliveries', async () => (await getJson(`${daemon!.url}/api/deliveries`)).body.destinations[0].delivered === 5)
    const stream = await openStream('?history=3')
    await waitFor('three history events', () => stream.items.length === 3)
    const history = stream.items as Extract<StreamItem, {kind: 'event'}>[]
    expect(history.map((e) => e.messageId)).toEqual(['viewed-3', 'viewed-4', 'viewed-5'])
    expect(history[1].violations.map((v) => v.kind)).toEqual(['missing_required'])
    expect(history[1].valid).toBe(false)
    expect(history.map((e) => e.deliveries)).toEqual([
      [{destination: 'hook', status: 'delivered', attempts: 1}],
      [{destination: 'hook', status: 'delivered', attempts: 1}],
      [{destination: 'hook', status: 'delivered', attempts: 1}],
    ])
    const after = await openStream(`?history=10&after=${history[1].seq}`)
    await waitFor('the events after seq 4', () => after.items.length === 1)
    expect((after.items[0] as {messageId: string}).messageId).toBe('viewed-5')
    // Live events follow the history.
    await post(`${daemon!.url}/v1/track`, viewed(6), {writeKey})
    await waitFor('the live event', () => stream.items.some((item) => item.kind === 'event' && item.messageId === 'viewed-6'))
  })

  it('refuses bad parameters with a 400 that names them', async () => {
    await startShop()
    for (const [query, field] of [
      ['?history=-1', 'history'],
      ['?history=lots', 'history'],
      ['?violations=maybe', 'violations'],
      ['?after=x', 'after'],
    ]) {
      const answer = await getJson(`${daemon!.url}/api/stream${query}`)
      expect(answer.status).toBe(400)
      expect(answer.body).toMatchObject({success: false, code: 'invalid_filter', field})
    }
  })
})
