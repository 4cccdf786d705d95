import {Ajv} from 'ajv'
import {describe, expect, it} from 'vitest'
import {transformationsSchema, type TransformationConfig} from '../../src/config/transformations-schema.js'
import {compileTransformations, parseTransformationPath} from '../../src/functions/transformations.js'
import type {JsonObject} from '../../src/functions/types.js'

/** A deep copy, to check later that the input was not changed. */
const snapshot = (value: unknown): unknown => structuredClone(value)

/** Runs the list on a message and checks the input is untouched. */
function run(list: TransformationConfig[], message: JsonObject): JsonObject {
  const before = snapshot(message)
  const result = compileTransformations(list)(message)
  expect(message).toEqual(before)
  return result
}

const track = (event: string, properties: JsonObject = {}, extra: JsonObject = {}): JsonObject => ({type: 'track', event, userId: 'u1', properties, ...extra})

describe('compileTransformations: rename event', () => {
  it('renames the named track event and leaves others alone', () => {
    const list: TransformationConfig[] = [{event: 'completed_order', renameEvent: 'Order Completed'}]
    expect(run(list, track('completed_order', {total: 5}))).toEqual({type: 'track', event: 'Order Completed', userId: 'u1', properties: {total: 5}})
    const other = track('Order Started')
    expect(run(list, other)).toBe(other)
  })

  it('matches any of a list of names', () => {
    const list: TransformationConfig[] = [{event: ['a', 'b'], renameEvent: 'C'}]
    expect(run(list, track('a')).event).toBe('C')
    expect(run(list, track('b')).event).toBe('C')
    expect(run(list, track('c')).event).toBe('c')
  })

  it('renames a page or screen name; identify, group and alias never match an event condition', () => {
    const list: TransformationConfig[] = [{event: 'Home', renameEvent: 'Homepage'}]
    expect(run(list, {type: 'page', name: 'Home', properties: {path: '/'}})).toEqual({type: 'page', name: 'Homepage', properties: {path: '/'}})
    expect(run(list, {type: 'screen', name: 'Home'})).toEqual({type: 'screen', name: 'Homepage'})
    const identify = {type: 'identify', userId: 'u1', event: 'Home', name: 'Home', traits: {}}
    expect(run(list, identify)).toBe(identify)
    const unnamedPage = {type: 'page', properties: {}}
    expect(run(list, unnamedPage)).toBe(unnamedPage)
  })

  it('a type condition narrows: track only, not the page of the same name', () => {
    const list: TransformationConfig[] = [{event: 'Home', type: 'track', renameEvent: 'Home Viewed'}]
    const page = {type: 'page', name: 'Home'}
    expect(run(list, page)).toBe(page)
    expect(run(list, track('Home')).event).toBe('Home Viewed')
    const both: TransformationConfig[] = [{event: 'Home', type: ['page', 'screen'], renameEvent: 'Start'}]
    expect(run(both, {type: 'screen', name: 'Home'})).toEqual({type: 'screen', name: 'Start'})
    expect(run(both, track('Home')).event).toBe('Home')
  })

  it('entries apply in order: a later entry matches the new name', () => {
    const list: TransformationConfig[] = [
      {event: 'order_done', renameEvent: 'Order Completed'},
      {event: 'Order Completed', renameProperties: {revenue: 'total'}},
      {event: 'order_done', dropProperties: ['total']},
    ]
    expect(run(list, track('order_done', {revenue: 10}))).toEqual(track('Order Completed', {total: 10}))
  })
})

