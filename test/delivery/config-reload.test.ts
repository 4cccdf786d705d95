import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {testSources, writeConfig} from '../helpers/workspace.js'
import {unusedPort} from '../helpers/ports.js'

const writeKey = testSources[0].writeKey
let daemon: TestDaemon | undefined
let sinks: Sink[] = []
let log: ReturnType<typeof memoryLogger>

afterEach(async () => {
  await daemon?.close()
  daemon = undefined
  await Promise.all(sinks.map((sink) => sink.close()))
  sinks = []
})

async function sink(): Promise<Sink> {
  const started = await startSink()
  sinks.push(started)
  return started
}

async function start(config: unknown, options: {fixture?: string} = {}): Promise<TestDaemon> {
  log = memoryLogger()
  daemon = await startTestDaemon({config, log, fixture: options.fixture})
  return daemon
}

/** Saves cdp.json and waits until the daemon logged what it made of it (a line containing `expected`). */
async function edit(config: unknown, expected: string): Promise<string> {
  const before = log.lines.length
  writeConfig(daemon!.dir, config)
  return waitFor(`the daemon to log "${expected}"`, () => log.lines.slice(before).find((line) => line.includes(expected)))
}

function reloaded(): string {
  return `${path.join(daemon!.dir, 'cdp.json')} reloaded`
}

async function track(messageId: string, key = writeKey, extra: Record<string, unknown> = {}): Promise<number> {
  return (await post(`${daemon!.url}/v1/track`, {userId: 'reload-user', event: 'Reload Test', messageId, ...extra}, {writeKey: key})).status
}

const ids = (target: Sink) => target.accepted().map((m) => m.messageId as string)

