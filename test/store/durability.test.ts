import {chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'
import {execa, type ResultPromise} from 'execa'
import {afterEach, describe, expect, it} from 'vitest'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {binPath, runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

/**
 * Root writes through any mode, so a read-only file is read-only only for someone else: run as
 * root (CI, containers), the CLI runs as the unprivileged user "nobody" in a workspace nobody owns,
 * which is what a developer's own workspace is to them. Run as anyone else, it runs as that user.
 */
const nobody = process.getuid?.() === 0 ? {uid: 65534, gid: 65534} : undefined

/** A workspace owned by the user the CLI runs as. */
function workspace(config: unknown = {sources: testSources}): {dir: string; cdp: string; database: string} {
  const {dir, cleanup} = tempDir()
  cleanups.push(() => {
    // A test may leave .cdp/ read-only; root removes it anyway, the owner after a chmod.
    if (existsSync(path.join(dir, '.cdp'))) chmodSync(path.join(dir, '.cdp'), 0o700)
    cleanup()
  })
  writeConfig(dir, config)
  return {dir, cdp: path.join(dir, '.cdp'), database: path.join(dir, '.cdp', 'cdp.sqlite')}
}

function handOver(root: string): void {
  if (!nobody) return
  const give = (file: string) => {
    chownSync(file, nobody.uid, nobody.gid)
    if (statSync(file).isDirectory()) for (const name of readdirSync(file)) give(path.join(file, name))
  }
  give(root)
}

const childEnv = (dir: string) => ({NO_COLOR: '1', CDP_LOG: 'info', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', NODE_ENV: 'production', HOME: dir})

/** `cdp ...` as the workspace's owner; waits for it to exit. */
async function runAsOwner(args: string[], dir: string): Promise<{exitCode: number; stdout: string; stderr: string}> {
  handOver(dir)
  const result = await execa('node', [binPath, ...args], {env: childEnv(dir), ...nobody, reject: false, timeout: 60_000})
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}

/** `cdp dev --json` as the workspace's owner, once it says it is ready. */
async function startDaemonAsOwner(dir: string): Promise<{url: string; child: ResultPromise; stderr: () => string}> {
  handOver(dir)
  const child = execa('node', [binPath, 'dev', '--port', '0', '--json', '--dir', dir], {env: childEnv(dir), ...nobody, reject: false, buffer: false})
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  cleanups.push(async () => {
    child.kill('SIGKILL')
    await child
  })
  const ready = await new Promise<{url: string}>((resolve, reject) => {
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes('\n')) resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))))
    })
    child.then((result) => reject(new Error(`cdp dev exited (${result.exitCode}) before it was ready: ${stderr}`)))
  })
  return {url: ready.url, child, stderr: () => stderr}
}

const notWritableHint = (cdp: string) => `Try: Make ${cdp} and the files in it writable by you (see \`ls -la ${cdp}\`), or use a workspace in a folder you can write (--dir).`

describe('nothing acknowledged and then lost', () => {
  it('a store deleted under the running daemon: ingest answers 503 saying why, the log says so once, delivery stops', async () => {
    // Given a daemon whose destination is down, an event retrying there
    const sink: Sink = await startSink(() => ({status: 500}))
    cleanups.push(() => sink.close())
    const {dir, database} = workspace({sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: sink.url, retry: {initialDelayMs: 20, maxDelayMs: 50}}]})
    const daemon: DaemonProcess = await startDaemonProcess(dir)
    cleanups.push(() => daemon.stop())
    expect((await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'Before', messageId: 'before'}, {writeKey})).status).toBe(200)
    await waitFor('retries at the destination', () => sink.requests.length >= 2)

    // When the store's files are deleted
    for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix)

    // Then an event is refused with 503, saying what happened and what to do
    const why =
      `The event store ${database} was deleted or replaced while cdp dev was running (cdp.sqlite is no longer the file it has open): nothing more can be stored.`
    const todo = 'Restart cdp dev: it starts a new, empty store (and with no cdp.json, a new write key for the default source).'
    for (const messageId of ['after-1', 'after-2']) {
      const answer = await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'After', messageId}, {writeKey})
      expect(answer.status).toBe(503)
      expect(answer.body).toEqual({success: false, code: 'store_unavailable', error: `${why} ${todo}`})
    }
    // and the log says it once
    const logged = `${why} Ingest answers 503 and delivery has stopped. ${todo}`
    await waitFor('the log line', () => daemon.stderr().includes(logged))
    expect(daemon.stderr().split(logged).length - 1).toBe(1)
    // and delivery has stopped: the destination, back up, gets nothing in twenty times its retry delay
    sink.answerWith(() => ({status: 200}))
    const requestsBefore = sink.requests.length
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(sink.requests.length).toBe(requestsBefore)
    expect(await daemon.stop()).toBe(0)
  })

  it('cdp dev exits 3 at start when .cdp/ cannot be written, naming it', async () => {
    // Given a workspace whose .cdp/ its owner cannot write
    const {dir, cdp, database} = workspace()
    mkdirSync(cdp)
    handOver(dir)
    chmodSync(cdp, 0o555)

    // When cdp dev starts, Then it stops at once with exit 3, naming the file and what to do
    const result = await runAsOwner(['dev', '--port', '0', '--dir', dir], dir)
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toBe(`Error: Cannot write the event store ${database}: EACCES: permission denied, open '${path.join(cdp, 'daemon.lock')}'.\n${notWritableHint(cdp)}`)
    expect(result.stdout).toBe('')
  })

  it('cdp dev exits 3 at start when the store file is read-only, instead of answering 500 to every event', async () => {
    // Given a workspace whose store its owner may read but not write
    const {dir, cdp, database} = workspace()
    new SqliteStore(database).close()
    handOver(dir)
    chmodSync(database, 0o444)

    // When cdp dev starts, Then it stops at once with exit 3
    const result = await runAsOwner(['dev', '--port', '0', '--dir', dir], dir)
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toBe(`Error: Cannot write the event store ${database}: attempt to write a readonly database.\n${notWritableHint(cdp)}`)
  })

  it('stops cleanly, store closed and exit 0, when daemon.json cannot be removed', async () => {
    // Given a running daemon with an event stored
    const {dir, cdp} = workspace()
    const daemon = await startDaemonAsOwner(dir)
    expect((await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'Kept', messageId: 'kept'}, {writeKey})).status).toBe(200)
    // and .cdp/ made read-only under it, so its daemon.json cannot be removed
    chmodSync(cdp, 0o500)

    // When it is stopped
    daemon.child.kill('SIGTERM')
    const result = await daemon.child

    // Then it says so and goes on to close the store and exit 0
    expect(result.exitCode).toBe(0)
    const daemonFile = path.join(cdp, 'daemon.json')
    expect(daemon.stderr()).toContain(`could not remove ${daemonFile} (EACCES: permission denied, unlink '${daemonFile}'); other commands check whether its pid still runs.`)
    expect(daemon.stderr()).toContain('cdp dev stopped.')
    chmodSync(cdp, 0o700)
    const events = await runCli(['events', '--json', '--dir', dir])
    expect((JSON.parse(events.stdout) as {messageId: string}[]).map((m) => m.messageId)).toEqual(['kept'])
  })
})