describe('compileTransformations: rename properties', () => {
  it('renames track properties; bare paths start in properties', () => {
    const list: TransformationConfig[] = [{event: 'Order Completed', renameProperties: {revenue: 'total', orderId: 'order_id'}}]
    expect(run(list, track('Order Completed', {revenue: 10, orderId: 'o1', currency: 'EUR'}))).toEqual(track('Order Completed', {total: 10, order_id: 'o1', currency: 'EUR'}))
  })

  it('bare paths start in traits for identify and group', () => {
    const list: TransformationConfig[] = [{type: ['identify', 'group'], renameProperties: {fname: 'firstName'}}]
    expect(run(list, {type: 'identify', userId: 'u1', traits: {fname: 'Ada', email: 'a@x'}})).toEqual({type: 'identify', userId: 'u1', traits: {email: 'a@x', firstName: 'Ada'}})
    expect(run(list, {type: 'group', groupId: 'g', traits: {fname: 'Co'}})).toEqual({type: 'group', groupId: 'g', traits: {firstName: 'Co'}})
    // A track's properties are not traits.
    const tracked = track('x', {fname: 'Ada'})
    expect(run([{type: 'identify', renameProperties: {fname: 'firstName'}}], tracked)).toBe(tracked)
  })

  it('renames nested paths, in and out of objects', () => {
    const list: TransformationConfig[] = [{renameProperties: {'order.id': 'orderId', sku: 'product.sku'}}]
    expect(run(list, track('x', {order: {id: 'o1', total: 3}, sku: 'S'}))).toEqual(track('x', {order: {total: 3}, orderId: 'o1', product: {sku: 'S'}}))
  })

  it('paths with properties., traits., context. start at the top of the message', () => {
    const list: TransformationConfig[] = [{renameProperties: {'context.page.referrer': 'referrer', 'properties.properties': 'inner'}}]
    const message = track('x', {properties: 1}, {context: {page: {referrer: 'r', url: 'u'}, ip: '1.2.3.4'}})
    expect(run(list, message)).toEqual(track('x', {inner: 1, referrer: 'r'}, {context: {page: {url: 'u'}, ip: '1.2.3.4'}}))
    // Moved into context from traits.
    expect(run([{type: 'identify', renameProperties: {email: 'context.traits.email'}}], {type: 'identify', traits: {email: 'e'}})).toEqual({
      type: 'identify',
      traits: {},
      context: {traits: {email: 'e'}},
    })
  })

  it('a key with a dot is written with \\. and a backslash with \\\\', () => {
    const list: TransformationConfig[] = [{renameProperties: {'order\\.id': 'order.id', 'a\\\\b': 'ab'}}]
    expect(run(list, track('x', {'order.id': 'o1', 'a\\b': 2}))).toEqual(track('x', {order: {id: 'o1'}, ab: 2}))
  })

  it('renaming onto an existing property replaces it; renaming a missing one does nothing', () => {
    expect(run([{renameProperties: {revenue: 'total'}}], track('x', {total: 1, revenue: 2}))).toEqual(track('x', {total: 2}))
    const message = track('x', {total: 1})
    expect(run([{renameProperties: {revenue: 'total', 'a.b.c': 'd'}}], message)).toBe(message)
  })

  it('objects replace what is not an object on the way to a new path; arrays are not entered', () => {
    expect(run([{renameProperties: {id: 'order.id'}}], track('x', {id: 1, order: 'o'}))).toEqual(track('x', {order: {id: 1}}))
    expect(run([{renameProperties: {id: 'order.id'}}], track('x', {id: 1, order: [0]}))).toEqual(track('x', {order: {id: 1}}))
    const message = track('x', {items: [{sku: 'a'}]})
    expect(run([{renameProperties: {'items.0.sku': 'sku'}}], message)).toBe(message)
  })

  it('renames of one entry all read the message as it was: a swap works, and a move into itself', () => {
    expect(run([{renameProperties: {a: 'b', b: 'a'}}], track('x', {a: 1, b: 2}))).toEqual(track('x', {b: 1, a: 2}))
    expect(run([{renameProperties: {a: 'a.value'}}], track('x', {a: 1}))).toEqual(track('x', {a: {value: 1}}))
    expect(run([{renameProperties: {'a.value': 'a'}}], track('x', {a: {value: 1, other: 2}}))).toEqual(track('x', {a: 1}))
  })

  it('creates properties when a track has none', () => {
    expect(run([{renameProperties: {'context.campaign': 'campaign'}}], {type: 'track', event: 'x', context: {campaign: 'c'}})).toEqual({
      type: 'track',
      event: 'x',
      context: {},
      properties: {campaign: 'c'},
    })
  })

  it('alias has no properties or traits: bare paths do nothing, and nothing moves there', () => {
    const alias = {type: 'alias', userId: 'u', previousId: 'p', context: {ip: '1'}}
    expect(run([{renameProperties: {'context.ip': 'ip', x: 'y'}}, {dropProperties: ['ip']}], alias)).toBe(alias)
    expect(run([{type: 'alias', dropProperties: ['context.ip']}], alias)).toEqual({type: 'alias', userId: 'u', previousId: 'p', context: {}})
  })
})

