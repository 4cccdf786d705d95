import {describe, expect, it} from 'vitest'
import {compilePlan} from '../../src/plan/compile.js'
import {declaredPaths} from '../../src/plan/declared.js'
import {inferRule} from '../../src/plan/infer.js'
import {loadPlanFrom} from '../../src/plan/load.js'
import {SchemaObserver} from '../../src/plan/observe.js'
import type {TrackingPlan} from '../../src/plan/types.js'
import {omitViolations, stepsTo} from '../../src/pipeline/policy.js'
import type {Violation} from '../../src/plan/violations.js'
import type {SegmentMessage} from '../../src/message/types.js'

/** A message as stored and read back: parsed JSON, where "__proto__" is an own key. */
const message = (json: string) => JSON.parse(json) as SegmentMessage

function plan(properties: Record<string, unknown>): TrackingPlan {
  return {
    events: new Map([['Signed Up', new Map([[1, {name: 'Signed Up', version: 1, file: 'events/signed-up.json', properties}]])]]),
    rules: {},
  } as unknown as TrackingPlan
}

const violation = (path: string): Violation => ({kind: 'unexpected_property', path, expected: 'not present', actual: '1', message: ''})

describe('omit-properties follows only keys the message has', () => {
  it('a key spelling a path to Object.prototype removes that key, not Object.prototype.toString', () => {
    const stored = message('{"type":"track","event":"E","properties":{"plan":"pro","constructor.prototype.toString":1}}')
    const forwarded = omitViolations(stored, [violation('properties.constructor.prototype.toString')])
    expect(forwarded.properties).toEqual({plan: 'pro'})
    expect(Object.hasOwn(Object.prototype, 'toString')).toBe(true)
    expect(String({})).toBe('[object Object]')
  })

  it('a violation inside a "__proto__" property removes the value there, and never walks into Object.prototype', () => {
    const stored = message('{"type":"track","event":"E","properties":{"__proto__":{"hasOwnProperty":1,"keep":2}}}')
    const forwarded = omitViolations(stored, [violation('properties.__proto__.hasOwnProperty')])
    expect(JSON.stringify(forwarded.properties)).toBe('{"__proto__":{"keep":2}}')
    expect(typeof Object.prototype.hasOwnProperty).toBe('function')
    // Without its own "__proto__" key the path leads nowhere
    const plain = message('{"type":"track","event":"E","properties":{"a":1}}')
    expect(stepsTo(plain, 'properties.__proto__.hasOwnProperty')).toBeUndefined()
    expect(omitViolations(plain, [violation('properties.__proto__.hasOwnProperty')]).properties).toEqual({a: 1})
    expect(typeof Object.prototype.hasOwnProperty).toBe('function')
  })

  it('keys holding "." or "[" or digits are matched as the message spells them', () => {
    const stored = message('{"type":"track","event":"E","properties":{"a.b":1,"a":{"c":2},"0":3,"list":[{"x":1,"y":2}]}}')
    expect(stepsTo(stored, 'properties.a.b')).toEqual([{key: 'properties'}, {key: 'a.b'}])
    expect(stepsTo(stored, 'properties[0]')).toEqual([{key: 'properties'}, {key: '0'}])
    expect(stepsTo(stored, 'properties.list[0].y')).toEqual([{key: 'properties'}, {key: 'list'}, {index: 0}, {key: 'y'}])
    const forwarded = omitViolations(stored, [violation('properties.a.b'), violation('properties[0]'), violation('properties.list[0].y')])
    expect(forwarded.properties).toEqual({a: {c: 2}, list: [{x: 1}]})
  })
})

