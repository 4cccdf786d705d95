import {readFileSync} from 'node:fs'
import type {Server} from 'node:http'
import {fileURLToPath} from 'node:url'
import type {Browser} from 'playwright-core'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {canRunBrowser, launchChromium, servePages} from '../helpers/browser.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'

const builds = {
  bundled: fileURLToPath(new URL('../../node_modules/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js', import.meta.url)),
  lite: fileURLToPath(new URL('../../node_modules/@rudderstack/analytics-js/dist/npm/modern/lite/umd/index.js', import.meta.url)),
}
// The ecommerce fixture's source and plan (plan/identify.json: email a string, required).
const writeKey = 'shop-write-key-0001'

let daemon: TestDaemon
let page: Server
let pageOrigin: string
let browser: Browser

/** Load options per mode: RudderStack's own, nothing changed in the SDK. */
const modes = {
  xhr: {},
  batch: {queueOptions: {batch: {enabled: true, maxItems: 4, flushInterval: 200}}},
  beacon: {useBeacon: true, beaconQueueOptions: {maxItems: 4, flushQueueInterval: 200}},
} as const
type Mode = keyof typeof modes

/**
 * A page on another origin that loads RudderStack's browser SDK (@rudderstack/analytics-js,
 * unmodified) with configUrl = the daemon and the daemon as data plane, and sends page, identify,
 * track and group. As RudderStack's docs have it, bar the URLs.
 */
function pageHtml(daemonUrl: string, build: string, mode: Mode, email: unknown): string {
  return `<!doctype html><html><head><title>Shop</title></head><body>
<script src="/sdk/${build}.js"></script>
<script>
  const analytics = new rudderanalytics.RudderAnalytics()
  analytics.load(${JSON.stringify(writeKey)}, ${JSON.stringify(daemonUrl)}, Object.assign({configUrl: ${JSON.stringify(daemonUrl)}, logLevel: 'ERROR'}, ${JSON.stringify(modes[mode])}))
  window.done = new Promise((resolve) => analytics.ready(() => resolve('ready')))
  analytics.page('Shop', 'Home', {section: 'front'})
  analytics.identify('rs-user-1', {email: ${JSON.stringify(email)}, plan: 'plus'})
  analytics.track('Product Added', {sku: 'B-2', price: 12.5})
  analytics.group('org-9', {name: 'Org 9'})
</script></body></html>`
}

/** Opens the page in a fresh browser context (no SDK state from another test), recording every request the page makes. */
async function run(options: {build?: keyof typeof builds; mode: Mode; email?: unknown}): Promise<{requests: {method: string; url: URL; headers: Record<string, string>}[]; stored: Record<string, any>[]}> {
  const context = await browser.newContext()
  const requests: {method: string; url: URL; headers: Record<string, string>}[] = []
  context.on('request', (request) => requests.push({method: request.method(), url: new URL(request.url()), headers: request.headers()}))
  try {
    const tab = await context.newPage()
    const query = new URLSearchParams({build: options.build ?? 'bundled', mode: options.mode, email: JSON.stringify(options.email ?? 'lin@example.com')})
    await tab.goto(`${pageOrigin}/?${query}`)
    expect(await tab.evaluate(() => (globalThis as unknown as {done: Promise<string>}).done)).toBe('ready')
    const stored = await waitFor('the four messages stored', () => (daemon.storedMessages().length >= 4 ? daemon.storedMessages() : undefined), 10_000)
    // Nothing left for another host: every request went to the page's own server or to the daemon.
    const hosts = new Set(requests.map((request) => request.url.host))
    expect([...hosts].sort()).toEqual([new URL(daemon.url).host, new URL(pageOrigin).host].sort())
    return {requests, stored}
  } finally {
    await context.close()
  }
}

const sent = ['page', 'identify', 'track', 'group']

function expectRudderMessages(stored: Record<string, any>[], email: unknown = 'lin@example.com') {
  // One request each (without batching) may arrive in any order.
  expect(stored.map((m) => m.type).sort()).toEqual([...sent].sort())
  const [pageView, identify, track, group] = sent.map((type) => stored.find((m) => m.type === type) as Record<string, any>)
  expect(pageView).toMatchObject({name: 'Home', category: 'Shop', properties: {section: 'front', path: '/', title: 'Shop'}})
  // RudderStack sends an identify's traits in context.traits only; they are stored as sent.
  expect(identify).toMatchObject({userId: 'rs-user-1', context: {traits: {email, plan: 'plus'}}})
  expect(identify).not.toHaveProperty('traits')
  expect(track).toMatchObject({event: 'Product Added', properties: {sku: 'B-2', price: 12.5}, userId: 'rs-user-1'})
  expect(group).toMatchObject({groupId: 'org-9', traits: {name: 'Org 9'}})
  for (const message of stored) {
    expect(message.context.library.name).toBe('RudderLabs JavaScript SDK')
    expect(message.anonymousId).toEqual(expect.any(String))
    expect(message.messageId).toEqual(expect.any(String))
  }
}

