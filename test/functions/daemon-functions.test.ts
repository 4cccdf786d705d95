import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'
import {cleanupsAfterEach, memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
const fastRetry = {maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 100}

/** A workspace folder with function files, and a daemon on it once its cdp.json is written. */
function workspaceWith(files: Record<string, string>): {dir: string; cleanup: () => void} {
  const workspace = tempDir()
  mkdirSync(path.join(workspace.dir, 'functions'))
  for (const [name, code] of Object.entries(files)) writeFileSync(path.join(workspace.dir, 'functions', name), code)
  return workspace
}

async function daemonOn(files: Record<string, string>, config: unknown, cleanups: (() => Promise<void> | void)[], log = memoryLogger()): Promise<TestDaemon & {log: typeof log}> {
  const workspace = workspaceWith(files)
  cleanups.push(workspace.cleanup)
  const daemon = await startTestDaemon({dir: workspace.dir, config, log})
  cleanups.push(() => daemon.close())
  return Object.assign(daemon, {log})
}

async function sinkFor(cleanups: (() => Promise<void> | void)[]): Promise<Sink> {
  const sink = await startSink()
  cleanups.push(() => sink.close())
  return sink
}

async function deliveries(url: string): Promise<any> {
  return (await fetch(`${url}/api/deliveries`)).json()
}

const track = (messageId: string, event: string, extra: Record<string, unknown> = {}) => ({type: 'track', userId: 'u1', event, messageId, properties: {plan: 'pro'}, ...extra})

describe('functions in cdp dev', () => {
  const cleanups = cleanupsAfterEach()

  it('a Stripe-like webhook posted to a source function becomes track events that are stored and delivered', async () => {
    // Given a source function that turns Stripe events into track calls, and a webhook destination
    const sink = await sinkFor(cleanups)
    const stripe = `
      async function onRequest(request, settings) {
        const body = request.json()
        if (body.type !== 'charge.succeeded') return
        const charge = body.data.object
        Segment.identify({userId: charge.customer, traits: {email: charge.billing_details.email}})
        Segment.track({event: 'Charge Succeeded', userId: charge.customer, messageId: body.id, properties: {amount: charge.amount / 100, currency: charge.currency, source: settings.label}})
      }`
    const daemon = await daemonOn({'stripe.js': stripe}, {
      sources: [...testSources, {name: 'stripe', writeKey: 'stripe-write-key-01'}],
      functions: [{name: 'stripe', kind: 'source', settings: {label: 'stripe-test'}}],
      destinations: [{name: 'hook', type: 'webhook', url: sink.url}],
    }, cleanups)

    // When Stripe posts a charge to the function's URL, with the source's key in the query
    const charge = {id: 'evt_1', type: 'charge.succeeded', data: {object: {customer: 'cus_9', amount: 2599, currency: 'eur', billing_details: {email: 'ada@example.com'}}}}
    const answer = await post(`${daemon.url}/v1/functions/stripe?writeKey=stripe-write-key-01`, charge)

    // Then both messages are stored as the stripe source's, and delivered
    expect(answer).toMatchObject({status: 200, body: {success: true, emitted: 2}})
    const stored = daemon.storedEvents().sort((a, b) => a.seq - b.seq)
    expect(stored.map((event) => [event.source, event.message.type, event.message.event ?? null])).toEqual([
      ['stripe', 'identify', null],
      ['stripe', 'track', 'Charge Succeeded'],
    ])
    expect(stored[1].message).toMatchObject({userId: 'cus_9', messageId: 'evt_1', properties: {amount: 25.99, currency: 'eur', source: 'stripe-test'}})
    await waitFor('sink.accepted().length === 2', () => sink.accepted().length === 2, 10_000)
    expect(sink.accepted().map((message) => message.type)).toEqual(['identify', 'track'])

    // And a request without the key, with another source's key, or to an unknown function is refused
    expect((await post(`${daemon.url}/v1/functions/stripe`, charge)).status).toBe(401)
    expect(await post(`${daemon.url}/v1/functions/stripe`, charge, {writeKey})).toMatchObject({status: 401, body: {code: 'wrong_write_key'}})
    expect(await post(`${daemon.url}/v1/functions/nope?writeKey=stripe-write-key-01`, charge)).toMatchObject({status: 404, body: {code: 'unknown_function'}})
  })

  it('a source function\'s message without a user, or a track without event, refuses the request naming the call; a throw is answered with its class', async () => {
    const source = `
      async function onRequest(request) {
        const body = request.json()
        if (body.fail) throw new ValidationError('no such customer')
        Segment.track({event: 'Fine', userId: 'u'})
        Segment.track(body.second)
      }`
    const daemon = await daemonOn({'hook.js': source}, {sources: [...testSources, {name: 'hook', writeKey: 'hook-write-key-001'}], functions: [{name: 'hook', kind: 'source'}]}, cleanups)
    const url = `${daemon.url}/v1/functions/hook?writeKey=hook-write-key-001`
    expect(await post(url, {second: {userId: 'u'}})).toMatchObject({
      status: 400,
      body: {code: 'invalid_emitted_message', error: 'source function "hook" emitted a message Segment would refuse (Segment.track() call 2 of 2: event is required for track); nothing it emitted was stored'},
    })
    expect(await post(url, {second: {event: 'Anonymous'}})).toMatchObject({status: 400, body: {error: expect.stringContaining('Segment.track() call 2 of 2: userId or anonymousId is required for track')}})
    expect(await post(url, {fail: true})).toMatchObject({status: 400, body: {code: 'function_error', errorClass: 'ValidationError', error: expect.stringContaining('ValidationError: no such customer')}})
    expect(daemon.storedEvents()).toEqual([])
  })

  it('a destination insert function renames an event; another destination\'s drops it; the stored event is unchanged', async () => {
    // Given two webhook destinations, one renaming "Signed Up" and one dropping it
    const renamed = await sinkFor(cleanups)
    const filtered = await sinkFor(cleanups)
    const rename = `async function onTrack(event) { if (event.event === 'signed_up') event.event = 'Signed Up'; return event }`
    const drop = `async function onTrack(event) { if (event.event === 'signed_up') throw new DropEvent('internal'); return event }`
    const daemon = await daemonOn({'rename.js': rename, 'drop.js': drop}, {
      sources: testSources,
      functions: [{name: 'rename', kind: 'insert'}, {name: 'drop', kind: 'insert'}],
      destinations: [
        {name: 'renamed', type: 'webhook', url: renamed.url, insert: 'rename'},
        {name: 'filtered', type: 'webhook', url: filtered.url, insert: 'drop'},
      ],
    }, cleanups)

    // When two events arrive
    expect((await post(`${daemon.url}/v1/batch`, {batch: [track('m1', 'signed_up'), track('m2', 'Order Completed')]}, {writeKey})).status).toBe(200)

    // Then the first destination gets both, the first renamed; the second only the other event
    await waitFor('renamed.accepted().length === 2 && filtered.accepted().length === 1', () => renamed.accepted().length === 2 && filtered.accepted().length === 1, 10_000)
    expect(renamed.accepted().map((message) => [message.messageId, message.event])).toEqual([['m1', 'Signed Up'], ['m2', 'Order Completed']])
    expect(filtered.accepted().map((message) => message.messageId)).toEqual(['m2'])
    expect(daemon.storedMessages().map((message) => message.event).sort()).toEqual(['Order Completed', 'signed_up'])
    // And the drop is not a failure: nothing is retrying or dead
    // (a dropped event is done with, not delivered: the destination counts one delivered)
    await waitFor('filtered to have its one event delivered', async () => (await deliveries(daemon.url)).destinations.find((d: any) => d.name === 'filtered')?.delivered === 1, 10_000)
    expect((await deliveries(daemon.url)).records).toEqual([])
  })

  it('a source insert function changes events before they are checked and stored; the raw payload stays as received; a DropEvent is not stored', async () => {
    const hash = `
      async function onIdentify(event) {
        event.traits.email = crypto.createHash('sha256').update(event.traits.email.trim().toLowerCase()).digest('hex')
        return event
      }
      async function onTrack(event) { if (event.properties && event.properties.internal) throw new DropEvent('internal traffic'); return event }`
    const daemon = await daemonOn({'hash.js': hash}, {sources: [{...testSources[0], insert: 'hash'}, testSources[1]], functions: [{name: 'hash', kind: 'insert'}]}, cleanups)
    expect((await post(`${daemon.url}/v1/identify`, {userId: 'u1', messageId: 'i1', traits: {email: ' Ada@Example.com '}}, {writeKey})).status).toBe(200)
    expect((await post(`${daemon.url}/v1/track`, {userId: 'u1', messageId: 't1', event: 'Test', properties: {internal: true}}, {writeKey})).status).toBe(200)
    expect((await post(`${daemon.url}/v1/track`, {userId: 'u1', messageId: 't2', event: 'Real'}, {writeKey})).status).toBe(200)
    const stored = daemon.storedEvents().sort((a, b) => a.seq - b.seq)
    expect(stored.map((event) => event.message.messageId)).toEqual(['i1', 't2'])
    expect(stored[0].message.traits?.email).toBe(createHash('sha256').update('ada@example.com').digest('hex'))
    // The raw payload, as received, is kept beside the normalised message
    const db = new Database(path.join(daemon.dir, '.cdp', 'cdp.sqlite'), {readonly: true})
    cleanups.push(() => void db.close())
    const raw = db.prepare("SELECT raw FROM events WHERE message_id = 'i1'").pluck().get() as string
    expect(JSON.parse(raw).traits.email).toBe(' Ada@Example.com ')
  })

  it('a destination function posts to a local sink; RetryError is retried until the sink heals, ValidationError is dead-lettered at once', async () => {
    // Given a sink that fails its first two requests, and a destination function posting to it
    const sink = await sinkFor(cleanups)
    let failures = 2
    sink.answerWith(() => (failures-- > 0 ? {status: 503} : {status: 200}))
    const port = new URL(sink.url).port
    const crm = `
      async function onTrack(event, settings) {
        if (!event.properties.email) throw new ValidationError('email is required')
        const response = await fetch(settings.url, {method: 'POST', headers: {'content-type': 'application/json', authorization: 'Bearer ' + settings.token}, body: JSON.stringify({email: event.properties.email, event: event.event})})
        if (response.status >= 500) throw new RetryError('crm answered ' + response.status)
      }`
    process.env.CDP_TEST_CRM_TOKEN = 'tok-123'
    cleanups.push(() => void delete process.env.CDP_TEST_CRM_TOKEN)
    const daemon = await daemonOn({'crm.js': crm}, {
      sources: testSources,
      functions: [{name: 'crm', kind: 'destination', allowedHosts: [`127.0.0.1:${port}`], settings: {token: {env: 'CDP_TEST_CRM_TOKEN'}}}],
      destinations: [{name: 'crm', type: 'function', function: 'crm', settings: {url: `${sink.url}/contacts`}, retry: fastRetry}],
    }, cleanups)

    // When one good and one bad event arrive
    expect((await post(`${daemon.url}/v1/batch`, {batch: [track('good', 'Signed Up', {properties: {email: 'a@b.c'}}), track('bad', 'Signed Up', {userId: 'u2'})]}, {writeKey})).status).toBe(200)

    // Then the good one arrives after two retried failures, with the secret from the environment
    await waitFor('sink.requests.some((request) => request.answered === 200)', () => sink.requests.some((request) => request.answered === 200), 15_000)
    expect(sink.requests.map((request) => request.answered)).toEqual([503, 503, 200])
    expect(JSON.parse(sink.requests[2].body)).toEqual({email: 'a@b.c', event: 'Signed Up'})
    expect(sink.requests[2].headers.authorization).toBe('Bearer tok-123')
    // And the bad one is dead at its first attempt, with Segment's class in the record
    await waitFor('(await deliveries(daemon.url)).records.length === 1', async () => (await deliveries(daemon.url)).records.length === 1, 10_000)
    const [record] = (await deliveries(daemon.url)).records
    expect(record).toMatchObject({messageId: 'bad', status: 'dead', attempts: 1})
    expect(record.lastError).toContain('ValidationError: email is required')
  })

  it('onBatch answering a status per event: only the failed event is sent again', async () => {
    const calls: string[][] = []
    const sink = await sinkFor(cleanups)
    sink.answerWith((request) => {
      calls.push(JSON.parse(request.body))
      return {status: 200}
    })
    const port = new URL(sink.url).port
    const batcher = `
      async function onBatch(events, settings) {
        const ids = events.map((event) => event.messageId)
        await fetch(settings.url, {method: 'POST', body: JSON.stringify(ids)})
        const seen = await cache.load('seen', 60000, async () => ({count: 0}))
        seen.count++
        return events.map((event) => (event.messageId === 'b2' && seen.count === 1 ? {status: 500, errormessage: 'try b2 later'} : {status: 200}))
      }`
    const daemon = await daemonOn({'batcher.js': batcher}, {
      sources: testSources,
      functions: [{name: 'batcher', kind: 'destination', allowedHosts: [`127.0.0.1:${port}`]}],
      destinations: [{name: 'batched', type: 'function', function: 'batcher', batchSize: 10, settings: {url: sink.url}, retry: fastRetry}],
    }, cleanups)
    expect((await post(`${daemon.url}/v1/batch`, {batch: [track('b1', 'A'), track('b2', 'B'), track('b3', 'C')]}, {writeKey})).status).toBe(200)
    await waitFor('calls.length >= 2', () => calls.length >= 2, 15_000)
    expect(calls).toEqual([['b1', 'b2', 'b3'], ['b2']])
    await waitFor('(await deliveries(daemon.url)).destinations[0].delivered === 3', async () => (await deliveries(daemon.url)).destinations[0].delivered === 3, 10_000)
  })

  it('an insert function that loops forever fails alone with its time limit while ingest goes on, and the next event runs', async () => {
    const sink = await sinkFor(cleanups)
    const looping = `async function onTrack(event) { if (event.event === 'Loop') { while (true) {} } return event }`
    const daemon = await daemonOn({'looping.js': looping}, {
      sources: testSources,
      functions: [{name: 'looping', kind: 'insert', timeoutMs: 1500}],
      destinations: [{name: 'hook', type: 'webhook', url: sink.url, insert: 'looping', retry: {maxAttempts: 1, initialDelayMs: 50, maxDelayMs: 50}}],
    }, cleanups)
    expect((await post(`${daemon.url}/v1/track`, track('loop', 'Loop'), {writeKey})).status).toBe(200)
    // While the loop runs (1.5 s), events are still accepted and stored
    const during = Date.now()
    for (let i = 0; i < 5; i++) expect((await post(`${daemon.url}/v1/track`, track(`during-${i}`, 'During'), {writeKey})).status).toBe(200)
    expect(Date.now() - during).toBeLessThan(1500)
    expect(daemon.storedEvents()).toHaveLength(6)
    // Then the looping event is dead with the time limit's error; the others arrive
    await waitFor('sink.accepted().length === 5', () => sink.accepted().length === 5, 15_000)
    await waitFor('(await deliveries(daemon.url)).records.length === 1', async () => (await deliveries(daemon.url)).records.length === 1, 10_000)
    const [record] = (await deliveries(daemon.url)).records
    expect(record).toMatchObject({messageId: 'loop', status: 'dead'})
    expect(record.lastError).toContain('TimeoutError')
  })

  it('an edited function applies to the next event; a broken edit keeps the last good version and says where', async () => {
    const sink = await sinkFor(cleanups)
    const daemon = await daemonOn({'tag.js': `async function onTrack(event) { event.properties.tag = 'v1'; return event }`}, {
      sources: testSources,
      functions: [{name: 'tag', kind: 'insert'}],
      destinations: [{name: 'hook', type: 'webhook', url: sink.url, insert: 'tag'}],
    }, cleanups)
    expect((await post(`${daemon.url}/v1/track`, track('e1', 'A'), {writeKey})).status).toBe(200)
    await waitFor('sink.accepted().length === 1', () => sink.accepted().length === 1, 10_000)
    expect(sink.accepted()[0].properties.tag).toBe('v1')

    // When the file is saved with a new version
    const file = path.join(daemon.dir, 'functions', 'tag.js')
    writeFileSync(file, `async function onTrack(event) { event.properties.tag = 'v2'; return event }`)
    await waitFor('daemon.log.lines.some((line) => line.includes("function "tag" (insert) reloaded"))', () => daemon.log.lines.some((line) => line.includes('function "tag" (insert) reloaded')), 5_000)
    expect((await post(`${daemon.url}/v1/track`, track('e2', 'A'), {writeKey})).status).toBe(200)
    await waitFor('sink.accepted().length === 2', () => sink.accepted().length === 2, 10_000)
    expect(sink.accepted()[1].properties.tag).toBe('v2')

    // When a broken version is saved, the error names file and line, and v2 stays in force
    writeFileSync(file, `async function onTrack(event) {\n  event.properties.tag = 'v3'\n  return event +\n}`)
    await waitFor('daemon.log.lines.some((line) => line.includes("function "tag" did not load"))', () => daemon.log.lines.some((line) => line.includes('function "tag" did not load')), 5_000)
    expect(daemon.log.lines.find((line) => line.includes('did not load'))).toMatch(/tag\.js:4/)
    expect((await post(`${daemon.url}/v1/track`, track('e3', 'A'), {writeKey})).status).toBe(200)
    await waitFor('sink.accepted().length === 3', () => sink.accepted().length === 3, 10_000)
    expect(sink.accepted()[2].properties.tag).toBe('v2')
  })

  it('declarative transformations on a source rename an event and drop a property before storage', async () => {
    const daemon = await daemonOn({}, {
      sources: [{...testSources[0], transformations: [{event: 'order_done', renameEvent: 'Order Completed'}, {dropProperties: ['card']}]}, testSources[1]],
    }, cleanups)
    expect((await post(`${daemon.url}/v1/track`, track('o1', 'order_done', {properties: {total: 5, card: '4242'}}), {writeKey})).status).toBe(200)
    expect(daemon.storedMessages()).toEqual([expect.objectContaining({event: 'Order Completed', properties: {total: 5}})])
  })
})
