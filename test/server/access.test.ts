import {readFileSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {binPath, runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {corsHeaders, crossSiteFetch, loopbackHost, rawRequest} from '../helpers/raw-http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'
import {renderDevBanner} from '../../src/ui/dev-banner.js'

const writeKey = testSources[0].writeKey
let t: TestDaemon
let port: number
let sink: Sink

/** The dead-lettered count of the webhook, read as the CLI would (loopback Host, no Origin). */
async function deadCount(): Promise<number> {
  const answer = await rawRequest(port, {method: 'GET', path: '/api/deliveries', headers: [loopbackHost(port)]})
  return answer.json.destinations.find((d: {name: string}) => d.name === 'crm-hook').dead
}

beforeAll(async () => {
  // Given a daemon on loopback with three stored events, one of them dead-lettered by its webhook
  sink = await startSink((request) => (JSON.parse(request.body).messageId === 'bad-1' ? {status: 422, body: '{"error":"no"}'} : {status: 200}))
  t = await startTestDaemon({config: {sources: testSources, destinations: [{name: 'crm-hook', type: 'webhook', url: sink.url}]}})
  port = t.daemon.port
  for (const id of ['ok-1', 'bad-1', 'ok-2']) expect((await post(`${t.url}/v1/track`, {userId: 'u', event: 'Signed Up', messageId: id}, {writeKey})).status).toBe(200)
  await waitFor('the bad event dead-lettered', async () => (await deadCount()) === 1)
})
afterAll(async () => {
  await t?.close()
  await sink?.close()
})

describe('/api/* against pages of other origins', () => {
  it('refuses a cross-origin GET /api/events with 403 and no CORS headers', async () => {
    const answer = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [loopbackHost(port), ...crossSiteFetch('https://evil.example')]})
    expect(answer.status).toBe(403)
    expect(answer.json).toMatchObject({success: false, code: 'cross_origin'})
    expect(answer.json.error).toContain('/api/events does not answer pages of other origins (this request came from https://evil.example)')
    expect(corsHeaders(answer)).toEqual([])
    expect(answer.text).not.toContain('Signed Up')
  })

  it('refuses DELETE /api/events from another origin, and deletes nothing', async () => {
    const preflight = await rawRequest(port, {
      method: 'OPTIONS',
      path: '/api/events',
      headers: [loopbackHost(port), ...crossSiteFetch('https://evil.example'), ['Access-Control-Request-Method', 'DELETE']],
    })
    expect(preflight.status).toBe(403)
    expect(corsHeaders(preflight)).toEqual([])
    // Even sent without a preflight (as a non-browser client forging a page's Origin would):
    const answer = await rawRequest(port, {method: 'DELETE', path: '/api/events', headers: [loopbackHost(port), ...crossSiteFetch('https://evil.example')]})
    expect(answer).toMatchObject({status: 403, json: {success: false, code: 'cross_origin'}})
    expect(t.storedMessages()).toHaveLength(3)
  })

  it('refuses a cross-site text/plain POST /api/deliveries/retry (a simple request, no preflight), and retries nothing', async () => {
    const answer = await rawRequest(port, {
      method: 'POST',
      path: '/api/deliveries/retry',
      headers: [loopbackHost(port), ...crossSiteFetch('https://evil.example'), ['Content-Type', 'text/plain;charset=UTF-8']],
      body: '{}',
    })
    expect(answer).toMatchObject({status: 403, json: {success: false, code: 'cross_origin'}})
    expect(corsHeaders(answer)).toEqual([])
    expect(await deadCount()).toBe(1)
  })

  it('refuses a page on another port of localhost (same site, other origin) and Origin: null', async () => {
    for (const origin of ['http://localhost:3000', 'null', `http://127.0.0.1:${port}.evil.example`]) {
      const answer = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [loopbackHost(port), ['Origin', origin], ['Sec-Fetch-Site', 'same-site']]})
      expect(answer, origin).toMatchObject({status: 403, json: {code: 'cross_origin'}})
    }
  })

  it('refuses a no-cors request from another site that carries no Origin (an <img> or <script>)', async () => {
    const answer = await rawRequest(port, {
      method: 'GET',
      path: '/api/events',
      headers: [loopbackHost(port), ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Mode', 'no-cors'], ['Sec-Fetch-Dest', 'image']],
    })
    expect(answer).toMatchObject({status: 403, json: {code: 'cross_site'}})
  })

  it('grants no preflight anywhere under /api/', async () => {
    for (const [target, method] of [['/api/events', 'GET'], ['/api/stream', 'GET'], ['/api/deliveries/retry', 'POST'], ['/api/violations', 'GET']]) {
      const answer = await rawRequest(port, {method: 'OPTIONS', path: target, headers: [loopbackHost(port), ['Origin', 'https://evil.example'], ['Access-Control-Request-Method', method]]})
      expect(answer.status, target).toBe(403)
      expect(answer.json, target).toMatchObject({success: false, code: 'cors_refused'})
      expect(corsHeaders(answer), target).toEqual([])
    }
  })
})

