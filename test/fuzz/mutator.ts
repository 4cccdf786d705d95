import {brotliCompressSync, constants as zlibConstants, deflateRawSync, deflateSync, gzipSync} from 'node:zlib'
import {JsonText, nestedText} from './json-text.js'
import {applyItemMutation, badDates, freshMessage, protoKeys, protoValue, type FuzzSource, type Gen, type ItemExpectation} from './message-mutations.js'
import {endpointOf, messageKinds, shortEndpointOf, tinyMessage, type MessageKind} from './messages.js'
import {Rng} from './prng.js'

export type {FuzzSource} from './message-mutations.js'

/** What the answer to a request must be, when the generator knows for sure. */
export type Expectation = 'success' | 'client-error'

/** One generated request, with what the oracle needs to judge the answer. */
export interface FuzzCase {
  seed: number
  index: number
  /** What this request tests, as "group.mutation" (the summary counts by it). */
  kind: string
  method: string
  path: string
  headers: Record<string, string>
  body?: Buffer
  /** Send the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean
  /** The Tracking API endpoint the path names ('batch' or a message type); absent for other paths. */
  endpoint?: MessageKind | 'batch'
  /**
   * The JSON value the daemon reads from the body when it can read one (after decompression and
   * UTF-8 decoding); absent when the body is not JSON it can read (truncated, corrupt, a bomb).
   */
  payload?: unknown
  /** The source whose events a 200 stores, when the request's write key names one. */
  source?: string
  expect?: Expectation
  /** The mutations applied, when the kind does not say it all. */
  detail?: string
  /** For a batch: items that must be accepted, or must be rejected, by index. */
  itemExpect?: (ItemExpectation | undefined)[]
}

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=latin1',
]

function basic(key: string, colon = true): string {
  return 'Basic ' + Buffer.from(colon ? `${key}:` : key).toString('base64')
}

/** Basic auth with or without the colon, or the key in the body. */
function authHeaders(g: Gen, source: FuzzSource): {headers: Record<string, string>; bodyKey?: string} {
  const way = g.rng.weighted([
    ['colon', 6],
    ['no-colon', 2],
    ['body', 2],
  ] as const)
  if (way === 'body') return {headers: {}, bodyKey: source.writeKey}
  return {headers: {authorization: basic(source.writeKey, way === 'colon')}}
}

function withContentType(g: Gen, headers: Record<string, string>): Record<string, string> {
  if (g.rng.chance(0.1)) return headers
  return {...headers, 'content-type': g.rng.chance(0.7) ? 'application/json' : g.rng.pick(contentTypes)}
}

function singlePath(g: Gen, kind: MessageKind): string {
  const path = g.rng.chance(0.2) ? shortEndpointOf[kind] : endpointOf[kind]
  if (g.rng.chance(0.05)) return `${path}/`
  if (g.rng.chance(0.05)) return `${path}?ajs_uid=1&x=%`
  return path
}

function batchPath(g: Gen): string {
  return g.rng.pick(['/v1/batch', '/v1/batch', '/v1/batch', '/v1/b', '/v1/import'])
}

function tracking(g: Gen, kind: string, fields: Omit<FuzzCase, 'seed' | 'index' | 'kind' | 'method'> & {method?: string}): FuzzCase {
  return {seed: g.seed, index: g.index, kind, method: 'POST', ...fields}
}

/** A single message request from a (possibly mutated) message. */
function singleCase(g: Gen, kind: string, messageKind: MessageKind, message: unknown, text: JsonText, expect?: Expectation): FuzzCase {
  const source = g.rng.pick(g.sources)
  const auth = authHeaders(g, source)
  const withKey = auth.bodyKey && message !== null && typeof message === 'object' && !Array.isArray(message) ? {...message, writeKey: auth.bodyKey} : message
  const json = text.stringify(withKey)
  return tracking(g, kind, {
    path: singlePath(g, messageKind),
    headers: withContentType(g, auth.headers),
    body: Buffer.from(json),
    endpoint: messageKind,
    payload: JSON.parse(json),
    source: source.name,
    expect,
  })
}

