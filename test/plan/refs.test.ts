import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import {afterEach, describe, expect, it} from 'vitest'
import {generateClient} from '../../src/codegen/generate.js'
import {compilePlan} from '../../src/plan/compile.js'
import {declaredPaths} from '../../src/plan/declared.js'
import {diffPlans} from '../../src/plan/diff.js'
import {loadPlanFrom} from '../../src/plan/load.js'
import {planToRules} from '../../src/plan/segment-rules.js'
import type {EventRule, TrackingPlan} from '../../src/plan/types.js'
import {runCodegen} from '../../src/services/codegen.js'
import {exportPlan} from '../../src/services/plan-transfer.js'
import type {SegmentMessage} from '../../src/message/types.js'

// Every consumer of a plan follows a $ref to the same place: validation (ajv), cdp schema's
// declared paths, plan diff, Segment export and codegen. Each case below is checked by all five.

type Files = Record<string, unknown>

const definitions = {
  definitions: {
    a: {type: 'object', properties: {b: {type: 'object', properties: {inner: {type: 'string'}}, required: ['inner']}}},
    'a/b': {type: 'object', properties: {slashed: {type: 'integer'}}},
    'with space': {type: 'object', properties: {spaced: {type: 'boolean'}}},
    category: {type: 'object', properties: {name: {type: 'string'}, children: {type: 'array', items: {$ref: '#/definitions/category'}}}},
  },
  $defs: {money: {type: 'object', properties: {amount: {type: 'number'}, currency: {type: 'string'}}, required: ['amount']}},
}

const order = {
  name: 'Order Completed',
  properties: {
    type: 'object',
    properties: {
      total: {$ref: '../definitions.json#/$defs/money'},
      nested: {$ref: '../definitions.json#/definitions/a/properties/b'},
      slashed: {$ref: '../definitions.json#/definitions/a~1b'},
      spaced: {$ref: '../definitions.json#/definitions/with%20space'},
      category: {$ref: '../definitions.json#/definitions/category'},
      local: {$ref: '#/definitions/note'},
    },
  },
  definitions: {note: {type: 'object', properties: {text: {type: 'string'}}}},
}

const planFiles: Files = {'definitions.json': definitions, 'events/order-completed.json': order}

function load(files: Files): {plan: TrackingPlan; problems: string[]} {
  const {plan, problems} = loadPlanFrom(new Map(Object.entries(files).map(([file, json]) => [file, JSON.stringify(json)])), '/plan')
  return {plan, problems: [...problems, ...compilePlan(plan).problems].map((problem) => `${problem.file}: ${problem.message}`)}
}

const rule = (plan: TrackingPlan): EventRule => plan.events.get('Order Completed')!.get(1)!
const track = (properties: Record<string, unknown>) => ({type: 'track', event: 'Order Completed', properties, context: {}}) as unknown as SegmentMessage

/** A message that breaks each $ref'd schema once, and the paths where it does. */
const wrong = {total: {amount: 'ten'}, nested: {inner: 1}, slashed: {slashed: 'x'}, spaced: {spaced: 'yes'}, category: {children: [{name: 2}]}, local: {text: 3}}
const wrongPaths = ['properties.category.children[0].name', 'properties.local.text', 'properties.nested.inner', 'properties.slashed.slashed', 'properties.spaced.spaced', 'properties.total.amount']