describe('/api/* against DNS rebinding', () => {
  it('refuses Host: evil.example:PORT on every /api/ route, even same-origin for the rebinding page', async () => {
    for (const [method, target] of [['GET', '/api/events'], ['DELETE', '/api/events'], ['GET', '/api/violations'], ['GET', '/api/stream'], ['GET', '/api/deliveries'], ['POST', '/api/deliveries/retry'], ['GET', '/api/nothing-here']]) {
      const answer = await rawRequest(port, {method, path: target, headers: [['Host', `evil.example:${port}`], ['Sec-Fetch-Site', 'same-origin']]})
      expect(answer.status, `${method} ${target}`).toBe(403)
      expect(answer.json, `${method} ${target}`).toMatchObject({success: false, code: 'host_not_allowed'})
    }
    const answer = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [['Host', `evil.example:${port}`]]})
    expect(answer.json.error).toBe(
      `/api/events answers only requests addressed to this daemon by a loopback name (localhost, 127.0.0.1, [::1]), an address it listens on, or a name allowed with --allow-host; Host "evil.example:${port}" is none of these, as when a page uses DNS rebinding. If you reach cdp dev by this name on purpose, start it with --allow-host evil.example.`,
    )
    expect(t.storedMessages()).toHaveLength(3)
  })

  it('refuses names that only look like loopback, and a request with no Host', async () => {
    for (const host of ['localhost.evil.example', '127.0.0.1.nip.io', '0.0.0.0', '127.1', 'localhost:80:80', '[::2]', 'evil.example@localhost']) {
      const answer = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [['Host', host]]})
      expect(answer.status, host).toBe(403)
      expect(answer.json.code, host).toBe('host_not_allowed')
    }
    // HTTP/1.1 without Host is refused by node itself (400); HTTP/1.0 may leave it out.
    const noHost = await rawRequest(port, {method: 'GET', path: '/api/events', version: '1.0'})
    expect(noHost).toMatchObject({status: 403, json: {success: false, code: 'host_missing'}})
  })

  it('accepts the loopback names and addresses a browser or tool uses, in any case, with or without a trailing dot', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost.:${port}`, `shop.localhost:${port}`, `127.0.0.2:${port}`, `[::1]:${port}`, '[::ffff:127.0.0.1]', 'localhost']) {
      const answer = await rawRequest(port, {method: 'GET', path: '/api/events?limit=1', headers: [['Host', host]]})
      expect(answer.status, host).toBe(200)
      expect(answer.json, host).toHaveLength(1)
    }
  })

  it('accepts the daemon\'s own origin, a navigation the person made, and Sec-Fetch-Site: none', async () => {
    const own = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [['Host', `localhost:${port}`], ['Origin', `http://localhost:${port}`], ['Sec-Fetch-Site', 'same-origin']]})
    expect(own.status).toBe(200)
    const typed = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [loopbackHost(port), ['Sec-Fetch-Site', 'none'], ['Sec-Fetch-Mode', 'navigate']]})
    expect(typed.status).toBe(200)
    const linked = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [loopbackHost(port), ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-Dest', 'document']]})
    expect(linked.status).toBe(200)
    expect(corsHeaders(linked)).toEqual([])
  })
})

