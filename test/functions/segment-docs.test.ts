// Issue 12's done-criterion: functions copied from Segment's docs (and RudderStack's samples) run
// unchanged through `cdp fn run` and `cdp dev`. The fixtures in test/fixtures/segment-docs/ are
// verbatim copies (sources in its README.md); none reaches the network: their hard-coded hosts are
// not in any allowedHosts, so their fetch() is refused before a connection is made.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {cleanupsAfterEach, fixturePath, memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
const fixture = (name: string) => fixturePath(`segment-docs/${name}`)
const code = (name: string) => readFileSync(fixture(name), 'utf8')
const refused = (fn: string) => `fetch(): host example-service.com is not allowed for function ${fn}: add it to the function's allowedHosts in cdp.json (it lists no host)`

// The batch shown in insert-functions.md ("Define the batch handler"), verbatim.
const docsBatch = [
  {type: 'identify', userId: '019mr8mf4r', messageId: 'ajs-next-1757955997356-c029ce21-9034-45a6-ac62-b8b23b655df5', traits: {email: 'jake@yahoo.com', name: 'Jake Peterson', age: 26}},
  {type: 'track', userId: '019mr8mf4r', messageId: 'ajs-next-1757955997356-bde2ad8e-2af9-45f5-837b-993671f6b1b0', event: 'Song Played', properties: {name: 'Fallin for You', artist: 'Dierks Bentley'}},
  {type: 'track', userId: '971mj8mk7p', messageId: 'ajs-next-1757955997356-9e2ba07c-0085-4a5b-8928-e4450a417f74', event: 'Song Played', properties: {name: 'Get Right', artist: 'Jennifer Lopez'}},
]
const song = (messageId: string, name: string) => ({type: 'track', userId: 'u1', messageId, event: 'Song Played', timestamp: '2024-05-01T10:00:00.000Z', properties: {name, artist: 'A'}})

let inputs: string
function input(name: string, value: unknown): string {
  const file = path.join(inputs, name)
  writeFileSync(file, JSON.stringify(value))
  return file
}

async function fnRun(file: string, event: unknown, flags: string[] = []) {
  const eventFile = input(`${Math.random().toString(36).slice(2)}.json`, event)
  const result = await runCli(['fn', 'run', fixture(file), '--event', eventFile, ...flags])
  return {...result, json: flags.includes('--json') ? JSON.parse(result.stdout) : undefined}
}

