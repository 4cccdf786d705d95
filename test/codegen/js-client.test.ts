import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, startDaemonProcess} from '../helpers/cli.js'
import {getJson} from '../helpers/http.js'
import {appWorkspace, tscPath as tsc} from './app-workspace.js'

let ws: string

beforeAll(async () => {
  ws = await appWorkspace('.tmp-codegen-js-', [['--language', 'js'], ['--language', 'js', '--validate', '--out', 'analytics-validated'], ['--language', 'ts', '--out', 'analytics-ts']])
  // The app is plain ESM JavaScript, as an app with no TypeScript build is.
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({type: 'module', private: true}))
})
afterAll(() => rmSync(ws, {recursive: true, force: true}))

const compilerOptions = {strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: []}

/** tsc over one file with the project's settings (checkJs for JavaScript); its error lines without file and position. */
async function typecheck(name: string, source: string): Promise<{exitCode: number; errors: string[]; output: string}> {
  writeFileSync(path.join(ws, name), source)
  const config = path.join(ws, `tsconfig.${name}.json`)
  writeFileSync(config, JSON.stringify({compilerOptions: {...compilerOptions, allowJs: true, checkJs: true}, files: [name]}))
  const result = await execa('node', [tsc, '-p', config], {reject: false})
  const output = result.stdout + result.stderr
  return {exitCode: result.exitCode ?? -1, errors: output.split('\n').filter((line) => line.includes('error TS')).map((line) => line.replace(/^.*?: error/, 'error')), output}
}

const wrongEnum = `tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', total: 1, currency: 'EUR', payment_method: 'cash', products: [{product_id: 'p'}]}})`
const app = (from: string, call: string) => `import {Analytics} from '@segment/analytics-node'
import {createTracker} from '${from}'

const tracker = createTracker(new Analytics({writeKey: 'key'}))
${call}
`

describe('the JavaScript client under tsc --checkJs', () => {
  it('good calls and the generated files themselves pass under --strict', async () => {
    const good = `tracker.orderCompleted({userId: 'u-1', properties: {order_id: 'o-1', total: 25, currency: 'EUR', payment_method: 'card', products: [{product_id: 'p-1', price: 5}]}})
tracker.productsSearched({anonymousId: 'a-1', properties: {query: 'mugs'}})
tracker.identify({userId: 'u-1', traits: {email: 'ada@example.com', plan: 'plus'}})
tracker.group({userId: 'u-1', groupId: 'g-1'})
`
    for (const from of ['./analytics/index.js', './analytics-validated/index.js']) {
      const result = await typecheck(`good-${from.split('/')[1]}.js`, `// @ts-check\n${app(from, good)}`)
      expect(result.output).toBe('')
      expect(result.exitCode).toBe(0)
    }
  })

  it('a wrong enum value fails with the same error as with the TypeScript client', async () => {
    // Given the same call through each client
    const js = await typecheck('bad-enum.js', `// @ts-check\n${app('./analytics/index.js', wrongEnum)}`)
    const ts = await typecheck('bad-enum.ts', app('./analytics-ts/index.js', wrongEnum))
    // Then both fail, with the same message
    expect(js.exitCode).not.toBe(0)
    expect(ts.exitCode).not.toBe(0)
    expect(js.errors).toEqual([`error TS2322: Type '"cash"' is not assignable to type '"card" | "paypal" | "bank_transfer" | "gift_card" | undefined'.`])
    expect(js.errors).toEqual(ts.errors)
  })

  it.each([
    ['a wrong property type', `tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', total: 'lots', currency: 'EUR', products: [{product_id: 'p'}]}})`],
    ['a missing required property', `tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', currency: 'EUR', products: [{product_id: 'p'}]}})`],
    ['an unplanned event', `tracker.orderCompelted({userId: 'u', properties: {}})`],
  ])('%s fails as it does with the TypeScript client', async (label, call) => {
    const name = label.replace(/\W+/g, '-')
    const js = await typecheck(`${name}.js`, `// @ts-check\n${app('./analytics/index.js', call)}`)
    const ts = await typecheck(`${name}.ts`, app('./analytics-ts/index.js', call))
    expect(js.errors.length).toBeGreaterThan(0)
    expect(js.errors.map((line) => line.split(':')[0])).toEqual(ts.errors.map((line) => line.split(':')[0]))
  })
})

describe('the JavaScript client at run time', () => {
  it('runs unmodified under plain node with @segment/analytics-node against cdp dev: stored, valid, marked with context.cdp', async () => {
    // Given a real cdp dev on the fixture's workspace
    const daemon = await startDaemonProcess(ws)
    try {
      // When a plain node app sends through the generated JavaScript client
      writeFileSync(
        path.join(ws, 'send.js'),
        `import {Analytics} from '@segment/analytics-node'
import {createTracker} from './analytics/index.js'

const analytics = new Analytics({writeKey: process.env.WRITE_KEY, host: process.env.HOST, flushInterval: 50})
const tracker = createTracker(analytics)
tracker.productsSearched({userId: 'u-1', properties: {query: 'mugs'}})
tracker.orderCompleted({userId: 'u-1', properties: {order_id: 'o-1', total: 25, currency: 'EUR', products: [{product_id: 'p-1'}]}})
tracker.identify({userId: 'u-1', traits: {email: 'ada@example.com'}})
await analytics.closeAndFlush({timeout: 10_000})
`,
      )
      const sent = await execa('node', ['send.js'], {cwd: ws, env: {WRITE_KEY: 'shop-write-key-0001', HOST: daemon.url}, reject: false})
      expect(sent.exitCode, sent.stderr).toBe(0)
      // Then cdp stored each call with the client's mark, and none broke the plan
      const events = await runCli(['events', '--dir', ws, '--json'])
      expect(events.exitCode, events.stderr).toBe(0)
      const messages = JSON.parse(events.stdout) as {type: string; event?: string; context: {cdp: unknown}}[]
      expect(messages.map((message) => [message.type, message.event ?? null])).toEqual([
        ['track', 'Products Searched'],
        ['track', 'Order Completed'],
        ['identify', null],
      ])
      for (const message of messages) expect(message.context.cdp).toEqual({name: 'cdp', version: expect.any(String), plan: expect.stringMatching(/^sha256:/)})
      expect((await getJson(`${daemon.url}/api/violations`)).body).toEqual([])
    } finally {
      await daemon.stop()
    }
  })

  it('with --validate a bad call reaches onViolation, under plain node too', async () => {
    writeFileSync(
      path.join(ws, 'validate.js'),
      `import {createTracker} from './analytics-validated/index.js'

const violations = []
const tracker = createTracker({track() {}, identify() {}, group() {}}, {onViolation: (v) => violations.push(v)})
tracker.orderCompleted({userId: 'u', properties: {order_id: 'o', total: 'lots', currency: 'EUR', products: [{product_id: 'p'}]}})
console.log(JSON.stringify(violations))
`,
    )
    const result = await execa('node', ['validate.js'], {cwd: ws, reject: false})
    expect(result.exitCode, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual([{event: 'Order Completed', errors: [{path: 'properties.total', message: 'must be number'}]}])
  })
})