describe('plan validation sees the message as stored', () => {
  it('a "__proto__" property is an unexpected property under additionalProperties: false, and supplies nothing', () => {
    const {compiled} = compilePlan(plan({type: 'object', properties: {plan: {type: 'string'}}, required: ['plan'], additionalProperties: false}))
    const violations = compiled.check(message('{"type":"track","event":"Signed Up","context":{},"properties":{"__proto__":{"plan":"pro"}}}'))
    expect(violations.map((v) => [v.kind, v.path])).toEqual([
      ['missing_required', 'properties.plan'],
      ['unexpected_property', 'properties.__proto__'],
    ])
  })

  it('a planned "constructor" property is required and typed on the message\'s own keys, never found on Object', () => {
    const {compiled} = compilePlan(plan({type: 'object', properties: {constructor: {type: 'string'}, plan: {type: 'string'}}, required: ['constructor']}))
    // Missing: reported missing (it was found on Object.prototype, so passed)
    expect(compiled.check(message('{"type":"track","event":"Signed Up","context":{},"properties":{"plan":"pro"}}')).map((v) => [v.kind, v.path])).toEqual([
      ['missing_required', 'properties.constructor'],
    ])
    // Present: checked as the string it is
    expect(compiled.check(message('{"type":"track","event":"Signed Up","context":{},"properties":{"constructor":"c"}}'))).toEqual([])
    // Optional and absent: no wrong_type for Object, the function it used to find
    const optional = compilePlan(plan({type: 'object', properties: {constructor: {type: 'string'}}})).compiled
    expect(optional.check(message('{"type":"track","event":"Signed Up","context":{},"properties":{}}'))).toEqual([])
  })
})

describe('the schema explorer and plan infer keep prototype-named keys as properties', () => {
  it('observes "__proto__" and "constructor" like any key, and infers a rule that says so', () => {
    const observer = new SchemaObserver()
    for (let i = 0; i < 2; i++) {
      observer.add(message(`{"type":"track","event":"Signed Up","receivedAt":"2026-03-01T12:00:0${i}.000Z","properties":{"__proto__":{"plan":"pro"},"constructor":"c","prototype":${i}}}`))
    }
    const observed = observer.events.get('track\u0000Signed Up')
    expect([...(observed?.root.children.keys() ?? [])]).toEqual(['__proto__', 'constructor', 'prototype'])
    expect(observed?.root.children.get('__proto__')?.children.get('plan')?.path).toBe('properties.__proto__.plan')
    const rule = JSON.parse(JSON.stringify(inferRule(observed!))) as {properties: {properties: Record<string, unknown>; required: string[]}}
    expect(Object.keys(rule.properties.properties)).toEqual(['__proto__', 'constructor', 'prototype'])
    expect(Object.hasOwn(rule.properties.properties, '__proto__')).toBe(true)
    expect(JSON.stringify(rule.properties.properties.__proto__)).toBe('{"type":"object","properties":{"plan":{"type":"string"}},"required":["plan"]}')
    expect(rule.properties.required).toEqual(['__proto__', 'constructor', 'prototype'])
  })

  it('$refs to definitions named "constructor" or "__proto__" resolve to the file\'s own definitions or to nothing', () => {
    const schema = {type: 'object', properties: {a: {$ref: '#/definitions/constructor'}, b: {$ref: '#/definitions/__proto__'}}}
    const loaded = (definitions: Record<string, unknown>) => {
      const file = JSON.stringify({name: 'Signed Up', properties: schema, definitions})
      const {plan, problems} = loadPlanFrom(new Map([['events/signed-up.json', file]]), '/plan')
      return {plan, rule: plan.events.get('Signed Up')!.get(1)!, problems: problems.map((problem) => problem.message)}
    }
    const none = loaded({})
    expect(none.problems).toEqual(['unresolved $ref #/definitions/constructor: no schema or definition at that address', 'unresolved $ref #/definitions/__proto__: no schema or definition at that address'])
    expect([...declaredPaths(none.plan, none.rule.properties, 'properties')]).toEqual(['properties.a', 'properties.b'])
    const defined = loaded({constructor: {type: 'object', properties: {name: {type: 'string'}}}})
    expect(defined.problems).toEqual(['unresolved $ref #/definitions/__proto__: no schema or definition at that address'])
    expect([...declaredPaths(defined.plan, defined.rule.properties, 'properties')]).toEqual(['properties.a', 'properties.a.name', 'properties.b'])
  })
})
