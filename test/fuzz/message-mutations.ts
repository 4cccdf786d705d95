import {isoTime, messageKinds, realisticMessage, type JsonObject, type MessageKind} from './messages.js'
import {JsonText, nestedText} from './json-text.js'
import type {Rng} from './prng.js'

// Mutations of one message: type confusion, removed and duplicated keys, huge numbers, long
// strings, deep nesting, unicode edge cases, prototype keys, bad dates, odd messageIds.

/** A source the fuzzed daemon serves (cdp.json), by name and write key. */
export interface FuzzSource {
  name: string
  writeKey: string
}

export type ItemExpectation = 'accept' | 'reject'

/** Everything a mutation or a request strategy needs: the case's own random stream and unique ids. */
export interface Gen {
  rng: Rng
  seed: number
  index: number
  sources: readonly FuzzSource[]
  /** A messageId unique in the run. */
  id(): string
  /** A number unique in the run, for numeric messageIds. */
  number(): number
}

export interface Mutated {
  /** The message, with JsonText placeholders where raw text goes. */
  message: unknown
  /** The mutation applied, for the summary. */
  name: string
  expect?: ItemExpectation
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

export const badDates: {value: unknown; certain?: ItemExpectation}[] = [
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

export const protoKeys = ['__proto__', 'constructor', 'prototype']

/** Values hidden under a prototype key: each one changed what was stored, or broke the store, before issue 10. */
export function protoValue(rng: Rng, marker: string): unknown {
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
export function freshMessage(g: Gen, kind: MessageKind = g.rng.pick(messageKinds)): JsonObject {
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

export function applyItemMutation(g: Gen, message: JsonObject, text: JsonText, inBatch: boolean): Mutated {
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
