import {execFileSync} from 'node:child_process'
import {cpSync, existsSync} from 'node:fs'
import {afterEach, describe, expect, it} from 'vitest'
import {binPath, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {fixturePath} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir} from '../helpers/workspace.js'

const tmuxPath = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((candidate) => existsSync(candidate))
// .ci/run installs tmux; elsewhere the test runs when it is there.
const canRun = tmuxPath !== undefined || process.env.CI === 'true'
const session = `cdp-tail-${process.pid}`
const writeKey = 'shop-write-key-0001'

function tmux(...args: string[]): string {
  return execFileSync(tmuxPath ?? 'tmux', args, {encoding: 'utf8'})
}

function screen(): string {
  return tmux('capture-pane', '-t', session, '-p')
}

async function curlTrack(url: string, body: object): Promise<void> {
  // curl, as a developer would send from another terminal.
  execFileSync('curl', ['-s', '-f', '-u', `${writeKey}:`, `${url}/v1/track`, '-H', 'Content-Type: application/json', '-d', JSON.stringify(body)])
}

let daemon: DaemonProcess | undefined
let cleanup: (() => void) | undefined

afterEach(async () => {
  try {
    tmux('kill-session', '-t', session)
  } catch {
    // Already gone.
  }
  await daemon?.stop()
  cleanup?.()
  daemon = undefined
})

describe.skipIf(!canRun)('cdp tail in a real terminal (tmux)', () => {
  it('shows events sent with curl as they arrive; v shows only violations; Enter opens the detail; q quits', async () => {
    const workspace = tempDir()
    cleanup = workspace.cleanup
    cpSync(fixturePath('ecommerce'), workspace.dir, {recursive: true})
    daemon = await startDaemonProcess(workspace.dir)
    tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', `NO_COLOR=1 node ${binPath} tail --dir ${workspace.dir}`)
    await waitFor('the view', () => screen().includes('connected'))

    await curlTrack(daemon.url, {userId: 'ada', event: 'Product Viewed', messageId: 'good-1', properties: {product_id: 'p-1', price: 10}})
    await curlTrack(daemon.url, {userId: 'bob', event: 'Product Viewed', messageId: 'bad-1', properties: {price: 'ten'}})
    await curlTrack(daemon.url, {userId: 'cy', event: 'Totally Unplanned', messageId: 'unplanned-1'})
    const shown = await waitFor('three rows', () => {
      const text = screen()
      return text.includes('ada') && text.includes('bob') && text.includes('Totally Unplanned') ? text : undefined
    })
    const rows = shown.split('\n').filter((line) => /\d\d:\d\d:\d\d\.\d{3}/.test(line))
    expect(rows).toHaveLength(3)
    expect(rows[0]).toMatch(/✓\s+track\s+Product Viewed\s+ada\s+shop/)
    expect(rows[1]).toMatch(/✗2\s+track\s+Product Viewed\s+bob\s+shop/)
    expect(rows[2]).toMatch(/✗1\s+track\s+Totally Unplanned\s+cy\s+shop/)
    for (const line of shown.split('\n')) expect(line.length).toBeLessThanOrEqual(80)

    tmux('send-keys', '-t', session, 'v')
    const violationsOnly = await waitFor('violations only', () => {
      const text = screen()
      return !text.includes('ada') && text.includes('bob') ? text : undefined
    })
    expect(violationsOnly.split('\n').filter((line) => /\d\d:\d\d:\d\d\.\d{3}/.test(line))).toHaveLength(2)

    // The selection follows the newest row; go up to bob's and open it.
    tmux('send-keys', '-t', session, 'Up')
    tmux('send-keys', '-t', session, 'Enter')
    const detail = await waitFor('the detail view', () => (screen().includes('bad-1') ? screen() : undefined))
    expect(detail).toContain('missing_required')
    expect(detail).toContain('properties.product_id')
    expect(detail).toContain('wrong_type')
    expect(detail).toContain('properties.price')

    tmux('send-keys', '-t', session, 'Escape')
    await waitFor('the list again', () => !screen().includes('bad-1') && screen().includes('bob'))
    tmux('send-keys', '-t', session, 'q')
    await waitFor('tail to exit', () => {
      try {
        tmux('has-session', '-t', session)
        return false
      } catch {
        return true
      }
    })
  })
})
