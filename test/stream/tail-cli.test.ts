import {cpSync} from 'node:fs'
import {execa, type ResultPromise} from 'execa'
import {afterEach, describe, expect, it} from 'vitest'
import {binPath, runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {fixturePath} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir} from '../helpers/workspace.js'

const writeKey = 'shop-write-key-0001'
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function shopWorkspace(): string {
  const {dir, cleanup} = tempDir()
  cpSync(fixturePath('ecommerce'), dir, {recursive: true})
  cleanups.push(cleanup)
  return dir
}

async function daemonIn(dir: string, args: string[] = []): Promise<DaemonProcess> {
  const daemon = await startDaemonProcess(dir, args)
  cleanups.push(async () => void (await daemon.stop()))
  return daemon
}

/** `cdp tail` as a child process whose stdout is a pipe (not a terminal), collecting its output. */
function tail(args: string[]): {child: ResultPromise; stdout: () => string; stderr: () => string} {
  const child = execa('node', [binPath, 'tail', ...args], {env: {NO_COLOR: '1', FORCE_COLOR: '0', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}, reject: false, buffer: false})
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  cleanups.push(async () => {
    child.kill('SIGTERM')
    await child
  })
  return {child, stdout: () => stdout, stderr: () => stderr}
}

const viewed = (n: number, properties: Record<string, unknown>) => ({userId: `user-${n}`, event: 'Product Viewed', messageId: `viewed-${n}`, properties})

describe('cdp tail (not on a terminal)', () => {
  it('prints the history, then one readable line per live event with its violations', async () => {
    const dir = shopWorkspace()
    const daemon = await daemonIn(dir)
    await post(`${daemon.url}/v1/track`, viewed(1, {product_id: 'p-1'}), {writeKey})
    const run = tail(['--dir', dir, '--history', '5'])
    await waitFor('the history line', () => run.stdout().includes('viewed-1'))
    await post(`${daemon.url}/v1/track`, viewed(2, {price: -1}), {writeKey})
    await waitFor('the live line', () => run.stdout().includes('viewed-2'))
    const lines = run.stdout().trim().split('\n')
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}  track {3}  Product Viewed  user-1  shop  valid  viewed-1$/)
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}  track {3}  Product Viewed  user-2  shop  2 violations  viewed-2$/)
    expect(lines[2]).toBe('    missing_required properties.product_id is required but it is missing. (expected present, got missing)')
    expect(lines[3]).toBe('    constraint The value at properties.price must be >= 0 but it was -1. (expected must be >= 0, got -1)')
    expect(run.stderr()).toContain(`following ${daemon.url}`)
    run.child.kill('SIGINT')
    expect((await run.child).exitCode).toBe(0)
  })

  it('--violations --json prints one JSON object per line, only for events that break the plan', async () => {
    const dir = shopWorkspace()
    const daemon = await daemonIn(dir)
    const run = tail(['--dir', dir, '--violations', '--json', '--history', '0'])
    await waitFor('the connection', () => run.stderr().includes('following'))
    await post(`${daemon.url}/v1/track`, viewed(1, {product_id: 'p-1'}), {writeKey})
    await post(`${daemon.url}/v1/track`, viewed(2, {product_id: 7}), {writeKey})
    await waitFor('the violation', () => run.stdout().includes('viewed-2'))
    const lines = run.stdout().trim().split('\n').map((line) => JSON.parse(line))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({kind: 'event', messageId: 'viewed-2', name: 'Product Viewed', valid: false, source: 'shop'})
    expect(lines[0].violations).toEqual([
      expect.objectContaining({kind: 'wrong_type', path: 'properties.product_id', expected: 'string', actual: 'integer'}),
    ])
    expect(lines[0].message.properties).toEqual({product_id: 7})
  })

  it('says how to start the daemon when none runs', async () => {
    const dir = shopWorkspace()
    const result = await runCli(['tail', '--dir', dir])
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toContain(`No cdp dev is running in ${dir}.`)
    expect(result.stderr).toContain('Start it with `cdp dev` in that folder (or pass --dir), or give the address of a running daemon with --url.')
    const bad = await runCli(['tail', '--url', 'http://127.0.0.1:9'])
    expect(bad.exitCode).toBe(3)
    expect(bad.stderr).toContain('cdp dev at http://127.0.0.1:9 is not answering.')
  })

  it('says when the daemon stops, and picks up again when it is back', async () => {
    const dir = shopWorkspace()
    const first = await startDaemonProcess(dir)
    const run = tail(['--dir', dir, '--json'])
    await waitFor('the connection', () => run.stderr().includes('following'))
    await post(`${first.url}/v1/track`, viewed(1, {product_id: 'p-1'}), {writeKey})
    await waitFor('the first event', () => run.stdout().includes('viewed-1'))
    expect(await first.stop()).toBe(0)
    await waitFor('the stop notice', () => run.stderr().includes(`cdp dev at ${first.url} stopped; reconnecting when it is back…`))
    const second = await daemonIn(dir, ['--port', String(first.port)])
    expect(second.url).toBe(first.url)
    await waitFor('the reconnection', () => run.stderr().split(`following ${first.url}`).length === 3)
    await post(`${second.url}/v1/track`, viewed(2, {product_id: 'p-2'}), {writeKey})
    await waitFor('the event after the restart', () => run.stdout().includes('viewed-2'))
    const ids = run.stdout().trim().split('\n').map((line) => JSON.parse(line).messageId)
    // Nothing shown twice across the reconnection.
    expect(ids).toEqual(['viewed-1', 'viewed-2'])
  })
})
