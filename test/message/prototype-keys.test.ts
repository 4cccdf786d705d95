import {describe, expect, it} from 'vitest'
import {normalizeMessage} from '../../src/message/normalize.js'
import {readTrackingRequest} from '../../src/message/request.js'
import {toNewEvent} from '../../src/pipeline/pipeline.js'

const receivedAt = Date.parse('2026-03-01T12:00:10.000Z')

/** A body as the server gets it: parsed from the bytes a client sent, so "__proto__" is an own key. */
const parsed = (text: string) => JSON.parse(text) as Record<string, unknown>

describe('a "__proto__" key in a message is an ordinary key', () => {
  it('at the top level: kept as sent, and the message inherits nothing from it', () => {
    // Given the message of issue 10 that lost its properties under the block policy
    const result = normalizeMessage(parsed('{"userId":"u","event":"Signed Up","__proto__":{"properties":{"plan":"pro"}}}'), {receivedAt, endpointType: 'track'})
    if (!result.ok) throw new Error(result.problem.message)
    const message = result.message
    // Then the message has no properties of its own or inherited, and its prototype is Object's
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype)
    expect(message.properties).toBeUndefined()
    expect('properties' in message).toBe(false)
    // And the key is stored as it came
    expect(JSON.parse(JSON.stringify(message)).__proto__).toEqual({properties: {plan: 'pro'}})
    expect(Object.hasOwn(JSON.parse(JSON.stringify(message)), '__proto__')).toBe(true)
  })

  it('cannot supply a userId the stored message lacks', () => {
    const result = normalizeMessage(parsed('{"anonymousId":"a","event":"x","__proto__":{"userId":"victim"}}'), {receivedAt, endpointType: 'track'})
    if (!result.ok) throw new Error(result.problem.message)
    expect(result.message.userId).toBeUndefined()
    expect(toNewEvent('web', result.message, '{}')).toMatchObject({userId: null, anonymousId: 'a', event: 'x'})
  })

  it('inside properties: a property named "__proto__", kept', () => {
    const result = normalizeMessage(parsed('{"userId":"u","event":"E","properties":{"__proto__":{"plan":"pro"},"constructor":"c"}}'), {receivedAt, endpointType: 'track'})
    if (!result.ok) throw new Error(result.problem.message)
    expect(Object.keys(result.message.properties as object)).toEqual(['__proto__', 'constructor'])
    expect((result.message.properties as {plan?: string}).plan).toBeUndefined()
  })

  it('in a batch context or integrations: merged as a key, the item still winning', () => {
    const body = parsed(
      '{"batch":[{"type":"track","userId":"u","event":"E","context":{"locale":"fr-FR","__proto__":{"mine":1}}}],' +
        '"context":{"locale":"en-US","__proto__":{"protocols":{"event_version":2}}},"integrations":{"__proto__":{"All":false}}}',
    )
    const outcome = readTrackingRequest('batch', body, '', receivedAt)
    const {message} = outcome.accepted[0]
    // The item's "__proto__" replaces the batch's, as any key would; nothing is inherited
    // (Compared as JSON: a "__proto__" in an object literal here would set the literal's prototype.)
    expect(JSON.stringify(message.context)).toBe('{"locale":"fr-FR","__proto__":{"mine":1}}')
    expect((message.context as {protocols?: unknown}).protocols).toBeUndefined()
    expect(Object.getPrototypeOf(message.context)).toBe(Object.prototype)
    expect(JSON.stringify(message.integrations)).toBe('{"__proto__":{"All":false}}')
    expect((message.integrations as {All?: unknown}).All).toBeUndefined()
  })

  it('"constructor" and "prototype" at the top level are kept and read as the message\'s own', () => {
    const result = normalizeMessage(parsed('{"userId":"u","event":"E","constructor":{"name":"x"},"prototype":1}'), {receivedAt, endpointType: 'track'})
    if (!result.ok) throw new Error(result.problem.message)
    expect(JSON.parse(JSON.stringify(result.message))).toMatchObject({constructor: {name: 'x'}, prototype: 1})
  })
})

describe('indexed columns come from the message as stored', () => {
  it('a userId the message has only through its prototype, or not as a string, never reaches a column', () => {
    // Given messages built elsewhere than the normaliser (a function, a replay of an old store)
    const inherited = Object.assign(Object.create({userId: 'victim', anonymousId: {}}), {
      type: 'track', event: 'E', messageId: 'm', timestamp: '2026-03-01T12:00:00.000Z', receivedAt: '2026-03-01T12:00:00.000Z', context: {}, integrations: {},
    })
    const row = toNewEvent('web', inherited, '{}')
    expect(row).toMatchObject({userId: null, anonymousId: null, event: 'E', messageId: 'm'})
    expect(JSON.parse(row.message).userId).toBeUndefined()
    const wrongType = {type: 'track', event: 'E', userId: {}, messageId: 'm', timestamp: 't', receivedAt: 'r', context: {}, integrations: {}} as never
    expect(toNewEvent('web', wrongType, '{}').userId).toBeNull()
  })

  it('a message without its own messageId is a bug, refused before SQLite', () => {
    const broken = Object.assign(Object.create({messageId: 'm'}), {type: 'track', event: 'E', timestamp: 't', receivedAt: 'r', context: {}, integrations: {}})
    expect(() => toNewEvent('web', broken, '{}')).toThrow('a normalised message has no messageId string')
  })
})

describe('depth counts the batch-level context and integrations', () => {
  const nested = (levels: number): Record<string, unknown> => {
    let value: Record<string, unknown> = {}
    for (let i = 1; i < levels; i++) value = {a: value}
    return value
  }

  it('refuses a batch whose context would put its messages past 64 levels, and takes one that reaches 64 exactly', () => {
    // A message is one level, its context the rest: 63 levels of context make 64
    const atLimit = readTrackingRequest('batch', {batch: [{type: 'track', userId: 'u', event: 'E'}], context: nested(63)}, '', receivedAt)
    expect(atLimit.problem).toBeUndefined()
    expect(atLimit.accepted).toHaveLength(1)
    for (const field of ['context', 'integrations'] as const) {
      const outcome = readTrackingRequest('batch', {batch: [{type: 'track', userId: 'u', event: 'E'}], [field]: nested(64)}, '', receivedAt)
      expect(outcome).toEqual({
        accepted: [],
        rejected: [],
        problem: {
          code: 'too_deep',
          field,
          message: `${field} of the batch nests objects or arrays deeper than 63 levels (each message nests it one level down, and the limit is 64 levels a message)`,
        },
      })
    }
  })

  it('checks 6,000 levels without recursion', () => {
    const outcome = readTrackingRequest('batch', {batch: [{type: 'track', userId: 'u', event: 'E'}], context: nested(6000)}, '', receivedAt)
    expect(outcome.problem?.code).toBe('too_deep')
  })
})
