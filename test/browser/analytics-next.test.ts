import {existsSync, readFileSync} from 'node:fs'
import type {Server} from 'node:http'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Browser} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {canRunBrowser, launchChromium, servePages} from '../helpers/browser.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

const umdDir = fileURLToPath(new URL('../../node_modules/@segment/analytics-next/dist/umd/', import.meta.url))

let daemon: TestDaemon
let page: Server
let pageUrl: string
let browser: Browser

/** A page on another origin that loads analytics.js (analytics-next, unmodified) with cdnURL = the daemon. */
function pageHtml(daemonUrl: string, writeKey: string): string {
  return `<!doctype html><html><head><title>Shop</title></head><body><button id="buy">Buy</button>
<script src="/umd/index.js"></script>
<script>
  window.done = (async () => {
    const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({writeKey: ${JSON.stringify(writeKey)}, cdnURL: ${JSON.stringify(daemonUrl)}})
    await analytics.page('Shop', 'Home', {section: 'front'})
    await analytics.identify('browser-user-1', {email: 'lin@example.com'})
    await analytics.track('Product Added', {sku: 'B-2', price: 12.5})
    await analytics.group('org-9', {name: 'Org 9'})
    return 'sent'
  })().catch((error) => 'failed: ' + error)
</script></body></html>`
}

describe.skipIf(!canRunBrowser)('@segment/analytics-next in a real browser', () => {
  beforeAll(async () => {
    daemon = await startTestDaemon()
    let origin: string
    ;({server: page, origin} = await servePages((req, res) => {
      const url = new URL(req.url ?? '/', 'http://page')
      if (url.pathname.startsWith('/umd/')) {
        const file = path.join(umdDir, path.basename(url.pathname))
        if (!existsSync(file)) return res.writeHead(404).end()
        res.writeHead(200, {'content-type': 'application/javascript'}).end(readFileSync(file))
        return
      }
      res.writeHead(200, {'content-type': 'text/html'}).end(pageHtml(daemon.url, testSources[0].writeKey))
    }))
    // localhost vs 127.0.0.1: a different origin from the daemon, so CORS is exercised.
    pageUrl = `${origin}/`
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    page?.close()
    await daemon?.close()
  })

  it('loads its settings from the daemon and sends page, identify, track and group there', async () => {
    const tab = await browser.newPage()
    await tab.goto(pageUrl)
    expect(await tab.evaluate(() => (globalThis as unknown as {done: Promise<string>}).done)).toBe('sent')

    const stored: Record<string, any>[] = await waitFor('the four messages stored', () => (daemon.storedMessages().length >= 4 ? daemon.storedMessages() : undefined), 5_000)
    expect(stored.map((m) => m.type)).toEqual(['page', 'identify', 'track', 'group'])
    const [pageView, identify, track, group] = stored
    expect(pageView).toMatchObject({category: 'Shop', name: 'Home', properties: {section: 'front', url: pageUrl, path: '/', title: 'Shop'}})
    expect(identify).toMatchObject({userId: 'browser-user-1', traits: {email: 'lin@example.com'}})
    expect(track).toMatchObject({event: 'Product Added', properties: {sku: 'B-2', price: 12.5}, userId: 'browser-user-1'})
    expect(group).toMatchObject({groupId: 'org-9', traits: {name: 'Org 9'}})
    for (const message of stored) {
      expect(message.context.library.name).toBe('analytics.js')
      expect(message.context.page.url).toBe(pageUrl)
      expect(message.anonymousId).toEqual(expect.any(String))
      expect(message).not.toHaveProperty('writeKey')
    }
    await tab.close()
  })

  it('a page on another origin cannot read, delete or retry through /api/*, by fetch or a simple request', async () => {
    const tab = await browser.newPage()
    await tab.goto(pageUrl)
    await tab.evaluate(() => (globalThis as unknown as {done: Promise<string>}).done)
    const before = daemon.storedMessages().length
    expect(before).toBeGreaterThan(0)

    const attempts = await tab.evaluate(async (api) => {
      const outcome = async (request: Promise<Response>) => {
        try {
          const response = await request
          return `read ${response.status}: ${(await response.text()).slice(0, 40)}`
        } catch {
          return 'blocked'
        }
      }
      return {
        read: await outcome(fetch(`${api}/api/events`)),
        readWithCredentials: await outcome(fetch(`${api}/api/events`, {credentials: 'include'})),
        stream: await outcome(fetch(`${api}/api/stream?history=10`)),
        deleteEvents: await outcome(fetch(`${api}/api/events`, {method: 'DELETE'})),
        // A "simple" request: no preflight, the browser sends it and only hides the answer.
        simpleRetry: await outcome(fetch(`${api}/api/deliveries/retry`, {method: 'POST', mode: 'no-cors', headers: {'content-type': 'text/plain'}, body: '{}'})),
        noCorsRead: await outcome(fetch(`${api}/api/events`, {mode: 'no-cors'})),
      }
    }, daemon.url)
    expect(attempts).toEqual({read: 'blocked', readWithCredentials: 'blocked', stream: 'blocked', deleteEvents: 'blocked', simpleRetry: 'read 0: ', noCorsRead: 'read 0: '})
    // Whatever the browser sent, the daemon refused it: every event is still there.
    expect(daemon.storedMessages().length).toBe(before)
    await tab.close()
  })

  it('a DNS-rebinding name is refused: a page whose origin now resolves to the daemon reads nothing', async () => {
    // The browser resolves evil.example to 127.0.0.1, as after a rebinding: the page's own origin
    // then is the daemon's address and port, so its fetches are same-origin for the browser.
    const port = new URL(daemon.url).port
    const rebound = await launchChromium(['--host-resolver-rules=MAP evil.example 127.0.0.1'])
    try {
      const tab = await rebound.newPage()
      await tab.goto(`http://evil.example:${port}/health`)
      const answer = await tab.evaluate(async () => {
        const response = await fetch('/api/events')
        return {status: response.status, body: (await response.json()) as {success: boolean; code: string; error: string}}
      })
      expect(answer.status).toBe(403)
      expect(answer.body).toMatchObject({success: false, code: 'host_not_allowed'})
      expect(answer.body.error).toContain('Host "evil.example:')
    } finally {
      await rebound.close()
    }
  })
})