describe('compileTransformations: drop properties', () => {
  it('drops properties, nested ones and context fields', () => {
    const list: TransformationConfig[] = [{event: 'Signed Up', dropProperties: ['email', 'address.street', 'context.ip']}]
    const message = track('Signed Up', {email: 'e', plan: 'pro', address: {street: 's', city: 'c'}}, {context: {ip: '1', locale: 'en'}})
    expect(run(list, message)).toEqual(track('Signed Up', {plan: 'pro', address: {city: 'c'}}, {context: {locale: 'en'}}))
  })

  it('drops traits of identify calls', () => {
    expect(run([{type: 'identify', dropProperties: ['email', 'traits.phone']}], {type: 'identify', traits: {email: 'e', phone: 'p', name: 'n'}})).toEqual({
      type: 'identify',
      traits: {name: 'n'},
    })
  })

  it("an identify's or group's traits in context.traits alone (RudderStack's browser SDK) are where traits paths lead", () => {
    const rudderIdentify = {type: 'identify', userId: 'u1', context: {traits: {email: 'e', phone: 'p', name: 'n'}, ip: '1'}}
    expect(run([{type: 'identify', dropProperties: ['email', 'traits.phone']}], rudderIdentify)).toEqual({
      type: 'identify',
      userId: 'u1',
      context: {traits: {name: 'n'}, ip: '1'},
    })
    expect(run([{type: 'group', renameProperties: {name: 'companyName', 'traits.size': 'traits.employees'}}], {type: 'group', groupId: 'g', context: {traits: {name: 'Acme', size: 5}}})).toEqual({
      type: 'group',
      groupId: 'g',
      context: {traits: {companyName: 'Acme', employees: 5}},
    })
    // Top-level traits win, as messageTraits reads them: context.traits is then left alone, unless named.
    const both = {type: 'identify', userId: 'u1', traits: {email: 'top'}, context: {traits: {email: 'ctx'}}}
    expect(run([{dropProperties: ['email']}], both)).toEqual({type: 'identify', userId: 'u1', traits: {}, context: {traits: {email: 'ctx'}}})
    expect(run([{dropProperties: ['context.traits.email']}], both)).toEqual({type: 'identify', userId: 'u1', traits: {email: 'top'}, context: {traits: {}}})
    // A track's context.traits are not its traits: a bare path stays in properties.
    const trackWithContextTraits = track('x', {email: 'p'}, {context: {traits: {email: 'c'}}})
    expect(run([{dropProperties: ['email']}], trackWithContextTraits)).toEqual(track('x', {}, {context: {traits: {email: 'c'}}}))
    // No traits anywhere: a rename into traits creates top-level traits.
    expect(run([{type: 'identify', renameProperties: {'context.plan': 'plan'}}], {type: 'identify', userId: 'u1', context: {plan: 'pro'}})).toEqual({
      type: 'identify',
      userId: 'u1',
      context: {},
      traits: {plan: 'pro'},
    })
  })

  it('dropping a missing path returns the message itself', () => {
    const message = track('x', {a: {b: 1}})
    expect(run([{dropProperties: ['nope', 'a.c', 'a.b.c', 'context.ip']}], message)).toBe(message)
  })

  it('drops after the same entry renames: a drop names the new path', () => {
    const list: TransformationConfig[] = [{renameProperties: {email: 'userEmail'}, dropProperties: ['email', 'ip']}]
    expect(run(list, track('x', {email: 'e', ip: 'i'}))).toEqual(track('x', {userEmail: 'e'}))
  })
})

describe('compileTransformations: keys are data', () => {
  it('__proto__ and constructor are ordinary keys, in messages and in paths', () => {
    const message = JSON.parse('{"type":"track","event":"x","properties":{"__proto__":{"admin":true},"constructor":1,"keep":2}}') as JsonObject
    const result = run([{renameProperties: {'__proto__.admin': 'isAdmin', constructor: 'ctor'}}], message)
    const properties = result.properties as JsonObject
    expect(Object.keys(properties)).toEqual(['__proto__', 'keep', 'isAdmin', 'ctor'])
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(properties, '__proto__')?.value).toEqual({})
    expect(properties.isAdmin).toBe(true)
    expect(properties.ctor).toBe(1)
  })

  it('a rename onto __proto__ makes an own key, never a prototype', () => {
    const result = run([{renameProperties: {a: '__proto__', b: 'x.__proto__.y'}}], track('x', {a: {polluted: true}, b: 1}))
    const properties = result.properties as JsonObject
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype)
    expect(Object.hasOwn(properties, '__proto__')).toBe(true)
    expect(properties.polluted).toBeUndefined()
    expect(JSON.stringify(result.properties)).toBe('{"__proto__":{"polluted":true},"x":{"__proto__":{"y":1}}}')
    expect(({} as JsonObject).polluted).toBeUndefined()
  })

  it('a path through an inherited key finds nothing: constructor, toString are not there unless own', () => {
    const message = track('x', {a: 1})
    expect(run([{dropProperties: ['constructor', 'toString', 'constructor.prototype', '__proto__']}], message)).toBe(message)
    expect(run([{renameProperties: {'constructor.name': 'n', '__proto__.toString': 't'}}], message)).toBe(message)
  })

  it('an event named __proto__ or constructor matches only itself', () => {
    const list: TransformationConfig[] = [{event: 'constructor', renameEvent: 'Renamed'}]
    expect(run(list, track('constructor')).event).toBe('Renamed')
    const other = track('toString')
    expect(run(list, other)).toBe(other)
  })
})

