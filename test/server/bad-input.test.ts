import {request} from 'node:http'
import {gzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth, getJson, post} from '../helpers/http.js'
import {testSources} from '../helpers/workspace.js'

const key = testSources[0].writeKey
let t: TestDaemon

beforeAll(async () => {
  // A short body timeout so the slow-upload case is quick.
  t = await startTestDaemon({bodyTimeoutMs: 500})
  // Given one acknowledged event before any bad input arrives
  expect((await post(`${t.url}/v1/track`, {userId: 'u', event: 'Acknowledged', messageId: 'ack-1'}, {writeKey: key})).status).toBe(200)
})
afterAll(async () => {
  // Then, after every bad request, the daemon still serves and the acknowledged event is still there
  expect((await post(`${t.url}/v1/track`, {userId: 'u', event: 'Still Alive'}, {writeKey: key})).status).toBe(200)
  const stored = t.storedMessages()
  expect(stored[0].messageId).toBe('ack-1')
  expect(stored.map((m) => m.event).filter((e) => e !== 'Good One')).toEqual(['Acknowledged', 'Still Alive'])
  await t.close()
})

async function sendRaw(path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return post(`${t.url}${path}`, body, {raw: true, headers: {authorization: basicAuth(key), ...headers}})
}

describe('bodies that are not a message', () => {
  it('invalid JSON', async () => {
    const answer = await sendRaw('/v1/track', '{"userId": "u", "event": ')
    expect(answer.status).toBe(400)
    expect(answer.body.code).toBe('invalid_json')
    expect(answer.body.error).toMatch(/^the request body is not valid JSON: /)
  })

  it('an empty body', async () => {
    const answer = await sendRaw('/v1/track', '')
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_json', error: 'the request body is empty; send a JSON object'}})
  })

  it('bytes that are not valid UTF-8', async () => {
    const answer = await sendRaw('/v1/track', Buffer.from([0x7b, 0x22, 0x75, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_utf8', error: 'the request body is not valid UTF-8'}})
  })

  it.each([
    ['[1, 2]', 'an array'],
    ['"track"', 'a string'],
    ['42', 'a number'],
    ['null', 'null'],
  ])('a body that is not an object: %s', async (body, kind) => {
    const answer = await sendRaw('/v1/track', body)
    expect(answer).toMatchObject({status: 400, body: {success: false, code: 'invalid_body', error: `the request body must be a JSON object, but it was ${kind}`}})
  })

  it.each([
    [{batch: {type: 'track'}}, 'batch must be an array of messages, but it was an object'],
    [{batch: 'x'}, 'batch must be an array of messages, but it was a string'],
    [{messages: []}, 'batch must be an array of messages, but it was missing'],
  ])('a batch that is not an array: %j', async (body, error) => {
    const answer = await sendRaw('/v1/batch', JSON.stringify(body))
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_batch', error, field: 'batch'}})
  })
})

describe('messages that break Segment rules', () => {
  it('an unknown message type in a batch: valid items are stored, the invalid one is listed', async () => {
    const answer = await sendRaw('/v1/batch', JSON.stringify({batch: [{type: 'purchase', userId: 'u', messageId: 'bad-type'}, {type: 'track', userId: 'u', event: 'Good One'}]}))
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({
      success: false,
      code: 'invalid_messages',
      error: '1 of 2 messages were rejected; the other 1 were stored',
      accepted: 1,
      rejected: [{index: 0, messageId: 'bad-type', code: 'unknown_type', field: 'type', error: 'unknown message type "purchase": expected one of track, identify, page, screen, group, alias'}],
    })
    expect(t.storedMessages().some((m) => m.event === 'Good One')).toBe(true)
  })

  it.each([
    ['/v1/track', {userId: 'u'}, 'missing_field', 'event is required for track'],
    ['/v1/track', {userId: 'u', event: ''}, 'missing_field', 'event is required for track'],
    ['/v1/track', {userId: 'u', event: '   '}, 'missing_field', 'event is required for track and must not be blank'],
    ['/v1/track', {event: 'E'}, 'missing_field', 'userId or anonymousId is required for track'],
    ['/v1/identify', {userId: ''}, 'missing_field', 'userId or anonymousId is required for identify'],
    ['/v1/group', {userId: 'u'}, 'missing_field', 'groupId is required for group'],
    ['/v1/alias', {userId: 'u'}, 'missing_field', 'previousId is required for alias'],
    ['/v1/alias', {previousId: 'p'}, 'missing_field', 'userId is required for alias'],
  ])('%s %j: a missing or empty required field', async (path, body, code, error) => {
    const answer = await sendRaw(path, JSON.stringify(body))
    expect(answer).toMatchObject({status: 400, body: {success: false, code, error}})
  })

  it.each([
    [{userId: true, event: 'E'}, 'userId must be a string or a number, but it was a boolean'],
    [{userId: {id: 1}, event: 'E'}, 'userId must be a string or a number, but it was an object'],
    [{anonymousId: ['a'], event: 'E'}, 'anonymousId must be a string or a number, but it was an array'],
    [{userId: 'u', event: 'E', properties: [1, 2]}, 'properties must be an object, but it was an array'],
    [{userId: 'u', event: 'E', properties: 'cheap'}, 'properties must be an object, but it was a string'],
    [{userId: 'u', event: 'E', context: 5}, 'context must be an object, but it was a number'],
    [{userId: 'u', event: 'E', integrations: 'all'}, 'integrations must be an object, but it was a string'],
    [{userId: 'u', event: 42}, 'event must be a string, but it was a number'],
  ])('a field of the wrong type: %j', async (body, error) => {
    const answer = await sendRaw('/v1/track', JSON.stringify(body))
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_field', error}})
  })

  it('traits that are not an object', async () => {
    const answer = await sendRaw('/v1/identify', JSON.stringify({userId: 'u', traits: 'vip'}))
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_field', field: 'traits', error: 'traits must be an object, but it was a string'}})
  })

  it.each([
    [{timestamp: 'yesterday'}, 'timestamp must be an ISO 8601 date-time string, but it was "yesterday"'],
    [{timestamp: '2026-13-45T00:00:00Z'}, 'timestamp must be an ISO 8601 date-time string, but it was "2026-13-45T00:00:00Z"'],
    [{timestamp: 1700000000}, 'timestamp must be an ISO 8601 date-time string, but it was a number'],
    [{sentAt: 'now'}, 'sentAt must be an ISO 8601 date-time string, but it was "now"'],
  ])('an invalid timestamp: %j', async (extra, error) => {
    const answer = await sendRaw('/v1/track', JSON.stringify({userId: 'u', event: 'E', ...extra}))
    expect(answer).toMatchObject({status: 400, body: {code: 'invalid_timestamp', error}})
  })

  it('a messageId over 100 characters', async () => {
    const answer = await sendRaw('/v1/track', JSON.stringify({userId: 'u', event: 'E', messageId: 'm'.repeat(101)}))
    expect(answer).toMatchObject({status: 400, body: {code: 'limit_exceeded', error: 'messageId is 101 characters long; the limit is 100'}})
  })

  it('a too deeply nested payload', async () => {
    let deep: unknown = 'bottom'
    for (let i = 0; i < 100; i++) deep = {level: deep}
    const answer = await sendRaw('/v1/track', JSON.stringify({userId: 'u', event: 'Deep', properties: {deep}}))
    expect(answer).toMatchObject({status: 400, body: {code: 'too_deep', error: 'the message nests objects or arrays deeper than 64 levels'}})
    const arrays = await sendRaw('/v1/track', `{"userId":"u","event":"Deep","properties":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`)
    expect(arrays).toMatchObject({status: 400, body: {code: 'too_deep'}})
  })
})

describe('limits', () => {
  it('a single message over 32 KB', async () => {
    const answer = await sendRaw('/v1/track', JSON.stringify({userId: 'u', event: 'Big', properties: {blob: 'x'.repeat(33 * 1024)}}))
    expect(answer.status).toBe(400)
    expect(answer.body.code).toBe('limit_exceeded')
    expect(answer.body.error).toMatch(/^the request body \(\d+ bytes\) is over the limit of 32 KB a message \(32768 bytes\)$/)
  })

  it('a batch item over 32 KB is rejected, the rest stored', async () => {
    const answer = await sendRaw('/v1/batch', JSON.stringify({batch: [{type: 'track', userId: 'u', event: 'Huge', messageId: 'huge-1', properties: {blob: 'x'.repeat(33 * 1024)}}, {type: 'track', userId: 'u', event: 'Good One'}]}))
    expect(answer.status).toBe(400)
    expect(answer.body.accepted).toBe(1)
    expect(answer.body.rejected[0]).toMatchObject({index: 0, messageId: 'huge-1', code: 'limit_exceeded'})
    expect(answer.body.rejected[0].error).toMatch(/^the message is \d+ bytes; the limit is 32768 bytes \(32 KB\) a message$/)
  })

  it('a batch over 500 KB before decompression', async () => {
    const batch = Array.from({length: 100}, (_, i) => ({type: 'track', userId: 'u', event: 'E', properties: {blob: 'y'.repeat(6000), i}}))
    const answer = await sendRaw('/v1/batch', JSON.stringify({batch}))
    expect(answer.status).toBe(400)
    expect(answer.body.error).toMatch(/is over the limit of 500 KB a batch \(512000 bytes\)$/)
  })

  it('a batch over 500 KB after decompression (a small gzip that inflates)', async () => {
    const batch = Array.from({length: 100}, () => ({type: 'track', userId: 'u', event: 'E', properties: {blob: 'z'.repeat(6000)}}))
    const body = gzipSync(JSON.stringify({batch}))
    expect(body.length).toBeLessThan(20_000)
    const answer = await sendRaw('/v1/batch', body, {'content-encoding': 'gzip'})
    expect(answer).toMatchObject({status: 400, body: {code: 'limit_exceeded', error: 'the request body after decompression is over the limit of 500 KB a batch (512000 bytes)'}})
  })

  it('a batch of more than 2,500 messages', async () => {
    const batch = Array.from({length: 2501}, () => ({type: 'track', userId: 'u', event: 'E'}))
    const answer = await sendRaw('/v1/batch', JSON.stringify({batch}))
    expect(answer).toMatchObject({status: 400, body: {code: 'limit_exceeded', error: 'the batch has 2501 messages; the limit is 2500 a batch'}})
  })
})

describe('encodings and transport', () => {
  it('a Content-Encoding that does not match the body', async () => {
    const answer = await sendRaw('/v1/track', JSON.stringify({userId: 'u', event: 'E'}), {'content-encoding': 'gzip'})
    expect(answer.status).toBe(400)
    expect(answer.body.code).toBe('invalid_encoding')
    expect(answer.body.error).toMatch(/^Content-Encoding says gzip but the body is not gzip data/)
  })

  it('an unsupported Content-Encoding', async () => {
    const answer = await sendRaw('/v1/track', JSON.stringify({userId: 'u', event: 'E'}), {'content-encoding': 'zstd'})
    expect(answer).toMatchObject({status: 415, body: {code: 'unsupported_encoding', error: 'Content-Encoding "zstd" is not supported; send identity, gzip, deflate or br'}})
  })

  it('a wrong method and an unknown path', async () => {
    expect((await getJson(`${t.url}/v1/track`)).status).toBe(405)
    const missing = await getJson(`${t.url}/v2/track`, {method: 'POST', body: '{}'})
    expect(missing).toMatchObject({status: 404, body: {code: 'not_found', error: 'no such endpoint: POST /v2/track'}})
  })

  it('a slow upload gets a 408 and stores nothing', async () => {
    const answer = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const req = request(`${t.url}/v1/track`, {method: 'POST', headers: {authorization: basicAuth(key), 'content-length': '100'}}, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      })
      req.on('error', reject)
      // Only part of the body, then silence.
      req.write('{"userId":"u","event":"Slow",')
    })
    expect(answer.status).toBe(408)
    expect(JSON.parse(answer.body)).toMatchObject({code: 'timeout', error: 'the request body did not arrive within 0.5 s; send the whole body promptly'})
    expect(t.storedMessages().some((m) => m.event === 'Slow')).toBe(false)
  })

  it('an aborted upload stores nothing and does not disturb the daemon', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${t.url}/v1/track`, {method: 'POST', headers: {authorization: basicAuth(key), 'content-length': '1000'}})
      req.on('error', () => resolve())
      req.write('{"userId":"u","event":"Aborted",', () => {
        setTimeout(() => {
          req.destroy()
          resolve()
        }, 50)
      })
    })
    const answer = await post(`${t.url}/v1/track`, {userId: 'u', event: 'Good One'}, {writeKey: key})
    expect(answer.status).toBe(200)
    expect(t.storedMessages().some((m) => m.event === 'Aborted')).toBe(false)
  })
})