describe('$refs, resolved once at load, lead every consumer to the same schema', () => {
  it('validation: $defs, a nested pointer, ~1, a percent-encoded name, a recursive definition and a local definition are all checked', () => {
    const {plan, problems} = load(planFiles)
    expect(problems).toEqual([])
    const {compiled} = compilePlan(plan)
    expect(compiled.check(track({total: {amount: 10}, nested: {inner: 'i'}, slashed: {slashed: 1}, spaced: {spaced: true}, category: {children: [{name: 'n'}]}, local: {text: 't'}}))).toEqual([])
    expect(compiled.check(track(wrong)).map((violation) => violation.path).sort()).toEqual(wrongPaths)
  })

  it('cdp schema: the declared paths go through every $ref, and stop where a definition repeats (children[] is Category again)', () => {
    const {plan} = load(planFiles)
    expect([...declaredPaths(plan, rule(plan).properties, 'properties')].sort()).toEqual([
      'properties.category',
      'properties.category.children',
      'properties.category.name',
      'properties.local',
      'properties.local.text',
      'properties.nested',
      'properties.nested.inner',
      'properties.slashed',
      'properties.slashed.slashed',
      'properties.spaced',
      'properties.spaced.spaced',
      'properties.total',
      'properties.total.amount',
      'properties.total.currency',
    ])
  })

  it('plan diff: a change behind each kind of pointer is named at the property that uses it', () => {
    const {plan: base} = load(planFiles)
    const changed = structuredClone(definitions)
    changed.$defs.money.properties.amount.type = 'integer'
    changed.definitions.a.properties.b.properties.inner.type = 'number'
    changed.definitions['a/b'].properties.slashed.type = 'number'
    changed.definitions['with space'].properties.spaced.type = 'string'
    changed.definitions.category.properties.name.type = 'integer'
    const {plan: head, problems} = load({...planFiles, 'definitions.json': changed})
    expect(problems).toEqual([])
    expect(diffPlans(base, head).map((change) => `${change.kind} ${change.path}`)).toEqual([
      'type_narrowed properties.total.amount',
      'type_changed properties.nested.inner',
      'type_widened properties.slashed.slashed',
      'type_changed properties.spaced.spaced',
      'type_changed properties.category.name',
    ])
  })

  it('Segment export: each rule is self-contained, and a plain ajv finds the same violations in it', () => {
    const {plan} = load(planFiles)
    const [exported] = planToRules(plan)
    const text = JSON.stringify(exported.jsonSchema)
    expect(text).not.toContain('definitions.json')
    expect(Object.keys(exported.jsonSchema.definitions as object).sort()).toEqual(['a/b', 'b', 'category', 'money', 'note', 'with space'])
    const validate = new Ajv({allErrors: true, strict: false}).compile(exported.jsonSchema)
    expect(validate({properties: wrong, context: {}, traits: {}})).toBe(false)
    expect(validate.errors!.map((error) => error.instancePath).sort()).toEqual(['/properties/category/children/0/name', '/properties/local/text', '/properties/nested/inner', '/properties/slashed/slashed', '/properties/spaced/spaced', '/properties/total/amount'])
  })

  it('codegen: every $ref becomes a type, the recursive one refers to itself', async () => {
    const {plan} = load(planFiles)
    const [file] = await generateClient(plan, {target: 'node', validate: true, version: '0.0.0', planHash: 'h'})
    const types = file.content
    expect(types).toMatch(/total\?: Money/)
    expect(types).toMatch(/export interface Money \{\s+amount: number\s+currency\?: string/)
    expect(types).toMatch(/nested\?: B/)
    expect(types).toMatch(/export interface B \{\s+inner: string/)
    expect(types).toMatch(/slashed\?: number/)
    expect(types).toMatch(/spaced\?: boolean/)
    expect(types).toMatch(/export interface Category \{\s+name\?: string\s+children\?: Category\[\]/)
    expect(types).toMatch(/text\?: string/)
  })
})

describe('a $ref to a missing target', () => {
  const missing: Files = {...planFiles, 'events/order-completed.json': {...order, properties: {type: 'object', properties: {total: {$ref: '../definitions.json#/$defs/nothing'}, nested: {$ref: '../definitions.json#/definitions/a/properties/none'}}}}}
  let workspace: string | undefined
  afterEach(() => workspace && rmSync(workspace, {recursive: true, force: true}))

  function writeWorkspace(files: Files): string {
    workspace = mkdtempSync(path.join(tmpdir(), 'cdp-refs-'))
    for (const [file, json] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(workspace, 'plan', file)), {recursive: true})
      writeFileSync(path.join(workspace, 'plan', file), JSON.stringify(json))
    }
    return workspace
  }

  it('is a load problem of its file, once per $ref, not repeated by compiling', () => {
    expect(load(missing).problems).toEqual([
      'events/order-completed.json: unresolved $ref ../definitions.json#/$defs/nothing: no schema or definition at that address',
      'events/order-completed.json: unresolved $ref ../definitions.json#/definitions/a/properties/none: no schema or definition at that address',
    ])
  })

  it('a URL outside the plan, or another rule\'s file, leads nowhere too: nothing is fetched or read', () => {
    const outside = {...order, properties: {type: 'object', properties: {a: {$ref: 'https://example.com/schema.json#/x'}, b: {$ref: '/etc/passwd'}, c: {$ref: 'other.json#/definitions/x'}}}}
    const {problems} = load({...planFiles, 'events/order-completed.json': outside, 'events/other.json': {name: 'Other', properties: {type: 'object'}, definitions: {x: {type: 'string'}}}})
    expect(problems).toEqual([
      'events/order-completed.json: unresolved $ref https://example.com/schema.json#/x: no schema or definition at that address',
      'events/order-completed.json: unresolved $ref /etc/passwd: no schema or definition at that address',
      'events/order-completed.json: unresolved $ref other.json#/definitions/x: no schema or definition at that address',
    ])
  })

  it('cdp schema declares the property itself; diff compares it as written', () => {
    const {plan} = load(missing)
    expect([...declaredPaths(plan, rule(plan).properties, 'properties')].sort()).toEqual(['properties.nested', 'properties.total'])
    expect(diffPlans(plan, load(missing).plan)).toEqual([])
  })

  it('export and codegen refuse the plan with the same problem', async () => {
    const dir = writeWorkspace(missing)
    const first = `${path.join(dir, 'plan', 'events/order-completed.json')}: unresolved $ref ../definitions.json#/$defs/nothing`
    expect(() => exportPlan({dir})).toThrow(first)
    await expect(runCodegen({dir, out: 'client', target: 'node', validate: false, check: false})).rejects.toThrow(`${path.join(dir, 'plan', 'events/order-completed.json')}: unresolved $ref ../definitions.json#/$defs/nothing`)
  })
})
