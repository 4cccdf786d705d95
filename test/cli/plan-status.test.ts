import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/workspace.js'

type Json = Record<string, any>

const event = (name: string) => ({name, properties: {type: 'object', properties: {total: {type: 'number'}}}})

/** A small app in a real git repository: a plan of three events, a generated client, and code that sends some of them. */
async function fixtureApp(dir: string, files: Record<string, string | object>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
  const git = (...args: string[]) => execa('git', args, {cwd: dir, env: {LC_ALL: 'C'}})
  await git('init', '-q', '-b', 'main')
  await git('config', 'user.name', 'Test')
  await git('config', 'user.email', 'test@example.com')
  await git('config', 'commit.gpgsign', 'false')
  const generated = await runCli(['plan', 'codegen', '--dir', dir])
  expect(generated.exitCode, generated.stderr).toBe(0)
  await git('add', '.')
  await git('commit', '-q', '-m', 'app')
}

const plan = {
  'plan/events/order-completed.json': event('Order Completed'),
  'plan/events/product-viewed.json': event('Product Viewed'),
  'plan/events/signed-up.json': event('Signed Up'),
}

const checkout = `import {Analytics} from '@segment/analytics-node'
import {createTracker} from '../analytics/index.js'

const analytics = new Analytics({writeKey: process.env.SEGMENT_WRITE_KEY ?? ''})
const tracker = createTracker(analytics)

export function completeOrder(userId: string, total: number) {
  // analytics.track('Signed Up') is a comment, not a call
  tracker.orderCompleted({userId, properties: {total}})
}
`

const product = `export function ProductPage({analytics}) {
  return <button onClick={() => analytics.track('Product Viewed', {total: 1})}>View</button>
}
`

const signup = `const Analytics = require('@segment/analytics-node')
const client = new Analytics.Analytics({writeKey: 'x'})

client.track({userId: 'u1', event: 'Signed Up'})
`