describe('the Tracking API and the settings document from other origins', () => {
  it('takes events from any origin, with CORS headers and no credentials grant', async () => {
    const preflight = await rawRequest(port, {
      method: 'OPTIONS',
      path: '/v1/batch',
      headers: [loopbackHost(port), ...crossSiteFetch('https://shop.example'), ['Access-Control-Request-Method', 'POST'], ['Access-Control-Request-Headers', 'authorization,content-type,x-retry-count']],
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://shop.example',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'authorization,content-type,x-retry-count',
    })
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined()
    const answer = await rawRequest(port, {
      method: 'POST',
      path: '/v1/t',
      headers: [loopbackHost(port), ...crossSiteFetch('https://shop.example'), ['Content-Type', 'text/plain']],
      body: JSON.stringify({writeKey, userId: 'page-user', event: 'From Another Origin'}),
    })
    expect(answer).toMatchObject({status: 200, json: {success: true}, headers: {'access-control-allow-origin': 'https://shop.example'}})
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
    expect(t.storedMessages().some((m) => m.event === 'From Another Origin')).toBe(true)
  })

  it('grants the Tracking API only POST, and the settings document only GET', async () => {
    const wrongMethod = await rawRequest(port, {method: 'OPTIONS', path: '/v1/track', headers: [loopbackHost(port), ['Origin', 'https://shop.example'], ['Access-Control-Request-Method', 'DELETE']]})
    expect(wrongMethod).toMatchObject({status: 403, json: {code: 'cors_refused', error: '/v1/track takes POST from other origins, not DELETE'}})
    expect(corsHeaders(wrongMethod)).toEqual([])
    const settings = await rawRequest(port, {method: 'OPTIONS', path: `/v1/projects/${writeKey}/settings`, headers: [loopbackHost(port), ['Origin', 'https://shop.example'], ['Access-Control-Request-Method', 'GET']]})
    expect(settings).toMatchObject({status: 204, headers: {'access-control-allow-origin': 'https://shop.example', 'access-control-allow-methods': 'GET, OPTIONS'}})
  })

  it('points analytics.js at the Host it was loaded from only when that Host is this daemon\'s', async () => {
    const fromLocalhost = await rawRequest(port, {method: 'GET', path: `/v1/projects/${writeKey}/settings`, headers: [['Host', `localhost:${port}`], ...crossSiteFetch('https://shop.example')]})
    expect(fromLocalhost.status).toBe(200)
    expect(fromLocalhost.headers['access-control-allow-origin']).toBe('https://shop.example')
    expect(fromLocalhost.json.integrations['Segment.io'].apiHost).toBe(`localhost:${port}/v1`)
    const hostile = await rawRequest(port, {method: 'GET', path: `/v1/projects/${writeKey}/settings`, headers: [['Host', 'collector.evil.example'], ...crossSiteFetch('https://shop.example')]})
    expect(hostile.status).toBe(200)
    expect(hostile.json.integrations['Segment.io'].apiHost).toBe(`127.0.0.1:${port}/v1`)
  })

  it('answers a settings path with broken percent-encoding 400, not 500', async () => {
    for (const target of ['/v1/projects/%/settings', '/v1/projects/%E0%A4%A/settings', '/v1/projects/abc%zz/settings']) {
      const answer = await rawRequest(port, {method: 'GET', path: target, headers: [loopbackHost(port)]})
      expect(answer.status, target).toBe(400)
      expect(answer.json, target).toMatchObject({success: false, code: 'invalid_path'})
      expect(answer.json.error, target).toContain('is not valid percent-encoding')
    }
  })
})

