import {createHmac} from 'node:crypto'
import {afterEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let daemon: TestDaemon | undefined
let sink: Sink | undefined

afterEach(async () => {
  await daemon?.close()
  await sink?.close()
  daemon = undefined
  sink = undefined
})

function track(userId: string, n: number, event = 'Order Completed'): Record<string, unknown> {
  return {userId, event, messageId: `${userId}-${n}`, properties: {n}}
}

async function startWith(destination: Record<string, unknown>): Promise<TestDaemon> {
  daemon = await startTestDaemon({config: {sources: testSources, destinations: [destination]}})
  return daemon
}

async function deliveries(query = ''): Promise<any> {
  const answer = await getJson(`${daemon!.url}/api/deliveries${query}`)
  expect(answer.status).toBe(200)
  return answer.body
}

describe('webhook destination', () => {
  it('retries a 500, a 429 with Retry-After and a timeout until every event arrives, and records each attempt', async () => {
    // Each of three events fails its first attempt in its own way.
    const firstAnswers = new Map<string, 'hang' | {status: number; headers?: Record<string, string>; body?: string}>([
      ['user-0-0', {status: 500, body: 'database unavailable'}],
      ['user-1-1', {status: 429, headers: {'retry-after': '1'}, body: 'slow down'}],
      ['user-2-2', 'hang'],
    ])
    sink = await startSink((request) => {
      const id = JSON.parse(request.body).messageId as string
      const answer = firstAnswers.get(id)
      firstAnswers.delete(id)
      return answer ?? {status: 200}
    })
    await startWith({name: 'hook', type: 'webhook', url: `${sink.url}/hook`, concurrency: 1, timeoutMs: 300, retry: {initialDelayMs: 50, maxDelayMs: 200}})

    const sent = Array.from({length: 12}, (_, i) => track(`user-${i}`, i))
    for (const message of sent) expect((await post(`${daemon!.url}/v1/track`, message, {writeKey})).status).toBe(200)

    const arrived = await waitFor('all 12 events at the sink', () => {
      const ids = new Set(sink!.accepted().map((m) => m.messageId))
      return ids.size === 12 ? ids : undefined
    })
    expect([...arrived].sort()).toEqual(sent.map((m) => m.messageId).sort())
    expect(sink.requests.map((r) => r.answered).filter((status) => status !== 200).sort()).toEqual([429, 500, 'hang'])
    // The 429 asked for a second: nothing went to the destination before that.
    const limited = sink.requests.findIndex((r) => r.answered === 429)
    expect(sink.requests[limited + 1].at - sink.requests[limited].at).toBeGreaterThanOrEqual(950)

    const report = await deliveries('?status=delivered')
    expect(report.destinations).toEqual([
      expect.objectContaining({name: 'hook', type: 'webhook', delivered: 12, pending: 0, retrying: 0, dead: 0, failedAttempts: 3, successRate: 1}),
    ])
    const records = report.records as any[]
    const success = {at: expect.any(String), ms: expect.any(Number)}
    expect(records.map((r) => [r.messageId, r.status, r.attempts])).toEqual([
      ['user-0-0', 'delivered', 2],
      ['user-1-1', 'delivered', 2],
      ['user-2-2', 'delivered', 2],
    ])
    expect(records[0].history).toEqual([expect.objectContaining({status: 500, error: 'HTTP 500: database unavailable'}), success])
    expect(records[0]).toMatchObject({lastStatus: 500, lastError: 'HTTP 500: database unavailable'})
    expect(records[1].history).toEqual([expect.objectContaining({status: 429, error: 'HTTP 429: slow down'}), success])
    expect(records[2].history).toEqual([expect.objectContaining({error: 'timed out after 300 ms'}), success])
  })

  it('keeps one user\'s events in order while the first is retried, without holding back other users', async () => {
    // alice-1 fails until the test has seen the held state, however slowly the machine runs.
    let releaseAlice = false
    sink = await startSink((request) => {
      const message = JSON.parse(request.body)
      if (message.messageId === 'alice-1' && !releaseAlice) return {status: 503}
      return {status: 200}
    })
    await startWith({name: 'hook', type: 'webhook', url: sink.url, concurrency: 4, retry: {initialDelayMs: 200, maxDelayMs: 200, maxAttempts: 100}})
    await post(`${daemon!.url}/v1/track`, track('alice', 1), {writeKey})
    await waitFor('the first attempt for alice-1', () => sink!.requests.length >= 1)
    for (let n = 2; n <= 5; n++) await post(`${daemon!.url}/v1/track`, track('alice', n), {writeKey})
    for (let n = 1; n <= 3; n++) await post(`${daemon!.url}/v1/track`, track('bob', n), {writeKey})

    // Bob's events go while Alice's first is waiting for its retry.
    await waitFor('bob\'s events', () => sink!.accepted().filter((m) => m.userId === 'bob').length === 3)
    expect(sink.accepted().filter((m) => m.userId === 'alice')).toEqual([])
    const waiting = await deliveries('?status=pending')
    expect(waiting.records.map((r: any) => r.messageId)).toEqual(['alice-2', 'alice-3', 'alice-4', 'alice-5'])
    expect(waiting.destinations[0]).toMatchObject({pending: 4, retrying: 1})

    releaseAlice = true
    await waitFor('alice\'s events', () => sink!.accepted().filter((m) => m.userId === 'alice').length === 5)
    expect(sink.accepted().filter((m) => m.userId === 'alice').map((m) => m.properties.n)).toEqual([1, 2, 3, 4, 5])
    expect((await deliveries()).destinations[0]).toMatchObject({delivered: 8, pending: 0, retrying: 0, dead: 0})
  })

  it('dead-letters a 400 at once with the body excerpt, and `cdp deliveries retry` sends it again', async () => {
    let reject = true
    sink = await startSink(() => (reject ? {status: 400, body: '{"error":"property total is required"}'} : {status: 200}))
    await startWith({name: 'crm-hook', type: 'webhook', url: sink.url, events: ['Order Completed']})
    await post(`${daemon!.url}/v1/track`, track('carol', 1), {writeKey})
    // Not in the destination's filter: never sent.
    await post(`${daemon!.url}/v1/track`, track('carol', 2, 'Product Viewed'), {writeKey})

    const dead = await waitFor('the dead-lettered event', async () => {
      const report = await deliveries()
      return report.records.length === 1 && report.records[0].status === 'dead' ? report : undefined
    })
    expect(dead.records[0]).toMatchObject({
      destination: 'crm-hook',
      messageId: 'carol-1',
      event: 'Order Completed',
      status: 'dead',
      attempts: 1,
      lastStatus: 400,
      lastError: 'HTTP 400: {"error":"property total is required"}',
    })
    expect(dead.destinations[0]).toMatchObject({delivered: 0, dead: 1, retrying: 0, pending: 0, successRate: 0})
    // Dead after one attempt, nothing retrying or pending: the destination has nothing more to send.
    expect(sink.requests).toHaveLength(1)

    const listed = await runCli(['deliveries', '--dir', daemon!.dir, '--status', 'dead'])
    expect(listed.exitCode).toBe(0)
    expect(listed.stdout).toMatch(/crm-hook\s+webhook\s+0\s+0\s+0\s+1\s+0\.0%/)
    expect(listed.stdout).toContain('carol-1 1 attempt 400 {"error":"property total is required"}')

    reject = false
    const retried = await runCli(['deliveries', 'retry', '--dir', daemon!.dir, '--json'])
    expect(retried.exitCode).toBe(0)
    expect(JSON.parse(retried.stdout)).toEqual({retried: 1, viaDaemon: true})
    await waitFor('the re-sent event', () => sink!.accepted().length === 1)
    expect(sink.accepted()[0].messageId).toBe('carol-1')
    const after = await waitFor('the delivered record', async () => {
      const report = await deliveries('?status=delivered')
      return report.records.length === 1 ? report : undefined
    })
    expect(after.destinations[0]).toMatchObject({delivered: 1, dead: 0, successRate: 1})
    expect(after.records[0].history.map((h: any) => h.status ?? 'ok')).toEqual([400, 'ok'])
  })

  it('a refused batch is sent again event by event: only the bad event is dead-lettered', async () => {
    sink = await startSink((request) => (request.body.includes('poison') ? {status: 400, body: 'cannot parse'} : {status: 200}))
    await startWith({name: 'batched', type: 'webhook', url: sink.url, batchSize: 10})
    const batch = [1, 2, 3, 4, 5].map((n) => ({type: 'track', ...track('frank', n), properties: {n, note: n === 3 ? 'poison' : 'fine'}}))
    expect((await post(`${daemon!.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    const report = await waitFor('every event settled', async () => {
      const answer = await deliveries()
      return answer.destinations[0].delivered + answer.destinations[0].dead === 5 ? answer : undefined
    })
    expect(report.destinations[0]).toMatchObject({delivered: 4, dead: 1, pending: 0, retrying: 0})
    expect(report.records.map((r: any) => [r.messageId, r.status, r.lastError])).toEqual([['frank-3', 'dead', 'HTTP 400: cannot parse']])
    // One batch of five, refused; then each event alone.
    expect(sink.requests.map((r) => JSON.parse(r.body).length)).toEqual([5, 1, 1, 1, 1, 1])
    expect(sink.accepted().map((m) => m.messageId)).toEqual(['frank-1', 'frank-2', 'frank-4', 'frank-5'])
  })

  it('signs each body with HMAC-SHA256 of the shared secret, sends custom headers, and batches when asked', async () => {
    sink = await startSink()
    await startWith({
      name: 'signed',
      type: 'webhook',
      url: sink.url,
      secret: 'shared-secret',
      headers: {'X-Team': 'growth'},
      batchSize: 50,
    })
    const batch = Array.from({length: 5}, (_, i) => ({type: 'track', ...track('dave', i)}) as Record<string, unknown>)
    expect((await post(`${daemon!.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    await waitFor('the batch', () => sink!.accepted().length === 5)
    for (const request of sink.requests) {
      expect(request.headers['x-signature']).toBe(createHmac('sha256', 'shared-secret').update(request.body).digest('hex'))
      expect(request.headers['x-team']).toBe('growth')
      expect(request.headers['content-type']).toBe('application/json')
      expect(Array.isArray(JSON.parse(request.body))).toBe(true)
    }
    expect(sink.accepted().map((m) => m.messageId)).toEqual(batch.map((m) => m.messageId))
    expect(sink.accepted()[0]).toMatchObject({type: 'track', userId: 'dave', event: 'Order Completed', properties: {n: 0}})
  })

  it('a destination that is down holds nothing else up: ingest answers and another destination gets every event', async () => {
    sink = await startSink()
    const down = await startSink(() => ({status: 503}))
    await down.close()
    daemon = await startTestDaemon({
      config: {
        sources: testSources,
        destinations: [
          {name: 'down', type: 'webhook', url: down.url, retry: {initialDelayMs: 100}},
          {name: 'up', type: 'webhook', url: sink.url, batchSize: 100},
        ],
      },
    })
    for (let i = 0; i < 50; i++) expect((await post(`${daemon.url}/v1/track`, track(`user-${i}`, i), {writeKey})).status).toBe(200)
    await waitFor('every event at the working destination', () => sink!.accepted().length === 50)
    const report = await deliveries()
    const byName = new Map(report.destinations.map((d: any) => [d.name, d]))
    expect(byName.get('up')).toMatchObject({delivered: 50, pending: 0})
    const stuck = byName.get('down') as any
    expect(stuck.delivered).toBe(0)
    expect(stuck.pending + stuck.retrying).toBe(50)
    expect(report.records.every((r: any) => r.destination === 'down' && /ECONNREFUSED/.test(r.lastError))).toBe(true)
  })

  it('after DELETE /api/events empties the store, new events are delivered again', async () => {
    sink = await startSink()
    await startWith({name: 'hook', type: 'webhook', url: sink.url})
    for (let n = 1; n <= 3; n++) await post(`${daemon!.url}/v1/track`, track('gail', n), {writeKey})
    await waitFor('three deliveries', () => sink!.accepted().length === 3)
    const reset = await fetch(`${daemon!.url}/api/events`, {method: 'DELETE'})
    expect(await reset.json()).toEqual({deleted: 3})
    await post(`${daemon!.url}/v1/track`, track('gail', 4), {writeKey})
    await waitFor('the event after the reset', () => sink!.accepted().length === 4)
    expect(sink.accepted().map((m) => m.messageId)).toEqual(['gail-1', 'gail-2', 'gail-3', 'gail-4'])
  })

  it('never forwards events quarantined by a block policy', async () => {
    sink = await startSink()
    daemon = await startTestDaemon({
      fixture: 'ecommerce',
      config: {
        sources: [{name: 'shop', writeKey: 'shop-write-key-0001', protocols: {unplanned: 'block'}}],
        destinations: [{name: 'hook', type: 'webhook', url: sink.url}],
      },
    })
    await post(`${daemon.url}/v1/track`, {userId: 'erin', event: 'Not In The Plan', messageId: 'blocked-1'}, {writeKey: 'shop-write-key-0001'})
    await post(`${daemon.url}/v1/identify`, {userId: 'erin', messageId: 'allowed-1', traits: {email: 'erin@example.com'}}, {writeKey: 'shop-write-key-0001'})
    // One user's events go out in order: had blocked-1 been forwarded, it would have arrived first.
    await waitFor('the allowed event', () => sink!.accepted().some((m) => m.messageId === 'allowed-1'))
    expect(sink.accepted().map((m) => m.messageId)).toEqual(['allowed-1'])
  })
})