function batchCase(
  g: Gen,
  kind: string,
  items: unknown[],
  text: JsonText,
  options: {batchFields?: Record<string, unknown>; itemExpect?: (ItemExpectation | undefined)[]; expect?: Expectation} = {},
): FuzzCase {
  const source = g.rng.pick(g.sources)
  const auth = authHeaders(g, source)
  const body: Record<string, unknown> = {batch: items, ...options.batchFields}
  if (auth.bodyKey) body.writeKey = auth.bodyKey
  if (g.rng.chance(0.7) && !('sentAt' in body)) body.sentAt = new Date().toISOString()
  const json = text.stringify(body)
  return tracking(g, kind, {
    path: batchPath(g),
    headers: withContentType(g, auth.headers),
    body: Buffer.from(json),
    endpoint: 'batch',
    payload: JSON.parse(json),
    source: source.name,
    expect: options.expect,
    itemExpect: options.itemExpect,
  })
}

function batchSize(rng: Rng): number {
  return rng.weighted([
    [rng.int(1, 5), 5],
    [rng.int(6, 20), 3],
    [rng.int(21, 100), 1],
  ])
}

// Compressed bodies that inflate far past every limit. Made once: they cost milliseconds each.
let bombs: Record<'gzip' | 'deflate' | 'br', Buffer> | undefined
function bomb(encoding: 'gzip' | 'deflate' | 'br'): Buffer {
  if (!bombs) {
    const zeros = Buffer.alloc(20 * 1024 * 1024)
    const json = Buffer.from(`{"batch":[${'{"type":"track","userId":"u","event":"e"},'.repeat(60_000)}{}]}`)
    bombs = {
      gzip: gzipSync(zeros, {level: 9}),
      deflate: deflateSync(json, {level: 9}),
      br: brotliCompressSync(zeros, {params: {[zlibConstants.BROTLI_PARAM_QUALITY]: 5}}),
    }
  }
  return bombs[encoding]
}

function compress(encoding: string, body: Buffer): Buffer {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return gzipSync(body)
    case 'deflate':
      return deflateSync(body)
    case 'deflate-raw':
      return deflateRawSync(body)
    default:
      return brotliCompressSync(body)
  }
}

/** A request for the Tracking API with a valid body of one or many realistic messages. */
function validTracking(g: Gen): FuzzCase {
  if (g.rng.chance(0.5)) {
    const kind = g.rng.pick(messageKinds)
    return singleCase(g, 'valid.single', kind, freshMessage(g, kind), new JsonText(), 'success')
  }
  const items = Array.from({length: batchSize(g.rng)}, () => freshMessage(g))
  const batchFields: Record<string, unknown> = {}
  if (g.rng.chance(0.3)) batchFields.context = {library: {name: 'analytics-python', version: '2.3.2'}, app: {build: '42'}}
  if (g.rng.chance(0.2)) batchFields.integrations = {Amplitude: false}
  return batchCase(g, 'valid.batch', items, new JsonText(), {batchFields, expect: 'success'})
}