describe('cdp plan status', () => {
  const cleanups: (() => void)[] = []
  afterAll(() => cleanups.forEach((cleanup) => cleanup()))
  const app = async (files: Record<string, string | object>) => {
    const {dir, cleanup} = tempDir('cdp-status-')
    cleanups.push(cleanup)
    await fixtureApp(dir, {...plan, ...files})
    return dir
  }

  let complete: string
  beforeAll(async () => {
    complete = await app({
      'src/checkout.ts': checkout,
      'src/product.jsx': product,
      'server/signup.cjs': signup,
      'node_modules/lib/index.js': "analytics.track('From A Dependency')",
      'README.md': "analytics.track('In The Docs')",
    })
  })

  it('finds generated-client and raw calls with file:line, and passes when every planned event is sent', async () => {
    // Given an app that sends each planned event once, in three styles
    // When its status is asked for
    const result = await runCli(['plan', 'status', '--dir', complete])
    // Then each event is listed with where it is sent, and the check passes
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/Order Completed\s+orderCompleted\(\)\s+1\s+src\/checkout\.ts:9/)
    expect(result.stdout).toMatch(/Product Viewed\s+productViewed\(\)\s+1\s+src\/product\.jsx:2/)
    expect(result.stdout).toMatch(/Signed Up\s+signedUp\(\)\s+1\s+server\/signup\.cjs:4/)
    expect(result.stdout).toContain('Every planned event has a call site')
  })

  it('--json is the same report, valid JSON, and the generated client, node_modules and other files are not scanned', async () => {
    const result = await runCli(['plan', 'status', '--dir', complete, '--json'])
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout) as Json
    expect(report.ok).toBe(true)
    expect(report.files).toEqual({from: 'git', scanned: 3})
    expect(report.events).toEqual([
      {event: 'Order Completed', function: 'orderCompleted', calls: [{kind: 'client', file: 'src/checkout.ts', line: 9, column: 3, callee: 'tracker.orderCompleted'}]},
      {event: 'Product Viewed', function: 'productViewed', calls: [{kind: 'raw', file: 'src/product.jsx', line: 2, column: 33, callee: 'analytics.track'}]},
      {event: 'Signed Up', function: 'signedUp', calls: [{kind: 'raw', file: 'server/signup.cjs', line: 4, column: 1, callee: 'client.track'}]},
    ])
    // The generated analytics/index.ts defines every function and calls analytics.track itself: none of it counts.
    expect(JSON.stringify(report)).not.toContain('analytics/index.ts')
    expect(report.missing).toEqual([])
    expect(report.unplanned).toEqual([])
    expect(report.dynamic).toEqual([])
  })

  it('fails naming a planned event that no code sends, unless --allow-missing', async () => {
    // Given an app that never sends "Signed Up"
    const dir = await app({'src/checkout.ts': checkout, 'src/product.jsx': product})
    // When its status is asked for
    const result = await runCli(['plan', 'status', '--dir', dir])
    // Then it exits 1 and names the event
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/Signed Up\s+signedUp\(\)\s+0\s+no call site/)
    expect(result.stdout).toContain('1 planned event with no call site: "Signed Up"')
    // And --allow-missing lets it pass, still saying so
    const allowed = await runCli(['plan', 'status', '--dir', dir, '--allow-missing'])
    expect(allowed.exitCode).toBe(0)
    expect(allowed.stdout).toContain('"Signed Up" (allowed by --allow-missing)')
    const json = JSON.parse((await runCli(['plan', 'status', '--dir', dir, '--json'])).stdout) as Json
    expect(json).toMatchObject({ok: false, missing: ['Signed Up']})
  })

  it('fails on an event the plan does not have, and reports a computed name without guessing it', async () => {
    // Given an app that sends every planned event, one unplanned event, and one event by a variable
    const dir = await app({
      'src/checkout.ts': checkout,
      'src/product.jsx': product,
      'server/signup.cjs': `${signup}client.track({userId: 'u1', event: 'Signed Upp'})\nexport const send = (name) => client.track({userId: 'u1', event: name})\n`,
    })
    // When its status is asked for, even with --allow-missing
    const result = await runCli(['plan', 'status', '--dir', dir, '--allow-missing'])
    // Then the unplanned event fails the check with its call site, and the dynamic call is listed as such
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/Unplanned events called in code \(1\):\n\s+Signed Upp\s+server\/signup\.cjs:5/)
    expect(result.stdout).toMatch(/computed event name, not checked \(1\):\n\s+server\/signup\.cjs:6\s+client\.track\(event: name\)/)
    const json = JSON.parse((await runCli(['plan', 'status', '--dir', dir, '--json'])).stdout) as Json
    expect(json.unplanned).toEqual([{event: 'Signed Upp', calls: [{kind: 'raw', file: 'server/signup.cjs', line: 5, column: 1, callee: 'client.track'}]}])
    expect(json.dynamic).toEqual([{file: 'server/signup.cjs', line: 6, column: 31, callee: 'client.track', argument: 'event: name'}])
    expect(json.events.map((status: Json) => status.event)).not.toContain('Signed Upp')
  })

  it('outside a git repository walks the folder, still without node_modules and the codegen output', async () => {
    // Given the same app in a plain folder (no git), its client generated into src/generated
    const {dir, cleanup} = tempDir('cdp-status-nogit-')
    cleanups.push(cleanup)
    const files: Record<string, string | object> = {...plan, 'src/checkout.ts': checkout.replace('../analytics/index.js', './generated/index.js'), 'src/product.jsx': product, 'server/signup.cjs': signup, 'node_modules/lib/index.js': "analytics.track('From A Dependency')"}
    for (const [relative, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, relative)), {recursive: true})
      writeFileSync(path.join(dir, relative), typeof content === 'string' ? content : JSON.stringify(content))
    }
    expect((await runCli(['plan', 'codegen', '--dir', dir, '--out', 'src/generated'])).exitCode).toBe(0)
    // When its status is asked for with that output folder
    const result = await runCli(['plan', 'status', '--dir', dir, '--out', 'src/generated', '--json'])
    // Then the three app files are scanned and every event is found
    const report = JSON.parse(result.stdout) as Json
    expect(report.files).toEqual({from: 'walk', scanned: 3})
    expect(report).toMatchObject({ok: true, missing: [], unplanned: []})
    // And a --src glob that takes in the generated client skips it by its header
    const globbed = JSON.parse((await runCli(['plan', 'status', '--dir', dir, '--src', 'src/**', '--json'])).stdout) as Json
    expect(globbed.files).toEqual({from: 'src', scanned: 2})
    expect(globbed.missing).toEqual(['Signed Up'])
  })

  it('--src replaces the default files', async () => {
    const result = await runCli(['plan', 'status', '--dir', complete, '--src', 'src/**/*.{ts,jsx}', '--json'])
    const report = JSON.parse(result.stdout) as Json
    expect(report.files).toEqual({from: 'src', scanned: 2})
    expect(report.missing).toEqual(['Signed Up'])
    expect(result.exitCode).toBe(1)
  })
})
