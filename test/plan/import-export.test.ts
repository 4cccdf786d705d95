import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {fixturePath, memoryLogger, startTestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({dir, cleanup} = tempDir())
  writeConfig(dir, {sources: [{name: 'web', writeKey: 'web-write-key-0001'}]})
})
afterEach(() => cleanup())

const protocols = fixturePath('imports/protocols-rules.json')
const typewriter = fixturePath('imports/typewriter-plan.json')
const readPlanFile = (file: string) => JSON.parse(readFileSync(path.join(dir, 'plan', file), 'utf8'))

/** The rules without what Segment adds on its side (timestamps) and what export adds ($schema). */
function comparable(rules: any[]) {
  return rules
    .map(({type, key, version, jsonSchema}) => {
      const {$schema: _schema, ...schema} = jsonSchema
      return {type, key: key || undefined, version, jsonSchema: schema}
    })
    .sort((a, b) => `${a.type}${a.key}${a.version}`.localeCompare(`${b.type}${b.key}${b.version}`))
}

describe('cdp plan import', () => {
  it('imports a Segment Protocols export: one file per event and version, identify, group, page, common', async () => {
    const result = await runCli(['plan', 'import', protocols, '--dir', dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`Imported 7 rules into ${path.join(dir, 'plan')}.`)
    expect(readPlanFile('events/order-completed.json')).toMatchObject({name: 'Order Completed', description: 'User completed the order.', properties: {required: ['order_id', 'total']}, definitions: {product: {required: ['product_id']}}})
    expect(readPlanFile('events/order-completed.v2.json')).toMatchObject({name: 'Order Completed', version: 2, properties: {required: ['order_id', 'revenue_cents']}})
    expect(readPlanFile('identify.json').traits.required).toEqual(['email'])
    expect(readPlanFile('group.json').traits.properties.employees).toEqual({type: 'integer'})
    expect(readPlanFile('page.json').properties.required).toEqual(['path'])
    expect(readPlanFile('common.json').context.properties.app).toBeDefined()
    const validate = await runCli(['plan', 'validate', '--dir', dir])
    expect(validate.stdout).toMatch(/ 0 errors, /)
  })

  it('imports a Typewriter plan.json', async () => {
    const result = await runCli(['plan', 'import', typewriter, '--dir', dir, '--json'])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).rules).toBe(3)
    expect(readPlanFile('events/product-viewed.json')).toMatchObject({name: 'Product Viewed', properties: {required: ['product_id']}})
    expect(readPlanFile('identify.json').traits.properties.plan).toEqual({type: 'string', enum: ['free', 'pro']})
  })

  it('refuses to overwrite an event that has a file, unless --force', async () => {
    await runCli(['plan', 'import', typewriter, '--dir', dir])
    writeFileSync(path.join(dir, 'plan', 'events', 'product-viewed.json'), JSON.stringify({name: 'Product Viewed', description: 'mine', properties: {type: 'object'}}))
    const again = await runCli(['plan', 'import', typewriter, '--dir', dir])
    expect(again.exitCode).toBe(1)
    expect(again.stderr).toContain('3 rules already have files:')
    expect(again.stderr).toContain('Nothing was written.')
    expect(readPlanFile('events/product-viewed.json').description).toBe('mine')
    const forced = await runCli(['plan', 'import', typewriter, '--dir', dir, '--force'])
    expect(forced.exitCode).toBe(0)
    expect(readPlanFile('events/product-viewed.json').description).toBe("User viewed a product's details.")
  })

  it('says what is wrong with a file that is not a plan', async () => {
    const file = path.join(dir, 'not-a-plan.json')
    writeFileSync(file, JSON.stringify({hello: 'world'}))
    const result = await runCli(['plan', 'import', file, '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`${file}: not a tracking plan: expected {"data": {"rules": [...]}}, a list of rules, or a plan.json with "rules"`)
    const missing = await runCli(['plan', 'import', path.join(dir, 'nope.json'), '--dir', dir])
    expect(missing.stderr).toContain('nope.json does not exist.')
  })
})

describe('import then export', () => {
  it('round-trips a Protocols export without losing a rule', async () => {
    await runCli(['plan', 'import', protocols, '--dir', dir])
    const exported = await runCli(['plan', 'export', '--format', 'segment', '--dir', dir])
    expect(exported.exitCode).toBe(0)
    const original = JSON.parse(readFileSync(protocols, 'utf8')).data.rules
    expect(comparable(JSON.parse(exported.stdout).data.rules)).toEqual(comparable(original))
  })

  it('exports the E-commerce plan self-contained, and importing it gives a plan that validates', async () => {
    const out = path.join(dir, 'rules.json')
    const exported = await runCli(['plan', 'export', '--dir', fixturePath('ecommerce'), '--out', out])
    expect(exported.exitCode).toBe(0)
    const rules = JSON.parse(readFileSync(out, 'utf8')).data.rules
    expect(rules.map((r: any) => r.key ?? r.type)).toEqual(['Cart Viewed', 'Checkout Started', 'Order Completed', 'Product Added', 'Product List Viewed', 'Product Viewed', 'Products Searched', 'IDENTIFY'])
    expect(JSON.stringify(rules)).not.toContain('definitions.json')
    await runCli(['plan', 'import', out, '--dir', dir])
    expect((await runCli(['plan', 'validate', '--dir', dir])).stdout).toMatch(/valid: 0 errors/)
    const again = await runCli(['plan', 'export', '--dir', dir])
    expect(JSON.parse(again.stdout).data.rules).toEqual(rules)
  })
})

describe('event versions on ingest', () => {
  it('checks a message against the version it names, and against the oldest otherwise', async () => {
    const log = memoryLogger()
    const t = await startTestDaemon({config: {sources: [{name: 'web', writeKey: 'web-write-key-0001'}]}, log})
    try {
      await runCli(['plan', 'import', protocols, '--dir', t.dir])
      // The watcher reloads the imported plan: its 3 event rules (Order Completed 1 and 2, Signed Up) in force.
      await waitFor('the watcher to load the imported plan', () => log.lines.some((line) => line.endsWith(': 3 event rules in force')))
      const send = (properties: unknown, context: unknown = {}) =>
        post(`${t.url}/v1/track`, {userId: 'u', event: 'Order Completed', properties, context}, {writeKey: 'web-write-key-0001'})
      await send({order_id: 'o', revenue_cents: 100}, {protocols: {event_version: 2}})
      await send({order_id: 'o', total: 1}, {protocols: {event_version: 7}})
      await send({order_id: 'o', revenue_cents: 100})
      const found = (await getJson(`${t.url}/api/violations`)).body
      expect(found.map((v: any) => `${v.kind} ${v.path}`)).toEqual(['missing_required properties.total'])
      expect(t.storedEvents().map((e) => e.valid)).toEqual([true, true, false])
    } finally {
      await t.close()
    }
  })
})