/** Every kind of request, by name, with its share of a run. */
const strategies: Record<string, [weight: number, make: (g: Gen) => FuzzCase]> = {
  valid: [14, validTracking],
  'item-mutation': [
    26,
    (g) => {
      const kind = g.rng.pick(messageKinds)
      const text = new JsonText()
      const mutated = applyItemMutation(g, freshMessage(g, kind), text, false)
      const expect = mutated.expect === 'accept' ? 'success' : mutated.expect === 'reject' ? 'client-error' : undefined
      const group = mutated.name.includes('+') ? 'combined' : mutated.name.split(':')[0]
      return {...singleCase(g, `item.${group}`, kind, mutated.message, text, expect), detail: mutated.name}
    },
  ],
  'batch-mixed': [
    14,
    (g) => {
      const text = new JsonText()
      const items: unknown[] = []
      const itemExpect: (ItemExpectation | undefined)[] = []
      const details: string[] = []
      for (let i = batchSize(g.rng); i > 0; i--) {
        const message = freshMessage(g)
        if (g.rng.chance(0.35)) {
          const mutated = applyItemMutation(g, message, text, true)
          details.push(`${items.length}:${mutated.name}`)
          items.push(mutated.message)
          itemExpect.push(mutated.expect)
        } else if (g.rng.chance(0.05) && items.length > 0) {
          // The same item twice: stored once, both acknowledged.
          items.push(items[items.length - 1])
          itemExpect.push(itemExpect[itemExpect.length - 1])
        } else {
          items.push(message)
          itemExpect.push('accept')
        }
      }
      return {...batchCase(g, 'batch.mixed', items, text, {itemExpect}), detail: details.join(', ')}
    },
  ],
  'batch-level': [
    6,
    (g) => {
      const text = new JsonText()
      const items = Array.from({length: g.rng.int(1, 5)}, () => freshMessage(g))
      const what = g.rng.pick(['deep-context', 'deep-integrations', 'proto-context', 'proto-integrations', 'not-object', 'sent-at', 'batch-type', 'proto-batch'])
      if (what === 'deep-context' || what === 'deep-integrations') {
        const depth = g.rng.pick([60, 63, 64, 65, 100, 3000, 6000])
        // A batch-level field is merged into each item's own: the item's depth is what counts.
        const field = what === 'deep-context' ? 'context' : 'integrations'
        const raw = text.raw(nestedText(depth - 2, g.rng.pick(['object', 'array'] as const)))
        return batchCase(g, `batch.${what}`, items, text, {batchFields: {[field]: {deep: raw}}, expect: depth > 64 ? 'client-error' : 'success'})
      }
      if (what === 'proto-context' || what === 'proto-integrations') {
        const field = what === 'proto-context' ? 'context' : 'integrations'
        return batchCase(g, `batch.${what}`, items, text, {batchFields: {[field]: {[text.key(g.rng.pick(protoKeys))]: protoValue(g.rng, `victim-${g.id()}`)}}})
      }
      if (what === 'proto-batch') {
        return batchCase(g, 'batch.proto-batch', items, text, {batchFields: {[text.key('__proto__')]: {batch: [freshMessage(g)], context: {deep: 1}}}})
      }
      if (what === 'not-object') {
        const field = g.rng.pick(['context', 'integrations'])
        return batchCase(g, 'batch.not-object', items, text, {batchFields: {[field]: g.rng.pick<unknown>([1, 'x', [], true])}, expect: 'client-error'})
      }
      if (what === 'sent-at') {
        const {value, certain} = g.rng.pick(badDates)
        return batchCase(g, 'batch.sent-at', items, text, {batchFields: {sentAt: value}, expect: certain === 'reject' ? 'client-error' : undefined})
      }
      const batch = g.rng.pick<unknown>([{}, 'x', null, 1, {0: items[0]}])
      const json = JSON.stringify({batch})
      const source = g.rng.pick(g.sources)
      return tracking(g, 'batch.batch-type', {
        path: batchPath(g),
        headers: {authorization: basic(source.writeKey)},
        body: Buffer.from(json),
        endpoint: 'batch',
        payload: JSON.parse(json),
        source: source.name,
        expect: 'client-error',
      })
    },
  ],
  'batch-edge-size': [
    1,
    (g) => {
      const count = g.rng.pick([0, 2499, 2500, 2501])
      const items = Array.from({length: count}, (_, i) => tinyMessage(g.id(), i))
      return batchCase(g, `batch.size-${count}`, items, new JsonText(), {expect: count <= 2500 ? 'success' : 'client-error'})
    },
  ],
  'byte-limits': [
    2,
    (g) => {
      if (g.rng.chance(0.25)) {
        // An upload far over the limit: the 400 must reach the client even though the daemon
        // stops reading early (declared by Content-Length, or found out while reading a chunked body).
        const source = g.rng.pick(g.sources)
        const size = g.rng.pick([600 * 1024, 2 * 1024 * 1024, 5 * 1024 * 1024])
        const item = JSON.stringify(freshMessage(g))
        const items = new Array(Math.ceil(size / (item.length + 1))).fill(item)
        const chunked = g.rng.chance(0.3)
        return tracking(g, `limit.upload-${chunked ? 'chunked' : 'declared'}`, {
          path: '/v1/batch',
          headers: {authorization: basic(source.writeKey)},
          body: Buffer.from(`{"batch":[${items.join(',')}]}`),
          chunked,
          endpoint: 'batch',
          source: source.name,
          expect: 'client-error',
        })
      }
      // Bodies of exactly the limit, and one byte over, padded with JSON whitespace.
      const single = g.rng.chance(0.5)
      const limit = single ? 32 * 1024 : 500 * 1024
      const over = g.rng.chance(0.5)
      const source = g.rng.pick(g.sources)
      const kind = g.rng.pick(messageKinds)
      const value = single ? freshMessage(g, kind) : {batch: Array.from({length: 20}, () => freshMessage(g))}
      const json = JSON.stringify(value)
      const padding = ' '.repeat(limit + (over ? 1 : 0) - Buffer.byteLength(json))
      const text = g.rng.chance(0.5) ? json + padding : padding + json
      return tracking(g, `limit.${single ? 'message' : 'batch'}-${over ? 'over' : 'at'}`, {
        path: single ? endpointOf[kind] : '/v1/batch',
        headers: {authorization: basic(source.writeKey)},
        body: Buffer.from(text),
        endpoint: single ? kind : 'batch',
        payload: JSON.parse(text),
        source: source.name,
        expect: over ? 'client-error' : 'success',
      })
    },
  ],
  'bad-bytes': [
    8,
    (g) => {
      const source = g.rng.pick(g.sources)
      const kind = g.rng.pick(messageKinds)
      const json = JSON.stringify(freshMessage(g, kind))
      const what = g.rng.pick(['truncated', 'invalid-utf8', 'not-object', 'empty', 'garbage', 'bom', 'utf16'])
      const base = {path: endpointOf[kind], headers: {authorization: basic(source.writeKey)}, endpoint: kind, source: source.name}
      switch (what) {
        case 'truncated':
          return tracking(g, 'body.truncated', {...base, body: Buffer.from(json.slice(0, g.rng.int(0, json.length - 1))), expect: 'client-error'})
        case 'invalid-utf8': {
          // Inside a string value, so that only the bytes are wrong.
          const bad = g.rng.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]])
          const at = json.indexOf('"messageId":"') + 13
          const bytes = Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from(bad), Buffer.from(json.slice(at))])
          return tracking(g, 'body.invalid-utf8', {...base, body: bytes, expect: 'client-error'})
        }
        case 'not-object': {
          const text = g.rng.pick(['[]', `[${json}]`, '"track"', '42', 'null', 'true', '1e400'])
          return tracking(g, 'body.not-object', {...base, body: Buffer.from(text), payload: JSON.parse(text), expect: 'client-error'})
        }
        case 'empty':
          return tracking(g, 'body.empty', {...base, body: Buffer.from(g.rng.pick(['', ' ', '\r\n\t'])), expect: 'client-error'})
        case 'garbage': {
          const bytes = Buffer.alloc(g.rng.int(1, 2000))
          for (let i = 0; i < bytes.length; i++) bytes[i] = g.rng.int(0, 255)
          // Random bytes that happen to be valid JSON would be a miracle; do not count on either.
          return tracking(g, 'body.garbage', {...base, body: bytes})
        }
        case 'bom':
          return tracking(g, 'body.bom', {...base, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]), payload: JSON.parse(json), expect: 'success'})
        default:
          return tracking(g, 'body.utf16', {...base, body: Buffer.from(json, 'utf16le'), headers: {...base.headers, 'content-type': 'application/json; charset=utf-16'}, expect: 'client-error'})
      }
    },
  ],
  encoding: [
    8,
    (g) => {
      const source = g.rng.pick(g.sources)
      const batch = g.rng.chance(0.5)
      const kind = g.rng.pick(messageKinds)
      const value = batch ? {batch: Array.from({length: batchSize(g.rng)}, () => freshMessage(g))} : freshMessage(g, kind)
      const json = JSON.stringify(value)
      const base = {path: batch ? '/v1/batch' : endpointOf[kind], endpoint: batch ? ('batch' as const) : kind, source: source.name}
      const auth = {authorization: basic(source.writeKey)}
      const what = g.rng.weighted([
        ['valid', 4],
        ['corrupt', 2],
        ['truncated', 1],
        ['bomb', 1],
        ['unknown', 1],
        ['mismatch', 1],
      ] as const)
      const encoding = g.rng.pick(['gzip', 'x-gzip', 'deflate', 'deflate-raw', 'br'])
      const label = encoding === 'deflate-raw' ? 'deflate' : encoding
      const compressed = compress(encoding, Buffer.from(json))
      switch (what) {
        case 'valid': {
          const shown = g.rng.chance(0.2) ? label.toUpperCase() : g.rng.chance(0.1) ? ` ${label} ` : label
          return tracking(g, `encoding.valid-${label}`, {...base, headers: {...auth, 'content-encoding': shown}, body: compressed, payload: value, expect: 'success'})
        }
        case 'corrupt': {
          const body = Buffer.from(compressed)
          // Flip bytes past the header, where the checksum or the stream breaks.
          for (let i = 0; i < 4; i++) body[g.rng.int(Math.min(10, body.length - 1), body.length - 1)] ^= 0xff
          return tracking(g, `encoding.corrupt-${label}`, {...base, headers: {...auth, 'content-encoding': label}, body})
        }
        case 'truncated':
          return tracking(g, `encoding.truncated-${label}`, {...base, headers: {...auth, 'content-encoding': label}, body: compressed.subarray(0, g.rng.int(0, compressed.length - 1)), expect: 'client-error'})
        case 'bomb': {
          const kindOf = g.rng.pick(['gzip', 'deflate', 'br'] as const)
          return tracking(g, `encoding.bomb-${kindOf}`, {...base, path: '/v1/batch', endpoint: 'batch', headers: {...auth, 'content-encoding': kindOf}, body: bomb(kindOf), expect: 'client-error'})
        }
        case 'unknown': {
          const unknown = g.rng.pick(['compress', 'zstd', 'gzip, gzip', 'gzip, br', 'x-compress', 'snappy', '*'])
          return tracking(g, 'encoding.unknown', {...base, headers: {...auth, 'content-encoding': unknown}, body: compressed, expect: 'client-error'})
        }
        default: {
          // Says one encoding, is another (or none).
          const says = g.rng.pick(['gzip', 'br', 'deflate'])
          const body = says === 'br' ? gzipSync(json) : g.rng.chance(0.5) ? Buffer.from(json) : brotliCompressSync(json)
          return tracking(g, 'encoding.mismatch', {...base, headers: {...auth, 'content-encoding': says}, body})
        }
      }
    },
  ],
  auth: [
    5,
    (g) => {
      const kind = g.rng.pick(messageKinds)
      const message = freshMessage(g, kind)
      const source = g.rng.pick(g.sources)
      const what = g.rng.pick(['missing', 'unknown', 'garbage', 'bearer', 'empty', 'header-wins', 'item-key', 'body-wrong-type', 'long'])
      const base = {path: endpointOf[kind], endpoint: kind}
      const send = (name: string, headers: Record<string, string>, value: unknown, expect: Expectation, sourceName?: string) => {
        const json = JSON.stringify(value)
        return tracking(g, `auth.${name}`, {...base, headers, body: Buffer.from(json), payload: value, source: sourceName, expect})
      }
      switch (what) {
        case 'missing':
          return send('missing', {}, message, 'client-error')
        case 'unknown':
          return send('unknown', {authorization: basic(`nope-${g.id()}`)}, message, 'client-error')
        case 'garbage':
          return send('garbage', {authorization: g.rng.pick(['Basic', 'Basic !!!', 'Basic ====', 'basic   ', 'Basic ' + Buffer.from(':').toString('base64'), 'Digest x'])}, message, 'client-error')
        case 'bearer':
          return send('bearer', {authorization: `Bearer ${source.writeKey}`}, message, 'client-error')
        case 'empty':
          return send('empty', {authorization: basic('')}, {...message, writeKey: ''}, 'client-error')
        case 'header-wins':
          // An unknown key in the header is refused even when the body names a good one.
          return send('header-wins', {authorization: basic('not-a-key')}, {...message, writeKey: source.writeKey}, 'client-error')
        case 'item-key': {
          const value = {batch: [{...message, writeKey: source.writeKey}, freshMessage(g)]}
          const json = JSON.stringify(value)
          return tracking(g, 'auth.item-key', {path: '/v1/batch', endpoint: 'batch', headers: {}, body: Buffer.from(json), payload: value, source: source.name, expect: 'success'})
        }
        case 'body-wrong-type':
          return send('body-wrong-type', {}, {...message, writeKey: g.rng.pick<unknown>([1, null, [source.writeKey], {key: source.writeKey}])}, 'client-error')
        default:
          return send('long', {authorization: basic('k'.repeat(g.rng.pick([1000, 8000])))}, message, 'client-error')
      }
    },
  ],
  http: [
    4,
    (g) => {
      const source = g.rng.pick(g.sources)
      const kind = g.rng.pick(messageKinds)
      const message = freshMessage(g, kind)
      const json = JSON.stringify(message)
      const auth = {authorization: basic(source.writeKey)}
      const what = g.rng.pick(['method', 'path', 'options', 'chunked', 'metrics', 'expect-continue'])
      switch (what) {
        case 'method': {
          const method = g.rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'])
          return {seed: g.seed, index: g.index, kind: 'http.method', method, path: endpointOf[kind], headers: auth, body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(json), expect: 'client-error'}
        }
        case 'path': {
          const path = g.rng.pick(['/v1/TRACK', '/v2/track', '/v1//track', '/v1/track/x', '/', '/v1', '/%', '/v1/track%00', '/v1/batch/../track', '/api/events/x'])
          return {seed: g.seed, index: g.index, kind: 'http.path', method: 'POST', path, headers: auth, body: Buffer.from(json), expect: 'client-error'}
        }
        case 'options':
          return {seed: g.seed, index: g.index, kind: 'http.options', method: 'OPTIONS', path: endpointOf[kind], headers: {origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type'}}
        case 'chunked':
          return tracking(g, 'http.chunked', {path: endpointOf[kind], endpoint: kind, headers: auth, body: Buffer.from(json), chunked: true, payload: message, source: source.name, expect: 'success'})
        case 'metrics':
          return {seed: g.seed, index: g.index, kind: 'http.metrics', method: 'POST', path: '/v1/m', headers: {'content-type': 'text/plain'}, body: Buffer.from(g.rng.chance(0.5) ? '{"series":[]}' : '\xff\x00garbage')}
        default:
          return tracking(g, 'http.expect-continue', {path: endpointOf[kind], endpoint: kind, headers: {...auth, expect: '100-continue'}, body: Buffer.from(json), payload: message, source: source.name})
      }
    },
  ],
  query: [
    4,
    (g) => {
      const what = g.rng.pick(['events', 'violations', 'deliveries', 'settings', 'retry'])
      const since = () => g.rng.pick(['99999999999d', '99999999999999w', '1e10w', '2024-02-30', '2024-13-01', '', '-1d', '%', '%E0%A4%A', 'abc', '0s', '7d', '2024-06-01T00:00:00Z', '+275760-09-13T00:00:00Z'])
      const limit = () => g.rng.pick(['', '1', '5', '0', '-1', 'abc', '1e3', '100001', '2.5', '%'])
      const base = {seed: g.seed, index: g.index, headers: {}}
      switch (what) {
        case 'events': {
          const params = [`since=${since()}`, `limit=${limit()}`, `type=${g.rng.pick(['', 'track', 'TRACK', 'nope', '%ZZ'])}`, `valid=${g.rng.pick(['', 'true', 'yes'])}`, `user=${g.rng.pick(['', 'u1', '%00', '__proto__'])}`]
          return {...base, kind: 'query.events', method: 'GET', path: `/api/events?${params.filter(() => g.rng.chance(0.6)).join('&')}`}
        }
        case 'violations':
          return {...base, kind: 'query.violations', method: 'GET', path: `/api/violations?since=${since()}&limit=${limit()}&kind=${g.rng.pick(['', 'type', 'nope', '__proto__'])}`}
        case 'deliveries':
          return {...base, kind: 'query.deliveries', method: 'GET', path: `/api/deliveries?status=${g.rng.pick(['', 'dead', 'nope', 'constructor'])}&limit=${limit()}&destination=${g.rng.pick(['', 'x', '%'])}`}
        case 'settings': {
          const key = g.rng.pick(['%', '%E0%A4%A', '%00', '..', 'x'.repeat(5000), g.sources[0].writeKey, encodeURIComponent(g.sources[1].writeKey), '__proto__', 'constructor', '%2F'])
          return {...base, kind: 'query.settings', method: 'GET', path: `/v1/projects/${key}/settings`}
        }
        default: {
          const body = g.rng.pick(['', '{}', '{"ids":[1e400]}', '{"destination":{}}', '{"ids":"x"}', '{"__proto__":{"destination":"x"}}', '[', '{"destination":"nope"}', '{"ids":[-1,0,1.5]}'])
          return {...base, kind: 'query.retry', method: 'POST', path: '/api/deliveries/retry', headers: {'content-type': 'application/json'}, body: Buffer.from(body)}
        }
      }
    },
  ],
}

const strategyEntries = Object.entries(strategies).map(([name, [weight]]) => [name, weight] as const)

/** The strategy names, in the order the first requests of a run go through them (so that even a short run covers each). */
export const strategyNames = Object.keys(strategies)

/**
 * The request at `index` of the run of `seed`: the same pair always gives the same request, so a
 * failure is reproduced from the two numbers alone, without generating the ones before it.
 */
export function generateCase(seed: number, index: number, sources: readonly FuzzSource[]): FuzzCase {
  const rng = Rng.forCase(seed, index)
  let counter = 0
  const g: Gen = {
    rng,
    seed,
    index,
    sources,
    id: () => `fz${seed.toString(36)}-${index.toString(36)}-${(counter++).toString(36)}`,
    // A batch has at most a few thousand items: 10,000 numbers per request never overlap.
    number: () => index * 10_000 + counter++,
  }
  const name = index < strategyNames.length ? strategyNames[index] : rng.weighted(strategyEntries)
  return strategies[name][1](g)
}