describe('compileTransformations: sharing and cost', () => {
  it('never mutates the input and shares untouched subtrees', () => {
    const context = {library: {name: 'a'}}
    const message = track('x', {a: 1, nested: {b: 2}}, {context})
    const result = run([{renameProperties: {a: 'z'}}], message)
    expect(result).not.toBe(message)
    expect(result.context).toBe(context)
    expect((result.properties as JsonObject).nested).toBe((message.properties as JsonObject).nested)
  })

  it('an empty or absent list is the identity; no matching entry returns the message itself', () => {
    const message = track('x', {a: 1})
    expect(compileTransformations(undefined)(message)).toBe(message)
    expect(compileTransformations([])(message)).toBe(message)
    expect(compileTransformations([{event: 'y', renameEvent: 'z'}, {type: 'page', dropProperties: ['a']}])(message)).toBe(message)
    expect(compileTransformations([{event: 'x', renameEvent: 'x'}])(message)).toBe(message)
  })

  it('a compiled list is reused across messages without state leaking between calls', () => {
    const transform = compileTransformations([{renameProperties: {a: 'b'}}, {dropProperties: ['c']}])
    const first = track('x', {a: 1, c: 3})
    const second = track('x', {a: 2})
    expect(transform(first)).toEqual(track('x', {b: 1}))
    expect(transform(second)).toEqual(track('x', {b: 2}))
    expect(first).toEqual(track('x', {a: 1, c: 3}))
  })

  it('a type or name inherited rather than own never matches; names match exactly', () => {
    const transform = compileTransformations([{event: 'A', renameEvent: 'B'}, {type: 'track', dropProperties: ['x']}])
    const inherited = Object.assign(Object.create({type: 'track', event: 'A'}) as JsonObject, {properties: {x: 1}})
    expect(transform(inherited)).toBe(inherited)
    const named = Object.assign(Object.create({event: 'A'}) as JsonObject, {type: 'track'})
    expect(transform(named)).not.toHaveProperty('event', 'B')
    const lower = track('a')
    expect(compileTransformations([{event: 'A', renameEvent: 'B'}])(lower)).toBe(lower)
  })

  it('a message without a string type passes through', () => {
    const message = {event: 'x', properties: {a: 1}}
    expect(compileTransformations([{dropProperties: ['a']}])(message)).toBe(message)
  })
})

describe('paths', () => {
  it('parses dots and escapes', () => {
    expect(parseTransformationPath('a.b')).toEqual(['a', 'b'])
    expect(parseTransformationPath('a\\.b.c')).toEqual(['a.b', 'c'])
    expect(parseTransformationPath('a\\\\.b')).toEqual(['a\\', 'b'])
    expect(() => parseTransformationPath('a..b')).toThrow('a key is empty')
    expect(() => parseTransformationPath('a\\b')).toThrow('backslash')
  })

  it('compiling refuses a bad path or a whole root, naming the entry', () => {
    expect(() => compileTransformations([{dropProperties: ['ok']}, {dropProperties: ['a.']}])).toThrow('transformations[1].dropProperties: "a.": a key is empty')
    expect(() => compileTransformations([{renameProperties: {a: 'context'}}])).toThrow('transformations[0].renameProperties: "context" is a whole part of the message')
  })
})

describe('transformations schema', () => {
  const ajv = new Ajv({allErrors: true, strict: true, ownProperties: true})
  const validate = ajv.compile({$schema: 'http://json-schema.org/draft-07/schema#', ...transformationsSchema})
  const valid = (value: unknown) => validate(value)

  it('accepts each kind, conditions and escapes', () => {
    expect(valid([{name: 'Fix', event: 'order_done', renameEvent: 'Order Completed'}])).toBe(true)
    expect(valid([{event: ['a', 'b'], type: ['track', 'page'], renameProperties: {'order\\.id': 'order.id', 'context.ip': 'ip'}, dropProperties: ['traits.email']}])).toBe(true)
    expect(valid([{type: 'identify', dropProperties: ['__proto__']}])).toBe(true)
    expect(valid([])).toBe(true)
  })

  it('refuses entries that do nothing, renameEvent without event, unknown fields and bad paths', () => {
    expect(valid([{event: 'a'}])).toBe(false)
    expect(valid([{renameEvent: 'b'}])).toBe(false)
    expect(valid([{event: 'a', renameProperties: {}}])).toBe(false)
    expect(valid([{dropProperties: []}])).toBe(false)
    expect(valid([{event: 'a', rename: 'b'}])).toBe(false)
    expect(valid([{type: 'delete', dropProperties: ['a']}])).toBe(false)
    expect(valid([{event: [], dropProperties: ['a']}])).toBe(false)
    for (const path of ['', 'a..b', '.a', 'a.', 'a\\b', 'properties', 'context', 'traits']) expect(valid([{dropProperties: [path]}]), path).toBe(false)
    expect(valid([{renameProperties: {a: 'b.'}}])).toBe(false)
    expect(valid([{renameProperties: {'a.': 'b'}}])).toBe(false)
  })
})
