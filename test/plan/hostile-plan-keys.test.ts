import {describe, expect, it} from 'vitest'
import {generateClient} from '../../src/codegen/generate.js'
import {diffPlans} from '../../src/plan/diff.js'
import {loadPlanFrom} from '../../src/plan/load.js'
import {selfContained} from '../../src/plan/self-contained.js'

// Plan files are hostile input: a key named __proto__ (or constructor) in a schema or among the
// shared definitions must stay an ordinary key wherever the plan is copied, never set a prototype.
const shared = JSON.parse('{"definitions": {"__proto__": {"type": "string", "maxLength": 3}, "constructor": {"type": "integer"}}}')
const event = (properties: string) =>
  JSON.parse(`{"name": "Signed Up", "version": 1, "properties": {"type": "object", "properties": ${properties}}}`)

function loadWithProblems(files: Record<string, unknown>) {
  return loadPlanFrom(new Map(Object.entries(files).map(([file, json]) => [file, JSON.stringify(json)])), '/plan')
}

function load(files: Record<string, unknown>) {
  const {plan, problems} = loadWithProblems(files)
  expect(problems).toEqual([])
  return plan
}

describe('keys named __proto__ and constructor in plan files', () => {
  it('a self-contained rule keeps a shared definition named __proto__ and refers to it', () => {
    const plan = load({'events/signed-up.json': event('{"code": {"$ref": "../definitions.json#/definitions/__proto__"}, "n": {"$ref": "../definitions.json#/definitions/constructor"}}'), 'definitions.json': shared})
    const contained = selfContained(plan, plan.events.get('Signed Up')!.get(1)!)
    expect(Object.keys(contained.definitions ?? {}).sort()).toEqual(['__proto__', 'constructor'])
    expect(Object.getPrototypeOf(contained.definitions)).toBe(Object.prototype)
    expect(Object.entries(JSON.parse(JSON.stringify(contained.definitions))).sort()).toEqual([
      ['__proto__', {type: 'string', maxLength: 3}],
      ['constructor', {type: 'integer'}],
    ])
  })

  it('a reference to a name Object.prototype has, but the definitions lack, is not taken as shared', () => {
    const {plan, problems} = loadWithProblems({'events/signed-up.json': event('{"x": {"$ref": "../definitions.json#/definitions/toString"}}'), 'definitions.json': {definitions: {}}})
    expect(problems.map((problem) => problem.message)).toEqual(['unresolved $ref ../definitions.json#/definitions/toString: no schema or definition at that address'])
    const contained = selfContained(plan, plan.events.get('Signed Up')!.get(1)!)
    expect(contained.definitions).toBeUndefined()
    expect((contained.properties as any).properties.x).toEqual({$ref: '../definitions.json#/definitions/toString'})
  })

  it('plan diff sees a change under a key named __proto__ in a keyword it compares whole', () => {
    const before = load({'events/signed-up.json': event('{"a": {"type": "object", "dependencies": {"__proto__": ["x"]}}}')})
    const after = load({'events/signed-up.json': event('{"a": {"type": "object", "dependencies": {"__proto__": ["y"]}}}')})
    expect(diffPlans(before, after).map((change) => change.path)).toEqual(['properties.a'])
  })

  it('codegen types a property named __proto__ and an event named __proto__', async () => {
    const plan = load({
      'events/signed-up.json': event('{"__proto__": {"type": "string"}}'),
      'events/proto.json': JSON.parse('{"name": "__proto__", "version": 1, "properties": {"type": "object", "properties": {"n": {"type": "integer"}}}}'),
    })
    const [file] = await generateClient(plan, {target: 'node', validate: true, version: '0.0.0', planHash: 'h'})
    expect(file.content).toMatch(/__proto__\?: string/)
    expect(file.content).toContain('track("__proto__", undefined, message)')
  })
})
