import {gzipSync, deflateSync, deflateRawSync} from 'node:zlib'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth, getJson, post} from '../helpers/http.js'
import {testSources} from '../helpers/workspace.js'

const webKey = testSources[0].writeKey
let t: TestDaemon

beforeAll(async () => {
  t = await startTestDaemon()
})
afterAll(async () => {
  await t.close()
})
beforeEach(async () => {
  await fetch(`${t.url}/api/events`, {method: 'DELETE'})
})

describe('Tracking API endpoints', () => {
  it.each([
    ['/v1/track', {userId: 'u1', event: 'Order Completed', properties: {total: 30}}, 'track'],
    ['/v1/t', {userId: 'u1', event: 'Order Completed'}, 'track'],
    ['/v1/identify', {userId: 'u1', traits: {email: 'a@example.com'}}, 'identify'],
    ['/v1/i', {anonymousId: 'a1', traits: {}}, 'identify'],
    ['/v1/page', {anonymousId: 'a1', name: 'Home', properties: {path: '/'}}, 'page'],
    ['/v1/p', {anonymousId: 'a1', name: 'Home'}, 'page'],
    ['/v1/screen', {userId: 'u1', name: 'Settings'}, 'screen'],
    ['/v1/s', {userId: 'u1', name: 'Settings'}, 'screen'],
    ['/v1/group', {userId: 'u1', groupId: 'g1', traits: {plan: 'team'}}, 'group'],
    ['/v1/g', {userId: 'u1', groupId: 'g1'}, 'group'],
    ['/v1/alias', {userId: 'u1', previousId: 'a1'}, 'alias'],
    ['/v1/a', {userId: 'u1', previousId: 'a1'}, 'alias'],
  ])('POST %s stores a %s message and answers {"success":true}', async (path, body, type) => {
    const answer = await post(t.url + path, body, {writeKey: webKey})
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({success: true})
    const [stored] = t.storedMessages()
    expect(stored).toMatchObject({...body, type})
    expect(stored.messageId).toMatch(/^[0-9a-f-]{36}$/)
    expect(Date.parse(stored.receivedAt)).toBeGreaterThan(Date.now() - 60_000)
  })

  it('POST /v1/batch and /v1/import store every item with its own type', async () => {
    for (const path of ['/v1/batch', '/v1/import', '/v1/b']) {
      const answer = await post(
        t.url + path,
        {batch: [{type: 'identify', userId: `u-${path}`}, {type: 'track', userId: `u-${path}`, event: 'Signed Up'}]},
        {writeKey: webKey},
      )
      expect(answer).toMatchObject({status: 200, body: {success: true}})
    }
    expect(t.storedMessages().map((m) => `${m.type}:${m.userId}`)).toEqual([
      'identify:u-/v1/batch', 'track:u-/v1/batch', 'identify:u-/v1/import', 'track:u-/v1/import', 'identify:u-/v1/b', 'track:u-/v1/b',
    ])
  })

  it('reads JSON whatever the Content-Type, as analytics.js sends text/plain', async () => {
    const answer = await post(`${t.url}/v1/t`, {userId: 'u', event: 'Plain', writeKey: webKey}, {headers: {'content-type': 'text/plain'}})
    expect(answer.status).toBe(200)
    expect(t.storedMessages()[0].event).toBe('Plain')
  })
})

describe('write keys', () => {
  it('accepts Basic auth with and without the colon, and writeKey in the body', async () => {
    const headers = (withColon: boolean) => ({authorization: basicAuth(webKey, withColon), 'content-type': 'application/json'})
    const a = await fetch(`${t.url}/v1/track`, {method: 'POST', headers: headers(true), body: JSON.stringify({userId: 'u', event: 'A'})})
    const b = await fetch(`${t.url}/v1/track`, {method: 'POST', headers: headers(false), body: JSON.stringify({userId: 'u', event: 'B'})})
    const c = await post(`${t.url}/v1/track`, {userId: 'u', event: 'C', writeKey: testSources[1].writeKey})
    const d = await post(`${t.url}/v1/batch`, {writeKey: webKey, batch: [{type: 'track', userId: 'u', event: 'D'}]})
    expect([a.status, b.status, c.status, d.status]).toEqual([200, 200, 200, 200])
    const stored = await getJson(`${t.url}/api/events`)
    expect(stored.body.map((m: any) => m.event)).toEqual(['A', 'B', 'C', 'D'])
    expect(stored.body.every((m: any) => !('writeKey' in m))).toBe(true)
    expect((await getJson(`${t.url}/api/events?source=server`)).body.map((m: any) => m.event)).toEqual(['C'])
  })

  it('answers 401 to a missing or unknown write key and stores nothing', async () => {
    const missing = await post(`${t.url}/v1/track`, {userId: 'u', event: 'A'})
    expect(missing.status).toBe(401)
    expect(missing.body).toEqual({
      success: false,
      code: 'missing_write_key',
      error: 'no write key: send it as the HTTP Basic auth user name, or as "writeKey" in the JSON body',
    })
    const unknown = await post(`${t.url}/v1/track`, {userId: 'u', event: 'A'}, {writeKey: 'not-a-key'})
    expect(unknown.status).toBe(401)
    expect(unknown.body.error).toBe('unknown write key "not-a-key": use the write key of a source in cdp.json (cdp dev prints them at start)')
    expect(t.storedMessages()).toEqual([])
  })
})