describe('cdp dev --allow-host', () => {
  it('lets /api/* answer the names given, and their subdomains for a leading dot, from the flag or CDP_ALLOW_HOST', async () => {
    const {dir, cleanup} = tempDir()
    writeConfig(dir, {sources: testSources})
    let daemon: DaemonProcess | undefined
    try {
      for (const [args, env] of [[['--allow-host', 'cdp.internal', '--allow-host', '.tunnel.test'], {}], [[], {CDP_ALLOW_HOST: 'cdp.internal, .tunnel.test'}]] as const) {
        daemon = await startDaemonProcess(dir, [...args], {...env})
        for (const host of [`cdp.internal:${daemon.port}`, 'CDP.Internal.', `a.tunnel.test:${daemon.port}`, 'tunnel.test', 'localhost']) {
          expect((await rawRequest(daemon.port, {method: 'GET', path: '/api/events', headers: [['Host', host]]})).status, host).toBe(200)
        }
        for (const host of ['other.internal', 'cdp.internal.evil.example', 'eviltunnel.test']) {
          expect((await rawRequest(daemon.port, {method: 'GET', path: '/api/events', headers: [['Host', host]]})).status, host).toBe(403)
        }
        expect(await daemon.stop()).toBe(0)
        daemon = undefined
      }
      const bad = await runCli(['dev', '--dir', dir, '--port', '0', '--allow-host', 'evil.example:8237'])
      expect(bad.exitCode).toBe(1)
      expect(bad.stderr).toContain('Error: --allow-host "evil.example:8237" is not a host name.')
    } finally {
      await daemon?.stop()
      cleanup()
    }
  })
})

