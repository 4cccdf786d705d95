import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {UserError} from '../../src/errors.js'
import {silentLogger} from '../../src/log.js'
import {startDev} from '../../src/services/dev.js'
import {StoreLock} from '../../src/store/store-lock.js'
import {runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let daemons: (DaemonProcess | TestDaemon)[] = []
let cleanups: (() => void)[] = []

afterEach(async () => {
  for (const daemon of daemons) {
    if ('child' in daemon) await daemon.stop()
    else await daemon.close()
  }
  for (const cleanup of cleanups) cleanup()
  daemons = []
  cleanups = []
})

/** A workspace whose events are also appended to events.ndjson: each one must be there once. */
function workspace(): string {
  const {dir, cleanup} = tempDir()
  cleanups.push(cleanup)
  writeConfig(dir, {sources: testSources, destinations: [{name: 'archive', type: 'file', path: 'events.ndjson'}]})
  return dir
}

function fileLines(dir: string): string[] {
  try {
    return readFileSync(path.join(dir, 'events.ndjson'), 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

describe('one daemon per store', () => {
  it('a second cdp dev on the same workspace exits 3 naming the first one; the first and the readers carry on', async () => {
    // Given cdp dev running in a workspace
    const dir = workspace()
    const first = await startDaemonProcess(dir)
    daemons.push(first)
    const pid = first.child.pid

    // When a second cdp dev starts on it
    const second = await runCli(['dev', '--port', '0', '--dir', dir])

    // Then it refuses, saying which daemon holds the store and what to do
    expect(second.exitCode).toBe(3)
    expect(second.stderr).toBe(
      `Error: cdp dev is already running in ${dir} (pid ${pid}, ${first.url}); one daemon per store, or every event would be delivered twice.\n` +
        `Try: Use the running one (\`cdp tail\` follows its events), stop it first (kill ${pid}), or start this one on another workspace with --dir.`,
    )
    expect(second.stdout).toBe('')
    // and the first goes on: its daemon.json is untouched, it stores and delivers each event once
    expect(JSON.parse(readFileSync(path.join(dir, '.cdp', 'daemon.json'), 'utf8'))).toMatchObject({url: first.url, pid})
    for (let i = 0; i < 5; i++) expect((await post(`${first.url}/v1/track`, {userId: 'u', event: 'Once', messageId: `once-${i}`}, {writeKey})).status).toBe(200)
    await waitFor('5 lines in the file', () => fileLines(dir).length >= 5)
    // while the readers read beside it
    for (const command of [['events'], ['violations'], ['deliveries']]) {
      const reader = await runCli([...command, '--json', '--dir', dir])
      expect(reader.exitCode, `${command[0]}: ${reader.stderr}`).toBe(0)
    }
    const events = await runCli(['events', '--json', '--dir', dir])
    expect((JSON.parse(events.stdout) as {messageId: string}[]).map((m) => m.messageId)).toEqual(['once-0', 'once-1', 'once-2', 'once-3', 'once-4'])
    expect(await first.stop()).toBe(0)
    expect(fileLines(dir).map((line) => JSON.parse(line).messageId)).toEqual(['once-0', 'once-1', 'once-2', 'once-3', 'once-4'])
  })

  it('a daemon killed with SIGKILL leaves no lock behind: the next one takes the store over', async () => {
    // Given a daemon killed without a chance to clean up (its daemon.json stays)
    const dir = workspace()
    const killed = await startDaemonProcess(dir)
    expect((await post(`${killed.url}/v1/track`, {userId: 'u', event: 'Before', messageId: 'before'}, {writeKey})).status).toBe(200)
    killed.child.kill('SIGKILL')
    expect((await killed.child).signal).toBe('SIGKILL')
    expect(JSON.parse(readFileSync(path.join(dir, '.cdp', 'daemon.json'), 'utf8')).pid).toBe(killed.child.pid)

    // When cdp dev starts again
    const next = await startDaemonProcess(dir)
    daemons.push(next)

    // Then it runs on the same store, and says so in daemon.json
    expect(JSON.parse(readFileSync(path.join(dir, '.cdp', 'daemon.json'), 'utf8'))).toMatchObject({url: next.url, pid: next.child.pid})
    expect((await post(`${next.url}/v1/track`, {userId: 'u', event: 'After', messageId: 'after'}, {writeKey})).status).toBe(200)
    const events = await runCli(['events', '--json', '--dir', dir])
    expect((JSON.parse(events.stdout) as {messageId: string}[]).map((m) => m.messageId)).toEqual(['before', 'after'])
    expect(await next.stop()).toBe(0)
  })

  it('refuses a second daemon in the same process, and starts one once the first has stopped', async () => {
    // Given a daemon in this process
    const first = await startTestDaemon()
    daemons.push(first)

    // When another starts on the same workspace, it is refused with exit code 3
    const refused = await startDev({dir: first.dir, port: 0, host: '127.0.0.1', log: silentLogger}).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(UserError)
    expect(refused).toMatchObject({
      exitCode: 3,
      code: 'daemon_running',
      message: `cdp dev is already running in ${first.dir} (pid ${process.pid}, ${first.url}); one daemon per store, or every event would be delivered twice.`,
    })
    // and the first still stores events
    expect((await post(`${first.url}/v1/track`, {userId: 'u', event: 'Still Here'}, {writeKey})).status).toBe(200)

    // Then once the first stops, the lock is free again
    await first.daemon.stop()
    const next = await startDev({dir: first.dir, port: 0, host: '127.0.0.1', log: silentLogger})
    try {
      expect((await post(`${next.url}/v1/track`, {userId: 'u', event: 'Next'}, {writeKey})).status).toBe(200)
    } finally {
      await next.stop()
    }
  })

  it('refuses while another daemon holds the store but has not said where it listens yet', async () => {
    // Given the store locked by a daemon that is still starting, and a daemon.json left by a dead one
    const dir = workspace()
    mkdirSync(path.join(dir, '.cdp'))
    writeFileSync(path.join(dir, '.cdp', 'daemon.json'), JSON.stringify({url: 'http://127.0.0.1:1', pid: 999_999_999, startedAt: '2024-01-01T00:00:00Z'}))
    const starting = StoreLock.tryAcquire(path.join(dir, '.cdp', 'daemon.lock'))!
    try {
      // When cdp dev starts, Then it is refused without naming the dead daemon
      const result = await runCli(['dev', '--port', '0', '--dir', dir])
      expect(result.exitCode).toBe(3)
      expect(result.stderr).toBe(
        `Error: Another cdp dev holds the event store in ${dir} (it is still starting, or ${path.join(dir, '.cdp', 'daemon.json')} is missing).\n` +
          'Try: Use the running one (`cdp tail` follows its events), stop it first, or start this one on another workspace with --dir.',
      )
    } finally {
      starting.release()
    }
  })
})