const paths = (requests: {url: URL}[], host: string) => requests.filter((r) => r.url.host === host).map((r) => r.url.pathname)

describe.skipIf(!canRunBrowser)('@rudderstack/analytics-js (RudderStack browser SDK v3) in a real browser', () => {
  beforeAll(async () => {
    daemon = await startTestDaemon({fixture: 'ecommerce'})
    ;({server: page, origin: pageOrigin} = await servePages((req, res) => {
      const url = new URL(req.url ?? '/', 'http://page')
      const sdk = /^\/sdk\/(bundled|lite)\.js$/.exec(url.pathname)
      if (sdk) {
        res.writeHead(200, {'content-type': 'application/javascript'}).end(readFileSync(builds[sdk[1] as keyof typeof builds]))
        return
      }
      if (url.pathname !== '/') return res.writeHead(404).end()
      const html = pageHtml(daemon.url, url.searchParams.get('build') ?? 'bundled', (url.searchParams.get('mode') ?? 'xhr') as Mode, JSON.parse(url.searchParams.get('email') ?? '""'))
      res.writeHead(200, {'content-type': 'text/html'}).end(html)
    }))
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    page?.close()
    await daemon?.close()
  })
  beforeEach(async () => {
    expect((await fetch(`${daemon.url}/api/events`, {method: 'DELETE'})).status).toBe(200)
  })

  it('loads its source config from the daemon (configUrl) and sends page, identify, track and group there', async () => {
    const {requests, stored} = await run({mode: 'xhr'})
    expectRudderMessages(stored)
    const daemonHost = new URL(daemon.url).host
    const sentPaths = paths(requests, daemonHost)
    expect(sentPaths[0]).toBe('/sourceConfig/')
    expect(sentPaths.slice(1).sort()).toEqual(['/v1/group', '/v1/identify', '/v1/page', '/v1/track'])
    const config = requests.find((r) => r.url.pathname === '/sourceConfig/')
    expect(config?.url.searchParams.get('writeKey')).toBe(writeKey)
    expect(config?.headers.authorization).toBe(`Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`)
    const identify = requests.find((r) => r.url.pathname === '/v1/identify')
    expect(identify?.headers).toMatchObject({'content-type': 'application/json;charset=UTF-8', anonymousid: expect.any(String), sentat: expect.any(String)})
    // The identify's email follows plan/identify.json, read from context.traits: no violation.
    expect((await getJson(`${daemon.url}/api/violations?kind=invalid_traits`)).body).toEqual([])
  })

  it('the lite build works the same way', async () => {
    const {stored} = await run({build: 'lite', mode: 'xhr'})
    expectRudderMessages(stored)
  })

  it('with batching on, sends one /v1/batch', async () => {
    const {requests, stored} = await run({mode: 'batch'})
    expectRudderMessages(stored)
    expect(paths(requests, new URL(daemon.url).host)).toEqual(['/sourceConfig/', '/v1/batch'])
  })

  it('with useBeacon, sends the batch by navigator.sendBeacon to /beacon/v1/batch (text/plain, the key in the URL)', async () => {
    const {requests, stored} = await run({mode: 'beacon'})
    expectRudderMessages(stored)
    const daemonHost = new URL(daemon.url).host
    expect(paths(requests, daemonHost)).toEqual(['/sourceConfig/', '/beacon/v1/batch'])
    const beacon = requests.find((r) => r.url.pathname === '/beacon/v1/batch')
    expect(beacon?.url.searchParams.get('writeKey')).toBe(writeKey)
    expect(beacon?.headers['content-type']).toBe('text/plain')
    expect(beacon?.headers).not.toHaveProperty('authorization')
  })

  it('a wrong-typed trait in a RudderStack identify (in context.traits) is recorded as a violation', async () => {
    const {stored} = await run({mode: 'xhr', email: 42})
    expectRudderMessages(stored, 42)
    const violations = (await getJson(`${daemon.url}/api/violations?kind=invalid_traits`)).body as any[]
    expect(violations.map((v) => [v.type, v.path, v.message])).toEqual([
      ['identify', 'context.traits.email', 'The value at context.traits.email must be a string but it was an integer.'],
    ])
    const identify = daemon.storedEvents().find((e) => e.message.type === 'identify')
    expect(identify?.valid).toBe(false)
  })
})
