import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth} from '../helpers/http.js'
import {corsHeaders, crossSiteFetch, loopbackHost, rawRequest} from '../helpers/raw-http.js'
import {testSources} from '../helpers/workspace.js'

const [web, server] = testSources
let t: TestDaemon
let port: number

/** What Chromium sends with XHR from a page on another site. */
const crossSite = () => crossSiteFetch('https://shop.example')

/** The request RudderStack's browser SDK makes for its config, as seen in Chromium. */
const sdkConfigPath = (writeKey: string) => `/sourceConfig/?p=npm&v=3.34.1&build=modern&writeKey=${encodeURIComponent(writeKey)}&lockIntegrationsVersion=true&lockPluginsVersion=true`

beforeAll(async () => {
  t = await startTestDaemon()
  port = Number(new URL(t.url).port)
})
afterAll(async () => {
  await t?.close()
})

describe('GET /sourceConfig: the source config RudderStack\'s browser SDK loads (configUrl)', () => {
  it('answers the source of the write key, enabled, with no destinations and no stats collection, to any origin', async () => {
    const answer = await rawRequest(port, {method: 'GET', path: sdkConfigPath(web.writeKey), headers: [loopbackHost(port), ...crossSite(), ['Authorization', basicAuth(web.writeKey)], ['Accept', 'application/json']]})
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8')
    // Nothing beyond the source's id and name: no write key, no other source, no destination.
    expect(answer.json).toEqual({source: {id: 'web', name: 'web', enabled: true, config: {}, destinations: []}})
    expect(answer.headers['access-control-allow-origin']).toBe('https://shop.example')
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('reads the key from ?writeKey= alone or from Basic auth alone, with or without the trailing slash; the header wins', async () => {
    const byQuery = await rawRequest(port, {method: 'GET', path: `/sourceConfig?writeKey=${server.writeKey}`, headers: [loopbackHost(port)]})
    expect(byQuery).toMatchObject({status: 200, json: {source: {id: 'server', name: 'server'}}})
    const byHeader = await rawRequest(port, {method: 'GET', path: '/sourceConfig/', headers: [loopbackHost(port), ['Authorization', basicAuth(web.writeKey, false)]]})
    expect(byHeader).toMatchObject({status: 200, json: {source: {id: 'web'}}})
    const both = await rawRequest(port, {method: 'GET', path: sdkConfigPath(web.writeKey), headers: [loopbackHost(port), ['Authorization', basicAuth(server.writeKey)]]})
    expect(both.json.source.id).toBe('server')
  })

  it('answers 401 JSON for a missing or unknown key, with CORS so the page can read why', async () => {
    const missing = await rawRequest(port, {method: 'GET', path: '/sourceConfig/?p=npm', headers: [loopbackHost(port), ...crossSite()]})
    expect(missing).toMatchObject({status: 401, json: {success: false, code: 'missing_write_key'}})
    expect(missing.json.error).toContain('?writeKey=')
    expect(missing.headers['access-control-allow-origin']).toBe('https://shop.example')
    const unknown = await rawRequest(port, {method: 'GET', path: sdkConfigPath('not-a-key'), headers: [loopbackHost(port), ['Authorization', basicAuth('not-a-key')]]})
    expect(unknown).toMatchObject({status: 401, json: {success: false, code: 'unknown_write_key'}})
    expect(unknown.text).not.toContain('web-write-key')
    // A wrong key in the header is not rescued by a right one in the URL.
    const wrongHeader = await rawRequest(port, {method: 'GET', path: sdkConfigPath(web.writeKey), headers: [loopbackHost(port), ['Authorization', basicAuth('not-a-key')]]})
    expect(wrongHeader.status).toBe(401)
    const broken = await rawRequest(port, {method: 'GET', path: '/sourceConfig/?writeKey=%zz', headers: [loopbackHost(port)]})
    expect(broken).toMatchObject({status: 401, json: {code: 'unknown_write_key'}})
  })

  it('takes GET only', async () => {
    const post = await rawRequest(port, {method: 'POST', path: sdkConfigPath(web.writeKey), headers: [loopbackHost(port), ['Content-Type', 'application/json']], body: '{}'})
    expect(post).toMatchObject({status: 405, json: {success: false, code: 'method_not_allowed', error: '/sourceConfig takes GET, not POST'}})
  })

  it('grants a preflight for GET with the headers the SDK asks for (authorization), nothing else', async () => {
    const preflight = await rawRequest(port, {
      method: 'OPTIONS',
      path: sdkConfigPath(web.writeKey),
      headers: [loopbackHost(port), ...crossSite(), ['Access-Control-Request-Method', 'GET'], ['Access-Control-Request-Headers', 'authorization']],
    })
    expect(preflight).toMatchObject({
      status: 204,
      headers: {'access-control-allow-origin': 'https://shop.example', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'authorization'},
    })
    expect(preflight.headers).not.toHaveProperty('access-control-allow-credentials')
    const wrongMethod = await rawRequest(port, {method: 'OPTIONS', path: '/sourceConfig', headers: [loopbackHost(port), ...crossSite(), ['Access-Control-Request-Method', 'DELETE']]})
    expect(wrongMethod).toMatchObject({status: 403, json: {code: 'cors_refused', error: '/sourceConfig takes GET from other origins, not DELETE'}})
    expect(corsHeaders(wrongMethod)).toEqual([])
  })

  it('under any Host (a DNS-rebinding name too) it says the same and nothing more, while /api/* stays shut to that Host', async () => {
    const rebound = await rawRequest(port, {method: 'GET', path: sdkConfigPath(web.writeKey), headers: [['Host', `evil.example:${port}`], ['Authorization', basicAuth(web.writeKey)]]})
    expect(rebound).toMatchObject({status: 200, json: {source: {id: 'web', name: 'web', enabled: true, config: {}, destinations: []}}})
    const api = await rawRequest(port, {method: 'GET', path: '/api/events', headers: [['Host', `evil.example:${port}`]]})
    expect(api).toMatchObject({status: 403, json: {code: 'host_not_allowed'}})
    const preflight = await rawRequest(port, {method: 'OPTIONS', path: '/api/events', headers: [loopbackHost(port), ...crossSite(), ['Access-Control-Request-Method', 'GET']]})
    expect(preflight.status).toBe(403)
    expect(preflight.json.error).toContain('/sourceConfig')
  })
})

describe('POST /beacon/v1/batch: RudderStack\'s sendBeacon batches', () => {
  /** What navigator.sendBeacon sends with a text/plain Blob: no auth header, a simple request with no preflight. */
  const beacon = (body: string | Buffer, writeKey: string | null = web.writeKey, extra: [string, string][] = []) =>
    rawRequest(port, {
      method: 'POST',
      path: writeKey === null ? '/beacon/v1/batch' : `/beacon/v1/batch?writeKey=${encodeURIComponent(writeKey)}`,
      headers: [loopbackHost(port), ['Origin', 'https://shop.example'], ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Mode', 'no-cors'], ['Content-Type', 'text/plain'], ...extra],
      body,
    })
  /** The same body to /v1/batch, the key as Basic auth. */
  const batch = (body: string | Buffer) =>
    rawRequest(port, {method: 'POST', path: '/v1/batch', headers: [loopbackHost(port), ['Content-Type', 'application/json'], ['Authorization', basicAuth(web.writeKey)]], body})

  it('stores the batch the SDK sends ({batch, sentAt} as text/plain, the key in the URL) under the key\'s source', async () => {
    const sentAt = new Date().toISOString()
    const body = JSON.stringify({
      batch: [
        {type: 'identify', userId: 'beacon-user', messageId: 'beacon-1', context: {traits: {email: 'b@example.com'}}, originalTimestamp: sentAt, sentAt},
        {type: 'track', userId: 'beacon-user', messageId: 'beacon-2', event: 'Beacon Sent', properties: {n: 1}, originalTimestamp: sentAt, sentAt},
      ],
      sentAt,
    })
    const answer = await beacon(body)
    expect(answer).toMatchObject({status: 200, json: {success: true}, headers: {'access-control-allow-origin': 'https://shop.example'}})
    const stored = t.storedEvents().filter((e) => e.message.userId === 'beacon-user')
    expect(stored.map((e) => [e.source, e.message.messageId])).toEqual([
      ['web', 'beacon-1'],
      ['web', 'beacon-2'],
    ])
    expect(stored[0].message).not.toHaveProperty('traits')
  })

  it('answers bad bodies as /v1/batch does: 400 JSON saying what is wrong', async () => {
    const bodies: [string, string][] = [
      ['not json', 'invalid_json'],
      ['', 'invalid_json'],
      ['[1, 2]', 'invalid_body'],
      ['{"batch": "nope"}', ''],
      ['{"batch": [{"type": "track", "userId": "u", "event": "Ok", "messageId": "ok-1"}, {"type": "nope"}]}', 'invalid_messages'],
    ]
    for (const [body, code] of bodies) {
      const answer = await beacon(body)
      expect(answer.status, body).toBe(400)
      expect(answer.headers['content-type'], body).toBe('application/json; charset=utf-8')
      expect(answer.json, body).toMatchObject({success: false, error: expect.any(String)})
      if (code) expect(answer.json.code, body).toBe(code)
      expect(answer.json, body).toEqual((await batch(body)).json)
    }
    expect((await beacon('not json')).json.error).toContain('not valid JSON')
  })

  it('has /v1/batch\'s limits: over 500 KB is refused whole, before or after decompression', async () => {
    const item = {type: 'track', userId: 'big', event: 'Big', properties: {pad: 'x'.repeat(20_000)}}
    const body = JSON.stringify({batch: Array.from({length: 30}, () => item)})
    const answer = await beacon(body)
    expect(answer).toMatchObject({status: 400, json: {success: false, code: 'limit_exceeded'}})
    expect(answer.json).toEqual((await batch(body)).json)
    const {gzipSync} = await import('node:zlib')
    const zipped = await beacon(gzipSync(Buffer.from(JSON.stringify({batch: Array.from({length: 60}, () => item)}))), web.writeKey, [['Content-Encoding', 'gzip']])
    expect(zipped).toMatchObject({status: 400, json: {code: 'limit_exceeded'}})
    expect(zipped.json.error).toContain('after decompression')
    expect(t.storedMessages().some((m) => m.event === 'Big')).toBe(false)
  })

  it('answers 401 for a missing or unknown key, saying where the beacon puts it; a Basic header or a body key also serve', async () => {
    const body = JSON.stringify({batch: [{type: 'track', userId: 'u-key', event: 'Keyed'}]})
    const missing = await beacon(body, null)
    expect(missing).toMatchObject({status: 401, json: {success: false, code: 'missing_write_key'}})
    expect(missing.json.error).toContain('?writeKey=')
    expect(await beacon(body, 'nope')).toMatchObject({status: 401, json: {code: 'unknown_write_key'}})
    expect(await beacon(body, '')).toMatchObject({status: 401, json: {code: 'missing_write_key'}})
    expect((await beacon(body, null, [['Authorization', basicAuth(server.writeKey)]])).status).toBe(200)
    expect((await beacon(JSON.stringify({writeKey: server.writeKey, batch: [{type: 'track', userId: 'u-key', event: 'Keyed'}]}), null)).status).toBe(200)
    expect(t.storedEvents().filter((e) => e.message.event === 'Keyed').map((e) => e.source)).toEqual(['server', 'server'])
  })

  it('takes POST only, and grants a preflight for POST', async () => {
    const get = await rawRequest(port, {method: 'GET', path: `/beacon/v1/batch?writeKey=${web.writeKey}`, headers: [loopbackHost(port)]})
    expect(get).toMatchObject({status: 405, json: {code: 'method_not_allowed'}})
    const preflight = await rawRequest(port, {method: 'OPTIONS', path: `/beacon/v1/batch?writeKey=${web.writeKey}`, headers: [loopbackHost(port), ...crossSite(), ['Access-Control-Request-Method', 'POST'], ['Access-Control-Request-Headers', 'content-type']]})
    expect(preflight).toMatchObject({status: 204, headers: {'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'content-type'}})
  })

  it('keeps "__proto__" keys as data: stored as sent, nothing reaches a prototype', async () => {
    const body = '{"batch": [{"type": "identify", "userId": "proto-user", "messageId": "proto-1", "context": {"traits": {"__proto__": {"polluted": true}, "email": "p@example.com"}}}]}'
    expect((await beacon(body)).status).toBe(200)
    const [stored] = t.storedMessages().filter((m) => m.userId === 'proto-user')
    expect(Object.keys(stored.context.traits)).toEqual(['__proto__', 'email'])
    expect(Object.getOwnPropertyDescriptor(stored.context.traits, '__proto__')?.value).toEqual({polluted: true})
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