describe('normalisation over HTTP', () => {
  it('applies batch-level context, integrations and sentAt, and corrects clock skew', async () => {
    // One clock reading for both: two could straddle a millisecond and make the skew 9,999.
    const now = Date.now()
    const sentAt = new Date(now - 3_600_000).toISOString()
    const timestamp = new Date(now - 3_600_000 - 10_000).toISOString()
    await post(
      `${t.url}/v1/batch`,
      {batch: [{type: 'track', userId: 'u', event: 'Skewed', timestamp}], context: {library: {name: 'test'}}, integrations: {All: false}, sentAt},
      {writeKey: webKey},
    )
    const [stored] = t.storedMessages()
    expect(stored).toMatchObject({context: {library: {name: 'test'}}, integrations: {All: false}, sentAt, originalTimestamp: timestamp})
    // The client's clock is an hour slow; the corrected timestamp is 10 s before arrival.
    const skew = Date.parse(stored.receivedAt) - Date.parse(stored.timestamp)
    expect(skew).toBe(10_000)
  })

  it('stores a repeated messageId from the same source once, but the same id from another source too', async () => {
    const message = {userId: 'u', event: 'Once', messageId: 'fixed-id-1'}
    for (let i = 0; i < 3; i++) expect((await post(`${t.url}/v1/track`, message, {writeKey: webKey})).status).toBe(200)
    await post(`${t.url}/v1/track`, message, {writeKey: testSources[1].writeKey})
    expect(t.storedMessages().map((m) => m.messageId)).toEqual(['fixed-id-1', 'fixed-id-1'])
    expect((await getJson(`${t.url}/api/events?source=web`)).body).toHaveLength(1)
  })
})

describe('compressed bodies', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
  ] as const)('accepts Content-Encoding %s', async (encoding, compress) => {
    const body = compress(Buffer.from(JSON.stringify({batch: [{type: 'track', userId: 'u', event: `Zipped ${encoding}`}]})))
    const answer = await post(`${t.url}/v1/batch`, body, {writeKey: webKey, raw: true, headers: {'content-encoding': encoding}})
    expect(answer.status).toBe(200)
    expect(t.storedMessages()[0].event).toBe(`Zipped ${encoding}`)
  })
})

describe('browser support', () => {
  it('answers CORS preflight for any origin', async () => {
    const response = await fetch(`${t.url}/v1/t`, {
      method: 'OPTIONS',
      headers: {origin: 'http://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type'},
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.example.com')
    expect(response.headers.get('access-control-allow-methods')).toContain('POST')
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type')
    const answer = await post(`${t.url}/v1/t`, {userId: 'u', event: 'E', writeKey: webKey}, {headers: {origin: 'http://app.example.com'}})
    expect(answer.headers.get('access-control-allow-origin')).toBe('http://app.example.com')
  })

  it('serves the analytics.js settings document pointing the Segment.io integration here', async () => {
    const answer = await getJson(`${t.url}/v1/projects/${webKey}/settings`)
    expect(answer.status).toBe(200)
    const host = new URL(t.url).host
    expect(answer.body.integrations['Segment.io']).toMatchObject({apiKey: webKey, apiHost: `${host}/v1`, protocol: 'http'})
    const unknown = await getJson(`${t.url}/v1/projects/nope/settings`)
    expect(unknown.status).toBe(404)
  })

  it('answers GET /health', async () => {
    const answer = await getJson(`${t.url}/health`)
    expect(answer).toMatchObject({status: 200, body: {ok: true}})
  })
})

describe('/api/events', () => {
  it('filters by type, event, user and limit, newest N in order', async () => {
    await post(
      `${t.url}/v1/batch`,
      {
        batch: [
          {type: 'identify', userId: 'alice'},
          {type: 'track', userId: 'alice', event: 'Product Viewed'},
          {type: 'track', anonymousId: 'anon-b', event: 'Product Viewed'},
          {type: 'track', userId: 'alice', event: 'Order Completed'},
        ],
      },
      {writeKey: webKey},
    )
    const events = async (query: string) => (await getJson(`${t.url}/api/events?${query}`)).body.map((m: any) => `${m.type}:${m.event ?? ''}:${m.userId ?? m.anonymousId}`)
    expect(await events('type=identify')).toEqual(['identify::alice'])
    expect(await events('event=Product%20Viewed')).toEqual(['track:Product Viewed:alice', 'track:Product Viewed:anon-b'])
    expect(await events('user=anon-b')).toEqual(['track:Product Viewed:anon-b'])
    expect(await events('user=alice&limit=2')).toEqual(['track:Product Viewed:alice', 'track:Order Completed:alice'])
    expect(await events('since=2099-01-01T00:00:00Z')).toEqual([])
    const bad = await getJson(`${t.url}/api/events?type=purchase`)
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('type "purchase" is not a message type; use one of track, identify, page, screen, group, alias.')
  })

  it('DELETE resets the store', async () => {
    await post(`${t.url}/v1/track`, {userId: 'u', event: 'A'}, {writeKey: webKey})
    const answer = await getJson(`${t.url}/api/events`, {method: 'DELETE'})
    expect(answer.body).toEqual({deleted: 1})
    expect(t.storedMessages()).toEqual([])
  })
})
