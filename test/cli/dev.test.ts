import {createServer} from 'node:net'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {execa} from 'execa'
import {binPath, runCli, startDaemonProcess} from '../helpers/cli.js'
import {post} from '../helpers/http.js'
import {tempDir} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = tempDir()))
afterEach(() => cleanup())

describe('cdp dev', () => {
  it('runs with no cdp.json on one default source whose key survives restarts', async () => {
    const first = await startDaemonProcess(dir)
    expect(first.sources).toEqual([{name: 'default', writeKey: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/)}])
    expect((await post(`${first.url}/v1/track`, {userId: 'u', event: 'First'}, {writeKey: first.writeKey})).status).toBe(200)
    // SIGINT, as Ctrl-C: a clean exit 0
    expect(await first.stop('SIGINT')).toBe(0)
    expect(first.stderr()).toContain('cdp dev stopped.')

    const second = await startDaemonProcess(dir)
    expect(second.writeKey).toBe(first.writeKey)
    expect(existsSync(path.join(dir, '.cdp', 'cdp.sqlite'))).toBe(true)
    expect(await second.stop('SIGTERM')).toBe(0)
  })

  it('prints the URL, the write key and a curl example', async () => {
    const child = execa('node', [binPath, 'dev', '--port', '0', '--dir', dir], {env: {NO_COLOR: '1'}, reject: false, buffer: false})
    let stdout = ''
    await new Promise<void>((resolve) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.includes('Stop: Ctrl-C')) resolve()
      })
    })
    child.kill('SIGINT')
    expect((await child).exitCode).toBe(0)
    expect(stdout).toMatch(/cdp dev is listening on http:\/\/127\.0\.0\.1:\d+/)
    expect(stdout).toMatch(/ {2}default {10}[A-Za-z0-9_-]{32}/)
    expect(stdout).toMatch(/curl -u '[A-Za-z0-9_-]{32}:' http:\/\/127\.0\.0\.1:\d+\/v1\/track/)
  })

  it('a port in use is a clear error, not a stack trace', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as {port: number}).port
    try {
      const result = await runCli(['dev', '--port', String(port), '--dir', dir])
      expect(result.exitCode).toBe(3)
      expect(result.stderr).toContain(`Error: Port ${port} on 127.0.0.1 is already in use (another cdp dev?).`)
      expect(result.stderr).toContain('Try: Stop the other process, or choose another port with --port (0 picks a free one).')
      expect(result.stderr).not.toMatch(/\n\s+at /)
    } finally {
      blocker.close()
    }
  })
})

describe('cdp events', () => {
  it('says how to start when there is no store yet', async () => {
    const result = await runCli(['events', '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`Error: No event store at ${path.join(dir, '.cdp', 'cdp.sqlite')}.`)
    expect(result.stderr).toContain('Try: Start the daemon with `cdp dev`')
    const json = await runCli(['events', '--dir', dir, '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'no_store'}})
  })

  it('prints a table and filters while the daemon runs', async () => {
    const daemon = await startDaemonProcess(dir)
    await post(`${daemon.url}/v1/batch`, {
      batch: [
        {type: 'identify', userId: 'ada', traits: {name: 'Ada'}},
        {type: 'track', userId: 'ada', event: 'Order Completed', messageId: 'order-1'},
        {type: 'page', anonymousId: 'visitor-1', name: 'Pricing'},
      ],
    }, {writeKey: daemon.writeKey})
    const table = await runCli(['events', '--dir', dir])
    expect(table.exitCode).toBe(0)
    const lines = table.stdout.split('\n')
    expect(lines[0]).toMatch(/^TIMESTAMP +PLAN TYPE +EVENT \/ NAME +USER +SOURCE +MESSAGE ID$/)
    // The default workspace has no plan: "-" in the PLAN column.
    expect(lines[2]).toMatch(/Z -    track +Order Completed +ada +default +order-1$/)
    expect(lines[3]).toMatch(/Z -    page +Pricing +anon:visitor-1 +default /)
    expect(lines[4]).toBe('3 events')

    const tracks = await runCli(['events', '--dir', dir, '--type', 'track', '--json'])
    expect(JSON.parse(tracks.stdout).map((m: {messageId: string}) => m.messageId)).toEqual(['order-1'])
    const bad = await runCli(['events', '--dir', dir, '--since', 'last tuesday'])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toContain('Error: since "last tuesday" is neither an ISO 8601 time nor a span such as 15m, 2h or 7d.')
    expect(await daemon.stop()).toBe(0)
  })
})
