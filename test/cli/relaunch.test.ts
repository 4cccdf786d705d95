import {readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {binPath, runCli, startDaemonProcess} from '../helpers/cli.js'
import {cleanupsAfterEach} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const root = path.resolve(path.dirname(binPath), '..')

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function isRunning(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped by init) has no command line left.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0
  } catch {
    return false
  }
}

describe('commands that run functions, however node was started', () => {
  const cleanups = cleanupsAfterEach()

  function workspaceWithFunction(): string {
    const {dir, cleanup} = tempDir()
    cleanups.push(cleanup)
    mkdirSync(path.join(dir, 'functions'))
    writeFileSync(path.join(dir, 'functions', 'tag.js'), 'async function onTrack(event) { event.properties.tagged = true; return event }\n')
    writeFileSync(path.join(dir, 'event.json'), JSON.stringify({type: 'track', event: 'A', userId: 'u', properties: {}}))
    return dir
  }

  it('node bin/run.js, node --no-node-snapshot bin/run.js and an npm script all run a function', async () => {
    const dir = workspaceWithFunction()
    const args = ['fn', 'run', path.join(dir, 'functions', 'tag.js'), '--event', path.join(dir, 'event.json'), '--json']
    const env = {NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}
    // Plain node: the command starts itself again with the flag isolated-vm needs
    const plain = await runCli(args)
    // Already started with the flag: it runs at once
    const flagged = await execa('node', ['--no-node-snapshot', binPath, ...args], {env, reject: false})
    // An npm script (package.json's "cdp": "node bin/run.js")
    const script = await execa('npm', ['run', '--silent', 'cdp', '--', ...args], {cwd: root, env, reject: false})
    for (const result of [plain, flagged, script]) {
      expect(result.exitCode).toBe(0)
      expect(JSON.parse(result.stdout).outcomes[0]).toMatchObject({result: 'changed', events: [{properties: {tagged: true}}]})
    }
  })

  it('the launcher passes SIGTERM on and exits as its child did; killed with SIGKILL, its child goes too', async () => {
    const dir = workspaceWithFunction()
    writeConfig(dir, {sources: testSources})
    // SIGTERM: the daemon inside stops cleanly and the launcher exits 0
    const daemon = await startDaemonProcess(dir)
    const [inner] = childrenOf(daemon.child.pid as number)
    expect(inner).toBeGreaterThan(0)
    expect(JSON.parse(readFileSync(path.join(dir, '.cdp', 'daemon.json'), 'utf8')).pid).toBe(daemon.child.pid)
    expect(await daemon.stop('SIGTERM')).toBe(0)
    expect(isRunning(inner)).toBe(false)

    // SIGKILL of the launcher: the daemon inside dies with it, and the store is free again
    const killed = await startDaemonProcess(dir)
    const [killedInner] = childrenOf(killed.child.pid as number)
    killed.child.kill('SIGKILL')
    expect((await killed.child).signal).toBe('SIGKILL')
    await waitFor('the relaunched daemon to die with its launcher', () => !isRunning(killedInner), 5_000)
    // SIGINT (a terminal's Ctrl-C reaches only the launcher's process group): passed on once, a clean stop
    const next = await startDaemonProcess(dir)
    expect(await next.stop('SIGINT')).toBe(0)
    expect(next.stderr()).toContain('SIGINT: finishing in-flight requests and closing the store')
  })

  it('an exit code other than 0 comes through the launcher', async () => {
    const result = await runCli(['fn', 'run', '/nonexistent/fn.js', '--event', '/nonexistent/event.json'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('/nonexistent')
  })
})
