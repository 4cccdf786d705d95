import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Analytics} from '@segment/analytics-node'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon} from '../helpers/daemon.js'
import {getJson} from '../helpers/http.js'
import {appWorkspace, tscPath as tsc} from './app-workspace.js'

let ws: string

beforeAll(async () => {
  ws = await appWorkspace('.tmp-codegen-', [[], ['--target', 'browser', '--out', 'analytics-browser'], ['--validate', '--out', 'analytics-validated']])
})
afterAll(() => rmSync(ws, {recursive: true, force: true}))

function writeApp(name: string, source: string, compilerOptions: Record<string, unknown>): string {
  writeFileSync(path.join(ws, `${name}.ts`), source)
  const config = path.join(ws, `tsconfig.${name}.json`)
  writeFileSync(config, JSON.stringify({compilerOptions: {strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', types: [], ...compilerOptions}, files: [`${name}.ts`]}))
  return config
}

async function typecheck(config: string) {
  const result = await execa('node', [tsc, '-p', config], {reject: false})
  return {exitCode: result.exitCode, output: result.stdout + result.stderr}
}

const nodenext = {module: 'NodeNext', moduleResolution: 'NodeNext'}
const bundler = {module: 'ESNext', moduleResolution: 'Bundler'}

const goodNodeApp = (from: string) => `import {Analytics} from '@segment/analytics-node'
import {createTracker} from '${from}'

const tracker = createTracker(new Analytics({writeKey: 'key'}))
tracker.orderCompleted({userId: 'u-1', properties: {order_id: 'o-1', total: 25, currency: 'EUR', payment_method: 'card', products: [{product_id: 'p-1', price: 5}]}})
tracker.productsSearched({anonymousId: 'a-1', properties: {query: 'mugs'}})
tracker.identify({userId: 'u-1', traits: {email: 'ada@example.com', plan: 'plus'}})
tracker.group({userId: 'u-1', groupId: 'g-1'})
`

describe('the generated client compiles under tsc --strict', () => {
  it.each([
    ['nodenext', nodenext, './analytics/index.js'],
    ['bundler', bundler, './analytics/index.js'],
    ['nodenext, --validate', nodenext, './analytics-validated/index.js'],
  ])('node target, %s', async (label, options, from) => {
    const result = await typecheck(writeApp(`good-${label.replace(/\W+/g, '-')}`, goodNodeApp(from), options))
    expect(result.output).toBe('')
    expect(result.exitCode).toBe(0)
  })

  it('browser target, bundler', async () => {
    const source = `import {AnalyticsBrowser} from '@segment/analytics-next'
import {createTracker} from './analytics-browser/index.js'

const tracker = createTracker(AnalyticsBrowser.load({writeKey: 'key'}))
void tracker.productViewed({product_id: 'p-1', price: 12.5})
void tracker.identify('u-1', {email: 'ada@example.com'})
`
    const result = await typecheck(writeApp('good-browser', source, {...bundler, lib: ['ES2022', 'DOM']}))
    expect(result.output).toBe('')
    expect(result.exitCode).toBe(0)
  })

  it.each([
    ['a wrong property type', `tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', total: 'lots', currency: 'EUR', products: [{product_id: 'p'}]}})`, /error TS2322: Type 'string' is not assignable to type 'number'/],
    ['a missing required property', `tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', currency: 'EUR', products: [{product_id: 'p'}]}})`, /error TS2741: Property 'total' is missing/],
    ['an unplanned event', `tracker.orderCompelted({userId: 'u', properties: {}})`, /error TS2551: Property 'orderCompelted' does not exist .* Did you mean 'orderCompleted'\?/],
    ['an enum value not in the plan', `tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', total: 1, currency: 'EUR', payment_method: 'cash', products: [{product_id: 'p'}]}})`, /error TS2322: Type '"cash"' is not assignable/],
    ['a call without userId or anonymousId', `tracker.productsSearched({properties: {query: 'q'}})`, /error TS2345/],
  ])('fails tsc for %s', async (label, call, expected) => {
    const source = `import {Analytics} from '@segment/analytics-node'\nimport {createTracker} from './analytics/index.js'\nconst tracker = createTracker(new Analytics({writeKey: 'key'}))\n${call}\n`
    const result = await typecheck(writeApp(`bad-${label.replace(/\W+/g, '-')}`, source, nodenext))
    expect(result.exitCode).not.toBe(0)
    expect(result.output).toMatch(expected)
  })
})

describe('deterministic output and --check', () => {
  it('the same plan gives byte-identical files, with a header naming the plan hash', async () => {
    const first = readFileSync(path.join(ws, 'analytics', 'index.ts'), 'utf8')
    const again = await runCli(['plan', 'codegen', '--dir', ws, '--json'])
    expect(JSON.parse(again.stdout).files[0].status).toBe('unchanged')
    expect(readFileSync(path.join(ws, 'analytics', 'index.ts'), 'utf8')).toBe(first)
    expect(first).toMatch(/^\/\/ Generated by cdp plan codegen \(cdp \d+\.\d+\.\d+, target node\) from plan sha256:[0-9a-f]{16}\.\n/)
    expect(first).not.toMatch(/\d{4}-\d{2}-\d{2}T/)
  })

  it('--check passes on fresh output, fails after a plan edit and when the client is missing', async () => {
    const fresh = await runCli(['plan', 'codegen', '--dir', ws, '--check'])
    expect(fresh.exitCode).toBe(0)
    expect(fresh.stdout).toContain('The generated client is current.')
    const file = path.join(ws, 'plan', 'events', 'products-searched.json')
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original.replace('"minLength": 1', '"minLength": 2'))
    try {
      const stale = await runCli(['plan', 'codegen', '--dir', ws, '--check'])
      expect(stale.exitCode).toBe(1)
      expect(stale.stdout).toContain(`stale     ${path.join(ws, 'analytics', 'index.ts')}`)
      const missing = await runCli(['plan', 'codegen', '--dir', ws, '--check', '--out', 'nowhere'])
      expect(missing.exitCode).toBe(1)
      expect(missing.stdout).toContain(`missing   ${path.join(ws, 'nowhere', 'index.ts')}`)
    } finally {
      writeFileSync(file, original)
    }
  })

  it('never overwrites a file it did not generate, and refuses a plan that does not validate', async () => {
    const mine = path.join(ws, 'mine')
    mkdirSync(mine)
    writeFileSync(path.join(mine, 'index.ts'), 'export const handwritten = 1\n')
    const refused = await runCli(['plan', 'codegen', '--dir', ws, '--out', 'mine', '--json'])
    expect(refused.exitCode).toBe(3)
    expect(JSON.parse(refused.stdout).error).toMatchObject({code: 'not_generated', message: `${path.join(mine, 'index.ts')} exists and was not generated by cdp; it is left as it is.`})
    expect(readFileSync(path.join(mine, 'index.ts'), 'utf8')).toBe('export const handwritten = 1\n')

    // An output folder that cannot be written (here: below a file; root may write anywhere else).
    const unwritable = await runCli(['plan', 'codegen', '--dir', ws, '--out', 'cdp.json/client'])
    expect(unwritable.exitCode).toBe(3)
    expect(unwritable.stderr).toContain(`Error: Cannot write ${path.join(ws, 'cdp.json', 'client', 'index.ts')}:`)
    expect(unwritable.stderr).toContain('Try: Choose a folder you can write to with --out.')

    const broken = path.join(ws, 'plan', 'events', 'broken.json')
    writeFileSync(broken, '{')
    try {
      const result = await runCli(['plan', 'codegen', '--dir', ws])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain('does not validate')
      expect(result.stderr).toContain(`${broken}: not valid JSON`)
    } finally {
      rmSync(broken)
    }
  })
})

describe('the generated client at run time', () => {
  it('sends through @segment/analytics-node to cdp dev with zero violations, marked with context.cdp', async () => {
    const t = await startTestDaemon({fixture: 'ecommerce'})
    try {
      const {createTracker} = await import(path.join(ws, 'analytics', 'index.ts'))
      const analytics = new Analytics({writeKey: 'shop-write-key-0001', host: t.url, flushInterval: 50})
      const tracker = createTracker(analytics)
      tracker.productsSearched({userId: 'u-1', properties: {query: 'mugs'}})
      tracker.orderCompleted({userId: 'u-1', properties: {order_id: 'o-1', total: 25, currency: 'EUR', products: [{product_id: 'p-1'}]}})
      tracker.identify({userId: 'u-1', traits: {email: 'ada@example.com'}})
      await analytics.closeAndFlush({timeout: 10_000})
      const stored = t.storedEvents()
      expect(stored.map((e) => [e.message.type, e.message.event ?? null, e.valid])).toEqual([
        ['track', 'Products Searched', true],
        ['track', 'Order Completed', true],
        ['identify', null, true],
      ])
      expect(stored[0].message.context.cdp).toEqual({name: 'cdp', version: expect.any(String), plan: expect.stringMatching(/^sha256:/)})
      expect((await getJson(`${t.url}/api/violations`)).body).toEqual([])
    } finally {
      await t.close()
    }
  })

  it('with --validate a bad call reaches onViolation', async () => {
    const {createTracker} = await import(path.join(ws, 'analytics-validated', 'index.ts'))
    const sent: unknown[] = []
    const violations: any[] = []
    const tracker = createTracker({track: (m: unknown) => sent.push(m), identify: () => {}, group: () => {}}, {onViolation: (v: unknown) => violations.push(v)})
    tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', total: 'lots', currency: 'EUR', products: [{product_id: 'p'}]}})
    tracker.identify({userId: 'u', traits: {email: 'not-an-email'}})
    expect(violations).toEqual([
      {event: 'Order Completed', errors: [{path: 'properties.total', message: 'must be number'}]},
      {event: 'identify', errors: [{path: 'traits.email', message: 'must match format "email"'}]},
    ])
    expect(sent).toHaveLength(1)
    // Under NODE_ENV=test the default handler throws.
    const strict = createTracker({track: () => {}, identify: () => {}, group: () => {}})
    expect(() => strict.productsSearched({userId: 'u', properties: {query: ''}})).toThrow('"Products Searched" breaks the tracking plan: properties.query must NOT have fewer than 1 characters')
  })
})