describe('cdp.json edited while cdp dev runs', () => {
  it('a destination added starts delivering the events that come after it', async () => {
    const hook = await sink()
    await start({sources: testSources})
    expect(await track('before-1')).toBe(200)

    await edit({sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: hook.url}]}, 'destination "hook" (webhook) started')
    expect(await track('after-1')).toBe(200)
    expect(await track('after-2')).toBe(200)

    // One user's events go out in order: had before-1 been sent, it would have arrived first.
    await waitFor('the events sent after the edit', () => ids(hook).includes('after-2'))
    expect(ids(hook)).toEqual(['after-1', 'after-2'])
  })

  it('an invalid edit is logged with every problem; the last good settings keep delivering', async () => {
    const hook = await sink()
    const good = {sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: hook.url}]}
    await start(good)
    const file = path.join(daemon!.dir, 'cdp.json')

    // An edit with two problems
    const logged = await edit(
      {sources: testSources, destinations: [{name: 'hook', type: 'webhook'}, {name: 'crm', type: 'mailchimp'}]},
      'The daemon keeps running with the settings it has.',
    )
    expect(logged.split('\n')).toEqual([
      `${file} has 2 problems:`,
      '  - /destinations/0: missing required field "url" (destination "hook")',
      '  - /destinations/1/type: destination "crm" has unknown type "mailchimp"; use one of webhook, file, segment, postgres, function',
      'The daemon keeps running with the settings it has.',
    ])
    expect(await track('while-invalid-1')).toBe(200)
    await waitFor('delivery with the last good settings', () => ids(hook).includes('while-invalid-1'))

    // A file that is not JSON at all (a save halfway through typing)
    const broken = await edit('{"sources": [', 'The daemon keeps running with the settings it has.')
    expect(broken).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: `))
    expect(await track('while-invalid-2')).toBe(200)
    await waitFor('delivery with the last good settings', () => ids(hook).includes('while-invalid-2'))

    // The destination was never stopped or restarted
    expect(log.lines.filter((line) => /^destination "hook"/.test(line))).toEqual([])

    // A valid edit applies again
    const other = await sink()
    await edit({sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: other.url}]}, 'destination "hook" (webhook) restarted with new settings')
    expect(await track('after-fix')).toBe(200)
    await waitFor('the event at the new URL', () => ids(other).includes('after-fix'))
    expect(ids(hook)).toEqual(['while-invalid-1', 'while-invalid-2'])
  })

  it('a destination removed stops; the others carry on', async () => {
    const removed = await sink()
    const kept = await sink()
    await start({
      sources: testSources,
      destinations: [
        {name: 'hook', type: 'webhook', url: removed.url},
        {name: 'other', type: 'webhook', url: kept.url},
      ],
    })
    expect(await track('both-1')).toBe(200)
    await waitFor('both destinations', () => ids(removed).length === 1 && ids(kept).length === 1)

    await edit({sources: testSources, destinations: [{name: 'other', type: 'webhook', url: kept.url}]}, 'destination "hook" stopped')
    expect(await track('one-1')).toBe(200)
    await waitFor('the kept destination', () => ids(kept).includes('one-1'))
    // "stopped" is logged once the worker has stopped, and a stopped worker sends nothing (worker.unit.test.ts).
    expect(ids(removed)).toEqual(['both-1'])
    const report = await getJson(`${daemon!.url}/api/deliveries`)
    expect(report.body.destinations.map((d: {name: string}) => d.name)).toEqual(['other'])
  })

  it('a destination set to enabled: false stops, and starts again when enabled', async () => {
    const hook = await sink()
    const destination = {name: 'hook', type: 'webhook', url: hook.url}
    await start({sources: testSources, destinations: [destination]})
    await edit({sources: testSources, destinations: [{...destination, enabled: false}]}, 'destination "hook" stopped')
    expect(await track('while-disabled')).toBe(200)
    // "stopped" is logged once the worker has stopped, and a stopped worker sends nothing (worker.unit.test.ts).
    expect(ids(hook)).toEqual([])
    const report = await getJson(`${daemon!.url}/api/deliveries`)
    expect(report.body.destinations).toEqual([expect.objectContaining({name: 'hook', enabled: false})])

    await edit({sources: testSources, destinations: [destination]}, 'destination "hook" (webhook) started')
    expect(await track('enabled-again')).toBe(200)
    await waitFor('the event after enabling', () => ids(hook).includes('enabled-again'))
  })

  it('a destination restarted with new settings picks up where it stopped: nothing sent twice but what was in flight', async () => {
    // Given a backlog of 300 events for one user going out one request at a time
    const hook = await sink()
    const destination = {name: 'hook', type: 'webhook', url: hook.url, concurrency: 1}
    await start({sources: testSources, destinations: [destination]})
    const batch = Array.from({length: 300}, (_, n) => ({type: 'track', userId: 'reload-user', event: 'Backlog', messageId: `bl-${n}`, properties: {n}}))
    expect((await post(`${daemon!.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    await waitFor('the first 50 sent', () => hook.requests.length >= 50, 15_000, 2)

    // When a setting changes while it sends
    await edit({sources: testSources, destinations: [{...destination, headers: {'X-Version': '2'}}]}, 'destination "hook" (webhook) restarted with new settings')
    await waitFor('every event', () => new Set(ids(hook)).size === 300, 20_000)

    // Then the old settings stopped before the new ones started: one switch of the header, and no
    // event sent twice except at most the one in flight at the switch
    const versions = hook.requests.map((r) => r.headers['x-version'] ?? '1')
    const switchAt = versions.indexOf('2')
    expect(switchAt).toBeGreaterThan(0)
    expect(versions.slice(switchAt).every((v) => v === '2')).toBe(true)
    expect(ids(hook).length).toBeLessThanOrEqual(301)
    const report = await waitFor('the report', async () => {
      const answer = await getJson(`${daemon!.url}/api/deliveries`)
      return answer.body.destinations[0].delivered === 300 ? answer.body : undefined
    })
    expect(report.destinations[0]).toMatchObject({delivered: 300, pending: 0, retrying: 0, dead: 0})
  })

  it('a changed destination that cannot start keeps its previous settings, and says so', async () => {
    const hook = await sink()
    await start({sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: hook.url}]})
    const port = await unusedPort()
    const logged = await edit(
      {sources: testSources, destinations: [{name: 'hook', type: 'postgres', connectionString: `postgres://cdp@127.0.0.1:${port}/analytics`}]},
      'it keeps its previous settings',
    )
    expect(logged).toBe(
      `destination "hook" (postgres): cannot connect to postgres://cdp@127.0.0.1:${port}/analytics: connect ECONNREFUSED 127.0.0.1:${port}; it keeps its previous settings`,
    )
    expect(await track('kept-1')).toBe(200)
    await waitFor('delivery with the previous settings', () => ids(hook).includes('kept-1'))
  })

  it('a source added is accepted at once with its write key; a source removed is refused', async () => {
    const [web, server] = testSources
    await start({sources: [web]})
    expect(await track('mobile-0', server.writeKey)).toBe(401)

    await edit({sources: [web, server]}, reloaded())
    expect(await track('mobile-1', server.writeKey)).toBe(200)
    expect(daemon!.storedEvents().map((e) => [e.message.messageId, e.source])).toEqual([['mobile-1', 'server']])

    await edit({sources: [server]}, reloaded())
    expect(await track('web-after', web.writeKey)).toBe(401)
    expect(await track('mobile-2', server.writeKey)).toBe(200)
  })

  it('a source\'s protocols changed apply to the next event: blocked events are no longer forwarded', async () => {
    // Given the ecommerce plan, a source that lets unplanned events through, and a destination
    const hook = await sink()
    const source = {name: 'shop', writeKey: 'shop-write-key-0001'}
    const config = (unplanned: 'allow' | 'block') => ({
      sources: [{...source, protocols: {unplanned}}],
      destinations: [{name: 'hook', type: 'webhook', url: hook.url}],
    })
    await start(config('allow'), {fixture: 'ecommerce'})
    expect(await track('unplanned-1', source.writeKey, {event: 'Not In The Plan'})).toBe(200)
    await waitFor('the unplanned event, allowed', () => ids(hook).includes('unplanned-1'))

    // When the source's policy becomes block
    await edit(config('block'), reloaded())
    expect(await track('unplanned-2', source.writeKey, {event: 'Not In The Plan'})).toBe(200)
    expect(await track('planned-1', source.writeKey, {event: 'Cart Viewed', properties: {cart_id: 'c-1', products: []}})).toBe(200)

    // Then the next unplanned event is quarantined and never sent, while planned ones still go
    // One user's events go out in order: had unplanned-2 been forwarded, it would have arrived before planned-1.
    await waitFor('the planned event', () => ids(hook).includes('planned-1'))
    expect(ids(hook)).toEqual(['unplanned-1', 'planned-1'])
    const policies = Object.fromEntries(daemon!.storedEvents().map((e) => [e.message.messageId, e.policy]))
    expect(policies).toEqual({'unplanned-1': null, 'unplanned-2': 'blocked', 'planned-1': null})
  })
})