describe('cdp dev --host 0.0.0.0: /api/* needs the token', () => {
  let dir: string
  let cleanup: () => void
  let daemon: DaemonProcess

  beforeAll(async () => {
    ;({dir, cleanup} = tempDir())
    writeConfig(dir, {sources: testSources, destinations: [{name: 'crm-hook', type: 'webhook', url: sink.url}]})
    daemon = await startDaemonProcess(dir, ['--host', '0.0.0.0'])
  })
  afterAll(async () => {
    await daemon?.stop()
    cleanup?.()
  })

  const token = () => JSON.parse(readFileSync(path.join(dir, '.cdp', 'daemon.json'), 'utf8')).token as string

  it('lists every listening address in the ready line, loopback first', () => {
    const ready = daemon as unknown as {urls: string[]}
    expect(ready.urls[0]).toBe(`http://127.0.0.1:${daemon.port}`)
    expect(ready.urls.every((url) => url.endsWith(`:${daemon.port}`))).toBe(true)
  })

  it('answers /api/events 401 without the token or with a wrong one, and 200 with the token from daemon.json', async () => {
    expect(token()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const without = await rawRequest(daemon.port, {method: 'GET', path: '/api/events', headers: [loopbackHost(daemon.port)]})
    expect(without).toMatchObject({status: 401, json: {success: false, code: 'token_required'}})
    expect(without.json.error).toContain('send "Authorization: Bearer <token>" with the "token" from .cdp/daemon.json')
    const wrong = await rawRequest(daemon.port, {method: 'GET', path: '/api/events', headers: [loopbackHost(daemon.port), ['Authorization', `Bearer ${token().slice(0, -1)}x`]]})
    expect(wrong).toMatchObject({status: 401, json: {code: 'invalid_token'}})
    const right = await rawRequest(daemon.port, {method: 'GET', path: '/api/events', headers: [loopbackHost(daemon.port), ['Authorization', `Bearer ${token()}`]]})
    expect(right.status).toBe(200)
    // The token does not open the door to other origins or rebinding names.
    const rebinding = await rawRequest(daemon.port, {method: 'GET', path: '/api/events', headers: [['Host', `evil.example:${daemon.port}`], ['Authorization', `Bearer ${token()}`]]})
    expect(rebinding.status).toBe(403)
    // The Tracking API stays open: it is what the network is for.
    expect((await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'Over The Network', messageId: 'bad-1'}, {writeKey})).status).toBe(200)
  })

  it('lets cdp tail and cdp deliveries retry in with the token they read from daemon.json', async () => {
    await waitFor('the event dead-lettered', async () => {
      const answer = await rawRequest(daemon.port, {method: 'GET', path: '/api/deliveries', headers: [loopbackHost(daemon.port), ['Authorization', `Bearer ${token()}`]]})
      return answer.json.destinations[0].dead === 1
    })
    const refused = await rawRequest(daemon.port, {method: 'POST', path: '/api/deliveries/retry', headers: [loopbackHost(daemon.port), ['Content-Type', 'application/json']], body: '{}'})
    expect(refused.status).toBe(401)
    const retry = await runCli(['deliveries', 'retry', '--dir', dir])
    expect(retry.stderr).toBe('')
    expect(retry.exitCode).toBe(0)
    expect(retry.stdout).toContain('1 dead-lettered event queued again; cdp dev is sending them now.')

    // cdp tail follows until stopped: its history and a live event arrive through the token.
    const tail = execa('node', [binPath, 'tail', '--dir', dir, '--json', '--history', '5'], {env: {NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}, reject: false, buffer: false})
    let stdout = ''
    let stderr = ''
    tail.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    tail.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    try {
      await waitFor('the stored event in cdp tail', () => stdout.includes('"messageId":"bad-1"'))
      expect((await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'Live Over The Network', messageId: 'live-1'}, {writeKey})).status).toBe(200)
      await waitFor('the live event in cdp tail', () => stdout.includes('"messageId":"live-1"'))
      expect(stderr).toContain(`following ${daemon.url}`)
    } finally {
      tail.kill('SIGINT')
    }
    expect((await tail).exitCode).toBe(0)
  })

  it('keeps cdp tail following across a restart, with the new token the new daemon wrote', async () => {
    const tail = execa('node', [binPath, 'tail', '--dir', dir, '--json', '--history', '0'], {env: {NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}, reject: false, buffer: false})
    let stdout = ''
    let stderr = ''
    tail.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    tail.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    try {
      await waitFor('cdp tail connected', () => stderr.includes('following'))
      const before = token()
      expect(await daemon.stop()).toBe(0)
      daemon = await startDaemonProcess(dir, ['--host', '0.0.0.0', '--port', String(daemon.port)])
      expect(token()).not.toBe(before)
      await waitFor('cdp tail reconnected', () => stderr.split('following').length === 3)
      expect((await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'After Restart', messageId: 'restart-1'}, {writeKey})).status).toBe(200)
      await waitFor('the event after the restart in cdp tail', () => stdout.includes('"messageId":"restart-1"'))
    } finally {
      tail.kill('SIGINT')
    }
    expect((await tail).exitCode).toBe(0)
  })

  it('refuses cdp tail with a wrong token clearly, at once', async () => {
    const tail = await runCli(['tail', '--url', daemon.url, '--token', 'not-the-token', '--json'])
    expect(tail.exitCode).toBe(3)
    expect(tail.stderr).toContain(`Error: cdp dev at ${daemon.url} refused to stream: the token does not match this daemon's`)
  })
})

describe('the banner of a daemon listening beyond loopback', () => {
  it('prints every address and warns that the Tracking API is open and /api/* needs the token', () => {
    const banner = renderDevBanner({
      url: 'http://127.0.0.1:8237',
      urls: ['http://127.0.0.1:8237', 'http://192.168.1.20:8237'],
      sources: testSources,
      database: '/w/.cdp/cdp.sqlite',
      destinations: [],
      tokenRequired: true,
      daemonFile: '/w/.cdp/daemon.json',
    }).replace(/\u001B\[[0-9;]*m/g, '')
    expect(banner.split('\n').slice(0, 5)).toEqual([
      'cdp dev is listening on http://127.0.0.1:8237',
      '                        http://192.168.1.20:8237',
      'Warning: the Tracking API (/v1/*) is open to the network: anyone who reaches these addresses can send events with a write key below.',
      '         /api/* (stored events, deliveries, the live stream) needs the token in /w/.cdp/daemon.json: Authorization: Bearer <token>.',
      '         `cdp tail` and `cdp deliveries retry` send it themselves. Use --host 127.0.0.1 to keep cdp dev to this machine.',
    ])
  })
})