describe('Segment docs functions through `cdp fn run`', () => {
  beforeAll(() => {
    const dir = tempDir()
    inputs = dir.dir
    return dir.cleanup
  })

  it('insert-all-types.js (insert-functions.md FAQ): each handled type comes back unchanged; screen has no handler and is dropped', async () => {
    const event = song('m1', 'Fallin for You')
    const run = await fnRun('insert-all-types.js', event)
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(event)
    const identify = {type: 'identify', userId: 'u1', messageId: 'i1', traits: {email: 'a@b.c'}}
    expect(JSON.parse((await fnRun('insert-all-types.js', identify)).stdout)).toEqual(identify)
    const screen = await fnRun('insert-all-types.js', {type: 'screen', userId: 'u1', name: 'Home'}, ['--json'])
    expect(screen.exitCode).toBe(0)
    expect(screen.json.outcomes).toEqual([{result: 'dropped', reason: expect.any(String)}])
  })

  it('insert-errors.js (insert-functions.md "Errors and error handling"): each documented error class, DropEvent, and the refused fetch as RetryError', async () => {
    const group = await fnRun('insert-errors.js', {type: 'group', userId: 'u1', groupId: 'g1', traits: {}}, ['--json'])
    expect(group.exitCode).toBe(1)
    expect(group.json.error).toMatchObject({errorClass: 'InvalidEventPayload', message: 'Company name is required', retryable: false})
    const page = await fnRun('insert-errors.js', {type: 'page', userId: 'u1', properties: {}}, ['--json'])
    expect(page.exitCode).toBe(1)
    expect(page.json.error).toMatchObject({errorClass: 'ValidationError', message: 'Page name is required', retryable: false})
    const alias = await fnRun('insert-errors.js', {type: 'alias', userId: 'u1', previousId: 'old'}, ['--json'])
    expect(alias.exitCode).toBe(1)
    expect(alias.json.error).toMatchObject({errorClass: 'EventNotSupported', message: 'Alias event is not supported', retryable: false})

    const withCompany = await fnRun('insert-errors.js', {type: 'identify', userId: 'u1', traits: {companyName: 'Acme'}}, ['--json'])
    expect(withCompany.exitCode).toBe(0)
    expect(withCompany.json.outcomes).toEqual([{result: 'dropped', reason: 'Company name is required'}])
    const plain = {type: 'identify', userId: 'u1', traits: {name: 'Ada'}}
    const kept = await fnRun('insert-errors.js', plain)
    expect(kept.exitCode).toBe(0)
    expect(JSON.parse(kept.stdout)).toEqual(plain)

    // onTrack's fetch goes to a hard-coded host: refused, caught by the example, rethrown as RetryError
    const track = await fnRun('insert-errors.js', song('t1', 'x'), ['--json'])
    expect(track.exitCode).toBe(1)
    expect(track.json.error).toMatchObject({errorClass: 'RetryError', message: refused('insert-errors'), retryable: true})
    const text = await fnRun('insert-errors.js', song('t1', 'x'))
    expect(text.stderr).toContain(`RetryError: ${refused('insert-errors')}`)
  })

  it('insert-fetch-track.js (insert-functions.md "Code the destination insert function"): the hard-coded fetch is refused with a FetchError naming the host and the fix', async () => {
    const run = await fnRun('insert-fetch-track.js', song('t1', 'x'), ['--json'])
    expect(run.exitCode).toBe(1)
    expect(run.json.outcomes).toEqual([{result: 'error', error: expect.objectContaining({errorClass: 'FetchError', message: refused('insert-fetch-track'), retryable: true})}])
  })

  it('insert-batch-filter.js (insert-functions.md "Handling filtering in a batch"): kept events enriched, the one named "drop" dropped', async () => {
    const run = await fnRun('insert-batch-filter.js', [song('b1', 'Fallin for You'), song('b2', 'drop'), song('b3', 'Get Right')], ['--json'])
    expect(run.exitCode).toBe(0)
    expect(run.json.outcomes).toEqual([
      {result: 'changed', events: [{...song('b1', 'Fallin for You'), properties: {name: 'Fallin for You', artist: 'A', message: 'Enriched from insert function'}}]},
      {result: 'dropped', reason: 'not returned by onBatch'},
      {result: 'changed', events: [{...song('b3', 'Get Right'), properties: {name: 'Get Right', artist: 'A', message: 'Enriched from insert function'}}]},
    ])
  })

  it('insert-batch-filter.js on the docs\' own sample batch: the identify has no properties, the example throws RetryError for the whole batch (as it would on Segment)', async () => {
    const run = await fnRun('insert-batch-filter.js', docsBatch, ['--json'])
    expect(run.exitCode).toBe(1)
    expect(run.json.outcomes).toHaveLength(3)
    for (const outcome of run.json.outcomes) expect(outcome).toMatchObject({result: 'error', error: {errorClass: 'RetryError', message: 'Failed function', retryable: true}})
    expect(run.json.console[0].message).toContain("TypeError: Cannot read properties of undefined (reading 'name')")
  })

  it('insert-batch-by-type.js (insert-functions.md "Configure the event types within a batch"): the docs\' batch comes back whole, in order', async () => {
    const run = await fnRun('insert-batch-by-type.js', docsBatch)
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(docsBatch)
  })

  it('destination-post.js (destination-functions.md "Code the destination function"): the hard-coded fetch is refused, a retryable FetchError', async () => {
    const run = await fnRun('destination-post.js', song('t1', 'x'), ['--kind', 'destination', '--json'])
    expect(run.exitCode).toBe(1)
    expect(run.json.kind).toBe('destination')
    expect(run.json.error).toMatchObject({errorClass: 'FetchError', message: refused('destination-post'), retryable: true})
    const text = await fnRun('destination-post.js', song('t1', 'x'), ['--kind', 'destination'])
    expect(text.stderr).toContain(`FetchError: ${refused('destination-post')}`)
  })

  it('destination-errors.js (errors-and-error-handling include of destination-functions.md): each class, and a missing handler is EventNotSupported', async () => {
    const cases: [unknown, string, string, boolean][] = [
      [{type: 'group', userId: 'u1', groupId: 'g1', traits: {}}, 'InvalidEventPayload', 'Company name is required', false],
      [{type: 'page', userId: 'u1', properties: {}}, 'ValidationError', 'Page name is required', false],
      [{type: 'alias', userId: 'u1', previousId: 'old'}, 'EventNotSupported', 'Alias event is not supported', false],
      [song('t1', 'x'), 'RetryError', refused('destination-errors'), true],
    ]
    for (const [event, errorClass, message, retryable] of cases) {
      const run = await fnRun('destination-errors.js', event, ['--kind', 'destination', '--json'])
      expect(run.exitCode, errorClass).toBe(1)
      expect(run.json.error).toMatchObject({errorClass, message, retryable})
    }
    const identify = await fnRun('destination-errors.js', {type: 'identify', userId: 'u1', traits: {}}, ['--kind', 'destination', '--json'])
    expect(identify.exitCode).toBe(1)
    expect(identify.json.error).toMatchObject({errorClass: 'EventNotSupported', retryable: false})
    // A group with a company passes onGroup: delivered
    const ok = await fnRun('destination-errors.js', {type: 'group', userId: 'u1', groupId: 'g1', traits: {company: 'Acme'}}, ['--kind', 'destination'])
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout.trim()).toBe('delivered')
  })

  it('destination-batch-post.js (destination-functions.md "Define the batch handler"): the refused fetch fails every event of the batch', async () => {
    const run = await fnRun('destination-batch-post.js', docsBatch, ['--kind', 'destination', '--json'])
    expect(run.exitCode).toBe(1)
    expect(run.json.outcomes).toHaveLength(3)
    for (const outcome of run.json.outcomes) expect(outcome).toMatchObject({result: 'error', error: {errorClass: 'FetchError', message: refused('destination-batch-post'), retryable: true}})
  })

  it('destination-batch-by-type.js (destination-functions.md "Configure the event types within a batch"): every event delivered', async () => {
    const run = await fnRun('destination-batch-by-type.js', docsBatch, ['--kind', 'destination'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout.trim().split('\n')).toEqual(['event 1: delivered', 'event 2: delivered', 'event 3: delivered'])
  })

  it('source-send-messages.js (source-functions.md "Sending messages"): the three messages, Segment.set reported as not supported, and the group without a user refused as cdp dev refuses it', async () => {
    const run = await fnRun('source-send-messages.js', {}, ['--json'])
    // The docs' group call has neither userId nor anonymousId: cdp dev would store none of the three
    expect(run.exitCode).toBe(1)
    expect(run.json.error).toEqual({errorClass: 'ValidationError', message: 'a message Segment would refuse: Segment.group() call 3 of 3: userId or anonymousId is required for group; cdp dev stores none of them', retryable: false})
    expect(run.json.kind).toBe('source')
    expect(run.json.messages).toEqual([
      {type: 'identify', payload: {userId: 'user_id', traits: {name: 'Jane Hopper'}}},
      {type: 'track', payload: {event: 'Page Viewed', userId: 'user_id', properties: {page_name: 'Summer Collection 2020'}}},
      {type: 'group', payload: {groupId: 'group_id', traits: {name: 'Clearbit'}}},
    ])
    expect(run.json.unsupported).toEqual(['Segment.set({"collection":"products","id":"product_id","properties":{"name":"Nike Air Max"}})'])
  })

  it('source-validate-user.js (source-functions.md "Logs and errors"): console lines kept; an invalid user ID fails with the thrown Error', async () => {
    const good = await fnRun('source-validate-user.js', {userId: 'user-12345678'}, ['--json'])
    expect(good.exitCode).toBe(0)
    expect(good.json.console).toEqual([{level: 'log', message: 'User ID is user-12345678'}, {level: 'log', message: 'User ID is valid'}])
    const bad = await fnRun('source-validate-user.js', {userId: 'short'}, ['--json'])
    expect(bad.exitCode).toBe(1)
    expect(bad.json.error).toMatchObject({errorClass: 'Error', message: 'User ID is invalid'})
  })

  it('library-github-source.js (functions-library sources/github) on its own issue-opened example', async () => {
    const example = JSON.parse(code('library-github-issue-opened.json'))
    const run = await fnRun('library-github-source.js', example.payload.body, ['--header', 'X-Github-Event: issues', '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.json.messages).toEqual([{type: 'track', payload: {event: 'issues opened', userId: '147410'}}])
  })

  it('RudderStack samples (sample-user-transformers README): denylist, allowlist, source id (metadata as a function), change type', async () => {
    const denied = await fnRun('rudderstack-denylist.js', {type: 'track', userId: 'u1', event: 'game_load_time'}, ['--json'])
    expect(denied.exitCode).toBe(0)
    expect(denied.json.outcomes).toEqual([{result: 'dropped', reason: expect.any(String)}])
    const players = {type: 'track', userId: 'u1', event: 'players'}
    expect(JSON.parse((await fnRun('rudderstack-denylist.js', players)).stdout)).toEqual(players)

    const gmail = await fnRun('rudderstack-allowlist-domain.js', {type: 'track', userId: 'u1', event: 'x', context: {traits: {email: 'john@gmail.com'}}}, ['--json'])
    expect(gmail.json.outcomes).toEqual([{result: 'dropped', reason: expect.any(String)}])
    const rudder = {type: 'track', userId: 'u1', event: 'x', context: {traits: {email: 'john@rudderstack.com'}}}
    expect(JSON.parse((await fnRun('rudderstack-allowlist-domain.js', rudder)).stdout)).toEqual(rudder)

    const sourceId = await fnRun('rudderstack-source-id.js', players)
    expect(sourceId.exitCode).toBe(0)
    expect(JSON.parse(sourceId.stdout)).toEqual(players)

    const changed = await fnRun('rudderstack-change-type.js', {type: 'track', userId: 'u1', event: 'ide-authentication', properties: {email: 'john@gmail.com'}})
    expect(changed.exitCode).toBe(0)
    expect(JSON.parse(changed.stdout)).toEqual({type: 'identify', userId: 'u1', event: 'ide-authentication', properties: {email: 'john@gmail.com'}, context: {traits: {email: 'john@gmail.com'}}})
  })
})

// ---- cdp dev -------------------------------------------------------------------------------------

const retry = {maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 100}

async function daemonWith(files: Record<string, string>, config: Record<string, unknown>, cleanups: (() => Promise<void> | void)[]): Promise<TestDaemon & {log: ReturnType<typeof memoryLogger>}> {
  const workspace = tempDir()
  cleanups.push(workspace.cleanup)
  mkdirSync(path.join(workspace.dir, 'functions'))
  for (const [name, fixtureName] of Object.entries(files)) writeFileSync(path.join(workspace.dir, 'functions', name), code(fixtureName))
  const log = memoryLogger()
  const daemon = await startTestDaemon({dir: workspace.dir, config: {sources: testSources, ...config}, log})
  cleanups.push(() => daemon.close())
  return Object.assign(daemon, {log})
}

async function sinkFor(cleanups: (() => Promise<void> | void)[]): Promise<Sink> {
  const sink = await startSink()
  cleanups.push(() => sink.close())
  return sink
}

async function deliveries(url: string): Promise<{destinations: any[]; records: any[]; [key: string]: any}> {
  return (await fetch(`${url}/api/deliveries`)).json() as any
}
const recordOf = async (url: string, messageId: string) => (await deliveries(url)).records.find((record) => record.messageId === messageId)

describe('Segment docs functions through `cdp dev`', () => {
  const cleanups = cleanupsAfterEach()

  it('insert-errors.js as a destination insert function: identify passes or is dropped, group/page/alias dead at once, the refused fetch retried then dead', async () => {
    // Given the docs' error-handling insert function on a webhook destination
    const sink = await sinkFor(cleanups)
    const daemon = await daemonWith({'enrich.js': 'insert-errors.js'}, {
      functions: [{name: 'enrich', kind: 'insert'}],
      destinations: [{name: 'hook', type: 'webhook', url: sink.url, insert: 'enrich', retry}],
    }, cleanups)

    // When one event of each handled type arrives
    const batch = [
      {type: 'identify', userId: 'u1', messageId: 'id-plain', traits: {name: 'Ada'}},
      {type: 'identify', userId: 'u1', messageId: 'id-company', traits: {companyName: 'Acme'}},
      {type: 'group', userId: 'u1', messageId: 'grp', groupId: 'g1', traits: {}},
      {type: 'page', userId: 'u1', messageId: 'pg', properties: {}},
      {type: 'alias', userId: 'u1', messageId: 'al', previousId: 'old'},
      song('trk', 'x'),
    ]
    expect((await post(`${daemon.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)

    // Then everything is stored as sent
    expect(daemon.storedMessages().map((message) => message.messageId).sort()).toEqual(['al', 'grp', 'id-company', 'id-plain', 'pg', 'trk'])
    // And only the plain identify reaches the sink, unchanged
    await waitFor('the plain identify at the sink', () => sink.accepted().length === 1, 10_000)
    expect(sink.accepted()[0]).toMatchObject({type: 'identify', messageId: 'id-plain', traits: {name: 'Ada'}})
    // And group, page, alias are dead at their first attempt with Segment's class; the track dead after the retries
    await waitFor('four dead records', async () => (await deliveries(daemon.url)).records.filter((record) => record.status === 'dead').length === 4, 15_000)
    expect(await recordOf(daemon.url, 'grp')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('InvalidEventPayload: Company name is required')})
    expect(await recordOf(daemon.url, 'pg')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('ValidationError: Page name is required')})
    expect(await recordOf(daemon.url, 'al')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('EventNotSupported: Alias event is not supported')})
    expect(await recordOf(daemon.url, 'trk')).toMatchObject({status: 'dead', attempts: retry.maxAttempts, lastError: expect.stringContaining(`RetryError: ${refused('enrich')}`)})
    // And the DropEvent is no failure: no record for it
    expect(await recordOf(daemon.url, 'id-company')).toBeUndefined()
    expect(sink.requests.map((request) => JSON.parse(request.body).messageId ?? JSON.parse(request.body).batch?.[0]?.messageId)).toEqual(['id-plain'])
  })

  it('insert-all-types.js and insert-batch-filter.js as destination insert functions: events pass unchanged, or enriched and filtered in batches', async () => {
    const plain = await sinkFor(cleanups)
    const batched = await sinkFor(cleanups)
    const daemon = await daemonWith({'all.js': 'insert-all-types.js', 'filter.js': 'insert-batch-filter.js'}, {
      functions: [{name: 'all', kind: 'insert'}, {name: 'filter', kind: 'insert'}],
      destinations: [
        {name: 'plain', type: 'webhook', url: plain.url, insert: 'all', retry},
        {name: 'batched', type: 'webhook', url: batched.url, insert: 'filter', batchSize: 10, retry},
      ],
    }, cleanups)
    const events = [song('s1', 'Fallin for You'), song('s2', 'drop'), song('s3', 'Get Right')]
    expect((await post(`${daemon.url}/v1/batch`, {batch: events}, {writeKey})).status).toBe(200)

    await waitFor('plain sink has 3 and batched sink has 2', () => plain.accepted().length === 3 && batched.accepted().length === 2, 10_000)
    expect(plain.accepted().map((message) => [message.messageId, message.properties])).toEqual(events.map((event) => [event.messageId, event.properties]))
    expect(batched.accepted().map((message) => [message.messageId, message.properties.message])).toEqual([['s1', 'Enriched from insert function'], ['s3', 'Enriched from insert function']])
    // The stored events are unchanged by either
    expect(daemon.storedMessages().every((message) => message.properties.message === undefined)).toBe(true)
    // The filtered event is done with, not delivered: 3 and 2
    await waitFor('plain counted 3 delivered and batched 2', async () => (await deliveries(daemon.url)).destinations.map((d: any) => d.delivered).join() === '3,2', 10_000)
    expect((await deliveries(daemon.url)).records).toEqual([])
  })

  it('destination-post.js as a destination function: its refused fetch is retried under the retry policy, then dead-lettered with the FetchError', async () => {
    const daemon = await daemonWith({'poster.js': 'destination-post.js'}, {
      functions: [{name: 'poster', kind: 'destination'}],
      destinations: [{name: 'poster', type: 'function', function: 'poster', retry}],
    }, cleanups)
    expect((await post(`${daemon.url}/v1/track`, song('p1', 'x'), {writeKey})).status).toBe(200)
    expect(daemon.storedMessages().map((message) => message.messageId)).toEqual(['p1'])
    await waitFor('p1 dead', async () => (await recordOf(daemon.url, 'p1'))?.status === 'dead', 15_000)
    const record = await recordOf(daemon.url, 'p1')
    expect(record).toMatchObject({destination: 'poster', status: 'dead', attempts: retry.maxAttempts})
    expect(record.lastError).toContain(`FetchError: ${refused('poster')}`)
  })

  it('destination-errors.js as a destination function: final classes dead at once, a missing handler EventNotSupported, RetryError retried, a good group delivered', async () => {
    const daemon = await daemonWith({'crm.js': 'destination-errors.js'}, {
      functions: [{name: 'crm', kind: 'destination'}],
      destinations: [{name: 'crm', type: 'function', function: 'crm', retry}],
    }, cleanups)
    const batch = [
      {type: 'group', userId: 'u1', messageId: 'grp-bad', groupId: 'g1', traits: {}},
      {type: 'group', userId: 'u1', messageId: 'grp-ok', groupId: 'g1', traits: {company: 'Acme'}},
      {type: 'page', userId: 'u1', messageId: 'pg', properties: {}},
      {type: 'alias', userId: 'u1', messageId: 'al', previousId: 'old'},
      {type: 'identify', userId: 'u1', messageId: 'id', traits: {}},
      song('trk', 'x'),
    ]
    expect((await post(`${daemon.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    await waitFor('five dead records', async () => (await deliveries(daemon.url)).records.filter((record) => record.status === 'dead').length === 5, 15_000)
    expect(await recordOf(daemon.url, 'grp-bad')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('InvalidEventPayload: Company name is required')})
    expect(await recordOf(daemon.url, 'pg')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('ValidationError: Page name is required')})
    expect(await recordOf(daemon.url, 'al')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('EventNotSupported: Alias event is not supported')})
    expect(await recordOf(daemon.url, 'id')).toMatchObject({status: 'dead', attempts: 1, lastError: expect.stringContaining('EventNotSupported')})
    expect(await recordOf(daemon.url, 'trk')).toMatchObject({status: 'dead', attempts: retry.maxAttempts, lastError: expect.stringContaining(`RetryError: ${refused('crm')}`)})
    expect(await recordOf(daemon.url, 'grp-ok')).toBeUndefined()
    await waitFor('one delivered', async () => (await deliveries(daemon.url)).destinations[0]?.delivered === 1, 10_000)
  })

  it('destination-batch-by-type.js and destination-batch-post.js as batching destination functions', async () => {
    const daemon = await daemonWith({'bytype.js': 'destination-batch-by-type.js', 'batchpost.js': 'destination-batch-post.js'}, {
      functions: [{name: 'bytype', kind: 'destination'}, {name: 'batchpost', kind: 'destination'}],
      destinations: [
        {name: 'bytype', type: 'function', function: 'bytype', batchSize: 10, retry},
        {name: 'batchpost', type: 'function', function: 'batchpost', batchSize: 10, retry},
      ],
    }, cleanups)
    expect((await post(`${daemon.url}/v1/batch`, {batch: docsBatch}, {writeKey})).status).toBe(200)
    await waitFor('bytype delivered 3', async () => (await deliveries(daemon.url)).destinations.find((d: any) => d.name === 'bytype')?.delivered === 3, 10_000)
    await waitFor('batchpost: 3 dead', async () => (await deliveries(daemon.url)).records.filter((r) => r.destination === 'batchpost' && r.status === 'dead').length === 3, 15_000)
    const records = (await deliveries(daemon.url)).records
    expect(records.filter((r) => r.destination === 'bytype')).toEqual([])
    for (const record of records) expect(record.lastError).toContain(`FetchError: ${refused('batchpost')}`)
  })

  it('library-github-source.js as a source function: the issue-opened webhook becomes a stored, delivered track', async () => {
    const sink = await sinkFor(cleanups)
    const daemon = await daemonWith({'github.js': 'library-github-source.js'}, {
      sources: [...testSources, {name: 'github', writeKey: 'github-write-key-01'}],
      functions: [{name: 'github', kind: 'source'}],
      destinations: [{name: 'hook', type: 'webhook', url: sink.url, retry}],
    }, cleanups)
    const example = JSON.parse(code('library-github-issue-opened.json'))
    const answer = await post(`${daemon.url}/v1/functions/github?writeKey=github-write-key-01`, example.payload.body, {headers: {'X-Github-Event': 'issues'}})
    expect(answer).toMatchObject({status: 200, body: {success: true, emitted: 1}})
    const stored = daemon.storedEvents()
    expect(stored.map((event) => [event.source, event.message.type, event.message.event, event.message.userId])).toEqual([['github', 'track', 'issues opened', '147410']])
    await waitFor('the track at the sink', () => sink.accepted().length === 1, 10_000)
    expect(sink.accepted()[0]).toMatchObject({type: 'track', event: 'issues opened', userId: '147410'})
  })

  it('source-send-messages.js as a source function: what the docs\' "Sending messages" example gets from cdp dev', async () => {
    const daemon = await daemonWith({'docs.js': 'source-send-messages.js'}, {
      sources: [...testSources, {name: 'docs', writeKey: 'docs-write-key-0001'}],
      functions: [{name: 'docs', kind: 'source'}],
    }, cleanups)
    const answer = await post(`${daemon.url}/v1/functions/docs?writeKey=docs-write-key-0001`, {})
    // The example's Segment.group() has no userId or anonymousId: cdp refuses the whole request
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_emitted_message', error: expect.stringContaining('Segment.group() call 3 of 3: userId or anonymousId is required for group')}})
    expect(daemon.storedEvents()).toEqual([])
  })

  it('source-validate-user.js as a source function: a valid body is accepted, an invalid one answered with the Error', async () => {
    const daemon = await daemonWith({'validate.js': 'source-validate-user.js'}, {
      sources: [...testSources, {name: 'validate', writeKey: 'validate-write-key1'}],
      functions: [{name: 'validate', kind: 'source'}],
    }, cleanups)
    const url = `${daemon.url}/v1/functions/validate?writeKey=validate-write-key1`
    expect(await post(url, {userId: 'user-12345678'})).toMatchObject({status: 200, body: {success: true, emitted: 0}})
    const bad = await post(url, {userId: 'short'})
    expect(bad.body).toMatchObject({code: 'function_error', errorClass: 'Error', error: expect.stringContaining('User ID is invalid')})
    // A plain Error is final (Segment discards it), so the sender is told not to retry: 400
    expect(bad.status).toBe(400)
  })

  it('RudderStack denylist transformEvent as a destination insert function drops the denied event only', async () => {
    const sink = await sinkFor(cleanups)
    const daemon = await daemonWith({'deny.js': 'rudderstack-denylist.js'}, {
      functions: [{name: 'deny', kind: 'insert'}],
      destinations: [{name: 'hook', type: 'webhook', url: sink.url, insert: 'deny', retry}],
    }, cleanups)
    const batch = [{type: 'track', userId: 'u1', messageId: 'r1', event: 'game_load_time'}, {type: 'track', userId: 'u1', messageId: 'r2', event: 'players'}]
    expect((await post(`${daemon.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    await waitFor('players at the sink', () => sink.accepted().length === 1, 10_000)
    expect(sink.accepted().map((message) => message.messageId)).toEqual(['r2'])
    // The denied event is dropped, not delivered
    await waitFor('1 delivered', async () => (await deliveries(daemon.url)).destinations[0]?.delivered === 1, 10_000)
    expect((await deliveries(daemon.url)).records).toEqual([])
  })
})
