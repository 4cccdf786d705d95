import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {getJson, post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let daemon: DaemonProcess | undefined
let sink: Sink | undefined
let cleanup: (() => void) | undefined

afterEach(async () => {
  if (daemon) await daemon.stop()
  await sink?.close()
  cleanup?.()
  daemon = sink = cleanup = undefined
})

function workspace(destination: Record<string, unknown>): string {
  const created = tempDir()
  cleanup = created.cleanup
  writeConfig(created.dir, {sources: testSources, destinations: [destination]})
  return created.dir
}

/** 5 users × 4 events each, interleaved. */
const sent = Array.from({length: 20}, (_, i) => ({userId: `user-${i % 5}`, event: 'Crash Recovery', messageId: `cr-${i}`, properties: {n: i}}))

async function sendAll(url: string): Promise<void> {
  for (const message of sent) expect((await post(`${url}/v1/track`, message, {writeKey})).status).toBe(200)
}

async function killHard(process: DaemonProcess): Promise<void> {
  process.child.kill('SIGKILL')
  const result = await process.child
  expect(result.signal).toBe('SIGKILL')
}

async function deliveriesJson(dir: string): Promise<any> {
  const result = await runCli(['deliveries', '--dir', dir, '--json'])
  expect(result.exitCode, result.stderr).toBe(0)
  return JSON.parse(result.stdout)
}

/** Each event's first arrival, in arrival order (at-least-once: a resend may follow). */
function firstArrivals(target: Sink): Record<string, any>[] {
  const seen = new Set<string>()
  return target.accepted().filter((m) => !seen.has(m.messageId) && seen.add(m.messageId))
}

function expectEveryUserInOrder(arrivals: Record<string, any>[]): void {
  for (let user = 0; user < 5; user++) {
    const ns = arrivals.filter((m) => m.userId === `user-${user}`).map((m) => m.properties.n)
    expect(ns, `user-${user}`).toEqual([user, user + 5, user + 10, user + 15])
  }
}

describe('SIGKILL of cdp dev with deliveries pending', () => {
  it('delivers events that were failing (retrying and held) after a restart', async () => {
    // Given a webhook destination that answers 503 to everything
    sink = await startSink(() => ({status: 503, body: 'maintenance'}))
    const dir = workspace({name: 'hook', type: 'webhook', url: sink.url, retry: {initialDelayMs: 100, maxDelayMs: 300}})
    daemon = await startDaemonProcess(dir)
    await sendAll(daemon.url)
    await waitFor('every event retrying or held', async () => {
      const report = await getJson(`${daemon!.url}/api/deliveries`)
      const [hook] = report.body.destinations
      return hook.retrying > 0 && hook.retrying + hook.pending === 20
    })

    // When the daemon is killed without warning
    await killHard(daemon)
    daemon = undefined
    // the store says what is left to do
    const before = await deliveriesJson(dir)
    expect(before.destinations[0]).toMatchObject({name: 'hook', delivered: 0, dead: 0})
    expect(before.destinations[0].retrying + before.destinations[0].pending).toBe(20)
    expect(sink.accepted()).toEqual([])

    // and it starts again once the destination is back
    sink.answerWith(() => ({status: 200}))
    daemon = await startDaemonProcess(dir)

    // Then every event arrives, each user's in order
    await waitFor('all 20 events at the sink', () => firstArrivals(sink!).length === 20)
    const arrivals = firstArrivals(sink)
    expect(arrivals.map((m) => m.messageId).sort()).toEqual(sent.map((m) => m.messageId).sort())
    expectEveryUserInOrder(arrivals)
    await waitFor('the report to settle', async () => {
      const report = await getJson(`${daemon!.url}/api/deliveries`)
      return report.body.destinations[0].delivered === 20
    })
    const after = (await getJson(`${daemon.url}/api/deliveries`)).body
    expect(after.destinations[0]).toMatchObject({delivered: 20, pending: 0, retrying: 0, dead: 0, successRate: 1})
    expect(after.records).toEqual([])
  })

  it('sends again what was in flight when it died', async () => {
    // Given a destination that takes the requests and never answers
    sink = await startSink(() => 'hang')
    const dir = workspace({name: 'hook', type: 'webhook', url: sink.url, batchSize: 5, concurrency: 2, timeoutMs: 60_000})
    daemon = await startDaemonProcess(dir)
    // in one request, so that the first round takes two lanes of five
    expect((await post(`${daemon.url}/v1/batch`, {batch: sent.map((m) => ({type: 'track', ...m}))}, {writeKey})).status).toBe(200)
    await waitFor('two batches in flight', () => sink!.requests.length === 2)

    // When the daemon is killed mid-send
    await killHard(daemon)
    daemon = undefined
    const before = await deliveriesJson(dir)
    expect(before.destinations[0]).toMatchObject({delivered: 0, pending: 20, retrying: 0, dead: 0})

    // Then after a restart every event arrives, each user's in order
    sink.answerWith(() => ({status: 200}))
    daemon = await startDaemonProcess(dir)
    await waitFor('all 20 events accepted', () => firstArrivals(sink!).length === 20)
    expectEveryUserInOrder(firstArrivals(sink))
    await waitFor('20 delivered', async () => (await getJson(`${daemon!.url}/api/deliveries`)).body.destinations[0].delivered === 20)
  })

  it('keeps delivering to a file after a kill: every event is in it, none lost', async () => {
    const dir = workspace({name: 'archive', type: 'file', path: 'events.ndjson'})
    daemon = await startDaemonProcess(dir)
    await sendAll(daemon.url)
    await killHard(daemon)
    daemon = await startDaemonProcess(dir)
    const more = Array.from({length: 5}, (_, i) => ({userId: 'late', event: 'After Restart', messageId: `late-${i}`}))
    for (const message of more) expect((await post(`${daemon.url}/v1/track`, message, {writeKey})).status).toBe(200)
    const ids = await waitFor('every event in the file', () => {
      const lines = readFileSync(path.join(dir, 'events.ndjson'), 'utf8').split('\n').filter(Boolean)
      const unique = new Set(lines.map((line) => JSON.parse(line).messageId as string))
      return unique.size === 25 ? unique : undefined
    })
    expect([...ids].sort()).toEqual([...sent, ...more].map((m) => m.messageId).sort())
  })
})
