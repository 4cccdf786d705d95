import {brotliCompressSync, constants as zlibConstants, deflateRawSync, deflateSync, gzipSync} from 'node:zlib'
import {JsonText, nestedText} from './json-text.js'
import {endpointOf, isoTime, messageKinds, realisticMessage, shortEndpointOf, tinyMessage, type JsonObject, type MessageKind} from './messages.js'
import {Rng} from './prng.js'

/** A source the fuzzed daemon serves (cdp.json), by name and write key. */
export interface FuzzSource {
  name: string
  writeKey: string
}

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

type ItemExpectation = 'accept' | 'reject'

/** Everything a strategy needs to make one request. */
interface Gen {
  rng: Rng
  seed: number
  index: number
  sources: readonly FuzzSource[]
  /** A messageId unique in the run. */
  id(): string
  /** A number unique in the run, for numeric messageIds. */
  number(): number
}

interface Mutated {
  /** The message, with JsonText placeholders where raw text goes. */
  message: unknown
  /** The mutation applied, for the summary. */
  name: string
  expect?: ItemExpectation
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

function confusedValue(rng: Rng): unknown {
  return rng.pick<unknown>([null, true, false, 0, -1, 1.5, '', ' ', 'x', [], [1, 'a'], {}, {a: 1}, 'true', '123', 9_007_199_254_740_993])
}

/** Text of numbers a double cannot hold exactly, or at all. */
const hugeNumberTexts = ['1e400', '-1e400', '1e-400', '-0', '123456789012345678901234567890', '9007199254740993', '1.7976931348623157e308', '0.1e-999', '5e-324']

const unicodeEdges = [
  '\ud800', // a lone high surrogate (JSON escapes it)
  '\udfff',
  '\u0000',
  '\u202e\u202d',
  'a\u0301\u0301\u0301',
  '\u200d\u200b\ufeff',
  '\uffff\ufffe',
  '\u{10ffff}',
  '🎉👩‍👩‍👧‍👦',
  '\u001b]0;owned\u0007\u001b[2J',
  '\u001b]52;c;aGk=\u0007',
  'Ω≈ç√∫˜µ≤≥÷',
  '\u2028\u2029',
  'é'.normalize('NFD'),
  '\r\n\t\b\f',
]

const badDates: {value: unknown; certain?: ItemExpectation}[] = [
  {value: '2024-02-30T00:00:00Z'},
  {value: '2023-02-29'},
  {value: '2024-04-31T12:00:00.000Z'},
  {value: '2024-13-01T00:00:00Z', certain: 'reject'},
  {value: '2024-01-01T24:00:00Z'},
  {value: '0000-01-01T00:00:00Z'},
  {value: '9999-12-31T23:59:59.999999999+14:00'},
  {value: '+275760-09-13T00:00:00Z', certain: 'reject'},
  {value: '-000001-01-01T00:00:00Z', certain: 'reject'},
  {value: '2024-01-01T00:00:00+99:00', certain: 'reject'},
  {value: 'yesterday', certain: 'reject'},
  {value: '', certain: 'reject'},
  {value: 1_704_067_200_000, certain: 'reject'},
  {value: '2024-01-01T00:00:00,5Z'},
  {value: '1970-01-01T00:00:00Z'},
  {value: '2024-06-01 10:00'},
  {value: null},
]

const protoKeys = ['__proto__', 'constructor', 'prototype']

/** Values hidden under a prototype key: each one changed what was stored, or broke the store, before issue 10. */
function protoValue(rng: Rng, marker: string): unknown {
  return rng.pick<unknown>([
    {userId: marker},
    {userId: {}},
    {event: marker},
    {properties: {plan: 'pro'}},
    {type: 'identify'},
    {messageId: marker},
    {isAdmin: true},
    null,
    1,
    'x',
    [],
  ])
}

/** One realistic message of a random type, with a fresh messageId. */
function freshMessage(g: Gen, kind: MessageKind = g.rng.pick(messageKinds)): JsonObject {
  return realisticMessage(g.rng, kind, g.id())
}

/** A string of `length` characters starting with a unique id, so a long messageId is still unique. */
function uniqueOfLength(g: Gen, length: number, filler = 'x'): string {
  const head = g.id()
  return head.length >= length ? head.slice(0, length) : head + filler.repeat(length - head.length)
}

/**
 * Mutations of one message. Each returns the changed message (placeholders from `text` where raw
 * JSON goes) and, when the outcome is certain whatever else the message holds, whether it must be
 * accepted or rejected.
 */
const itemMutations: Record<string, (g: Gen, message: JsonObject, text: JsonText) => Mutated> = {
  'type-confusion': (g, message) => {
    const field = g.rng.pick(['userId', 'anonymousId', 'event', 'messageId', 'properties', 'traits', 'context', 'integrations', 'timestamp', 'name', 'groupId', 'previousId', 'sentAt', 'category'])
    // A messageId stays unique in the run (the oracle finds stored rows by it): no "x" or 0 twice.
    const value = field === 'messageId' ? g.rng.pick<unknown>([null, true, false, [], {}, [g.id()], {id: g.id()}, g.number() + 0.5, -g.number() - 1]) : confusedValue(g.rng)
    return {message: {...message, [field]: value}, name: `type-confusion:${field}`}
  },
  'removed-key': (g, message) => {
    const copy = {...message}
    const field = g.rng.pick(Object.keys(copy))
    delete copy[field]
    return {message: copy, name: `removed-key:${field}`}
  },
  'duplicated-key': (g, message, text) => {
    // JSON.parse keeps the last of two equal keys; the daemon must read the same value as stored.
    const field = g.rng.pick(['userId', 'event', 'messageId', 'properties', 'type', 'timestamp', 'anonymousId'])
    const other = field === 'messageId' ? g.id() : g.rng.chance(0.5) ? confusedValue(g.rng) : 'duplicate'
    const dup = text.key(field)
    const copy = g.rng.chance(0.5) ? {[dup]: other, ...message} : {...message, [dup]: other}
    return {message: copy, name: `duplicated-key:${field}`}
  },
  'huge-number': (g, message, text) => {
    const number = g.rng.pick(hugeNumberTexts)
    // Not the messageId: two huge numbers read as the same id, and the oracle needs ids unique in a run.
    const where = g.rng.pick(['property', 'userId', 'anonymousId', 'context'])
    if (where === 'property') return {message: {...message, properties: {...(message.properties as object), big: text.raw(number)}}, name: 'huge-number:property'}
    if (where === 'context') return {message: {...message, context: {...(message.context as object), screen: {width: text.raw(number)}}}, name: 'huge-number:context'}
    return {message: {...message, [where]: text.raw(number)}, name: `huge-number:${where}`}
  },
  'message-id-length': (g, message) => {
    const length = g.rng.pick([99, 100, 101, 1000])
    const filler = g.rng.pick(['x', 'é', '-'])
    return {message: {...message, messageId: uniqueOfLength(g, length, filler)}, name: `message-id:${length}`, expect: length <= 100 ? 'accept' : 'reject'}
  },
  'message-id-odd': (g, message) => {
    // Absent, null or empty: the daemon makes one. A number becomes a string.
    const value = g.rng.pick<unknown>([undefined, null, '', 4_000_000_000 + g.number(), ` ${g.id()} `, '🎉'.repeat(50) + g.id()])
    const copy = {...message}
    if (value === undefined) delete copy.messageId
    else copy.messageId = value as string
    return {message: copy, name: 'message-id:odd'}
  },
  'long-string': (g, message) => {
    const length = g.rng.pick([1000, 16_000, 31_000, 40_000])
    const field = g.rng.pick(['event', 'userId', 'property', 'property-key'])
    const long = g.rng.pick(['a', 'é', '🎉']).repeat(length / 2)
    if (field === 'property') return {message: {...message, properties: {...(message.properties as object), long}}, name: 'long-string:property'}
    if (field === 'property-key') return {message: {...message, properties: {[long]: 1}}, name: 'long-string:key'}
    return {message: {...message, [field]: long}, name: `long-string:${field}`}
  },
  'deep-nesting': (g, message, text) => {
    // The message is level 1 and properties level 2: a chain of n objects inside reaches 2 + n.
    const depth = g.rng.pick([63, 64, 65, 100, 1000, 10_000])
    const shape = g.rng.pick(['object', 'array'] as const)
    const field = g.rng.pick(['properties', 'context', 'traits', 'integrations'])
    const nested = text.raw(nestedText(depth - 2, shape))
    return {message: {...message, [field]: {...((message[field] as object) ?? {}), deep: nested}}, name: `deep-nesting:${field}`, expect: depth <= 64 ? undefined : 'reject'}
  },
  unicode: (g, message) => {
    const edge = g.rng.pick(unicodeEdges)
    const where = g.rng.pick(['event', 'userId', 'property', 'property-key', 'messageId', 'name'])
    if (where === 'property') return {message: {...message, properties: {...(message.properties as object), text: edge}}, name: 'unicode:property'}
    if (where === 'property-key') return {message: {...message, properties: {...(message.properties as object), [edge]: edge}}, name: 'unicode:key'}
    if (where === 'messageId') return {message: {...message, messageId: g.id() + edge}, name: 'unicode:messageId'}
    return {message: {...message, [where]: `${edge}${g.rng.chance(0.5) ? ' x' : ''}`}, name: `unicode:${where}`}
  },
  'prototype-key': (g, message, text) => {
    const name = g.rng.weighted([
      ['__proto__', 3],
      ['constructor', 1],
      ['prototype', 1],
    ] as const)
    const key = text.key(name)
    const marker = `victim-${g.id()}`
    if (g.rng.chance(0.4)) {
      // A field only under the prototype key: a copy that takes the key as a prototype inherits
      // the field, and whatever reads it (indexed columns, policies) sees what was not stored.
      const field = g.rng.pick(['userId', 'event', 'properties', 'type', 'messageId', 'timestamp', 'integrations'])
      const copy: JsonObject = {...message, anonymousId: message.anonymousId ?? `anon-${g.id()}`}
      if (field !== 'event' && field !== 'type') delete copy[field]
      const value = g.rng.pick<unknown>([marker, {}, [], 1, {plan: 'pro'}])
      return {message: {...copy, [key]: {[field]: value}}, name: `prototype-key:${name}.${field}`}
    }
    const value = protoValue(g.rng, marker)
    const where = g.rng.pick(['message', 'message', 'properties', 'context', 'traits', 'integrations', 'context.library'])
    if (where === 'message') return {message: {...message, [key]: value}, name: 'prototype-key:message'}
    if (where === 'context.library') {
      const context = message.context as JsonObject | undefined
      return {message: {...message, context: {...context, library: {[key]: value, name: 'x'}}}, name: 'prototype-key:context.library'}
    }
    return {message: {...message, [where]: {...((message[where] as object) ?? {}), [key]: value}}, name: `prototype-key:${where}`}
  },
  'bad-date': (g, message) => {
    const {value, certain} = g.rng.pick(badDates)
    const field = g.rng.pick(['timestamp', 'sentAt', 'originalTimestamp'])
    return {message: {...message, [field]: value}, name: `bad-date:${field}`, expect: certain}
  },
  'skewed-clock': (g, message) => {
    // A valid sentAt far from the timestamp: the daemon corrects the timestamp by the difference.
    return {message: {...message, sentAt: isoTime(g.rng), originalTimestamp: g.rng.chance(0.5) ? isoTime(g.rng) : undefined}, name: 'skewed-clock', expect: 'accept'}
  },
}

/** Mutations that make sense only for a batch item. */
const batchItemMutations: Record<string, (g: Gen, message: JsonObject) => Mutated> = {
  'type-field': (g, message) => {
    const value = g.rng.pick<unknown>(['TRACK', 'Identify', 'purchase', '', null, 1, ['track'], 'track '])
    // A valid type in other letters is that type (the message may lack its required fields): no certain outcome.
    const lowered = typeof value === 'string' ? value.toLowerCase() : ''
    const valid = (messageKinds as readonly string[]).includes(lowered)
    return {message: {...message, type: value}, name: 'type-field', expect: valid ? undefined : 'reject'}
  },
  'not-an-object': (g) => ({message: g.rng.pick<unknown>([1, 'track', null, [], [{}], true]), name: 'not-an-object', expect: 'reject'}),
  'write-key': (g, message) => ({message: {...message, writeKey: g.rng.pick(g.sources).writeKey}, name: 'write-key'}),
}

function applyItemMutation(g: Gen, message: JsonObject, text: JsonText, inBatch: boolean): Mutated {
  const names = Object.keys(itemMutations)
  if (inBatch && g.rng.chance(0.2)) {
    const name = g.rng.pick(Object.keys(batchItemMutations))
    return batchItemMutations[name](g, message)
  }
  const first = itemMutations[g.rng.pick(names)](g, message, text)
  if (!g.rng.chance(0.15) || typeof first.message !== 'object' || first.message === null) return first
  // Sometimes two mutations at once: what one check lets through may break another.
  const second = itemMutations[g.rng.pick(names)](g, first.message as JsonObject, text)
  return {message: second.message, name: `${first.name}+${second.name}`}
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
