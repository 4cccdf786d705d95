import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {binPath, runCli, startDaemonProcess} from '../helpers/cli.js'
import {cleanupsAfterEach, startTestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempFolder, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
const fastRetry = {maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50}

type Cleanups = ReturnType<typeof cleanupsAfterEach>

/** A track event at a given day and hour of May 2024, from one of a few users. */
function track(n: number, event: string, day: number, extra: Record<string, unknown> = {}) {
  return {type: 'track', event, userId: `user-${n % 5}`, messageId: `m-${n}`, timestamp: `2024-05-0${day}T${String(n % 24).padStart(2, '0')}:00:00.000Z`, properties: {n}, ...extra}
}

function identify(n: number, day: number) {
  return {type: 'identify', userId: `user-${n % 5}`, messageId: `i-${n}`, timestamp: `2024-05-0${day}T12:30:00.000Z`, traits: {plan: 'pro'}}
}

/** Stores the messages through a real daemon (POST /v1/batch), which then stops: the store stays in the workspace. */
async function storeEvents(dir: string, messages: Record<string, unknown>[]): Promise<void> {
  writeConfig(dir, {sources: testSources})
  const daemon = await startTestDaemon({dir})
  try {
    for (let i = 0; i < messages.length; i += 100) {
      const answer = await post(`${daemon.url}/v1/batch`, {batch: messages.slice(i, i + 100)}, {writeKey})
      expect(answer.status).toBe(200)
    }
  } finally {
    await daemon.close()
  }
}

async function sinkFor(cleanups: Cleanups, answer?: Parameters<typeof startSink>[0]): Promise<Sink> {
  const sink = await startSink(answer)
  cleanups.push(() => sink.close())
  return sink
}

/** The workspace's cdp.json with a webhook destination "hook" to the sink (and what else is given). */
function configure(dir: string, sink: Sink, hook: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): void {
  writeConfig(dir, {sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: sink.url, retry: fastRetry, ...hook}], ...extra})
}

function parseJson(stdout: string): any {
  try {
    return JSON.parse(stdout)
  } catch (error) {
    throw new Error(`stdout is not one JSON document: ${(error as Error).message}\n${stdout}`)
  }
}

function countsById(messages: Record<string, any>[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const message of messages) counts.set(message.messageId, (counts.get(message.messageId) ?? 0) + 1)
  return counts
}

describe('cdp replay', () => {
  const cleanups = cleanupsAfterEach()

  it('replays a filtered range of the store: exactly the selected events, once each, with their ids and timestamps, and only the target in integrations', async () => {
    // Given 40 stored events over three days: tracks of three names and identifies
    const dir = tempFolder(cleanups)
    const names = ['Order Completed', 'Product Viewed', 'Signed Up']
    const messages = [...Array.from({length: 30}, (_, n) => track(n, names[n % 3], 1 + (Math.floor(n / 3) % 3))), ...Array.from({length: 10}, (_, n) => identify(n, 1 + (n % 3)))]
    await storeEvents(dir, messages)
    const sink = await sinkFor(cleanups)
    configure(dir, sink, {batchSize: 5, enabled: false})

    // When Order Completed and Signed Up tracks of May 2 are replayed (the destination disabled for live traffic)
    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--since', '2024-05-02', '--until', '2024-05-03T00:00:00Z', '--event', 'Order Completed', '--event', 'Signed Up', '--type', 'track', '--json'])

    // Then it completes, and the sink got exactly those events, once each
    expect(result.exitCode, result.stderr).toBe(0)
    const expected = messages.filter((m) => m.type === 'track' && (m as any).event !== 'Product Viewed' && m.timestamp.startsWith('2024-05-02'))
    expect(expected.length).toBeGreaterThan(3)
    const received = sink.accepted()
    expect([...countsById(received).entries()].sort()).toEqual(expected.map((m) => [m.messageId, 1]).sort())
    // With their original timestamps, and integrations naming only the target
    for (const message of received) {
      const original = expected.find((m) => m.messageId === message.messageId)!
      expect(message.timestamp).toBe(original.timestamp)
      expect(message.properties).toEqual((original as any).properties)
      expect(message.integrations).toEqual({All: false, hook: true})
    }
    // And the summary is one JSON document on stdout
    const summary = parseJson(result.stdout)
    expect(summary).toMatchObject({status: 'completed', destination: 'hook', counts: {sent: expected.length, failed: 0, corrupt: 0}})
    expect(summary.id).toMatch(/\S/)

    // And --list shows it, completed, with its counts
    const list = await runCli(['replay', '--dir', dir, '--list'])
    expect(list.exitCode, list.stderr).toBe(0)
    expect(list.stdout).toContain(summary.id)
    expect(list.stdout).toMatch(/completed/)
    const listJson = parseJson((await runCli(['replay', '--dir', dir, '--list', '--json'])).stdout)
    expect(listJson).toEqual([expect.objectContaining({id: summary.id, destination: 'hook', status: 'completed', counts: expect.objectContaining({sent: expected.length})})])
  })

  it('replays gzip NDJSON archives with a corrupt line in the middle: every other line delivered, the bad one reported with its file and line', async () => {
    // Given a folder of two gzip archives, the second with a line that is not JSON as its third line
    const dir = tempFolder(cleanups)
    const sink = await sinkFor(cleanups)
    configure(dir, sink, {batchSize: 10})
    const archive = path.join(dir, 'archive')
    mkdirSync(archive)
    const first = Array.from({length: 6}, (_, n) => track(n, 'Order Completed', 1))
    const second = Array.from({length: 6}, (_, n) => track(100 + n, 'Product Viewed', 2))
    writeFileSync(path.join(archive, 'a.ndjson.gz'), gzipSync(first.map((m) => JSON.stringify(m)).join('\n') + '\n'))
    const lines = second.map((m) => JSON.stringify(m))
    lines.splice(2, 0, '{"type": "track", "event": "Broken", ')
    writeFileSync(path.join(archive, 'b.ndjson.gz'), gzipSync(lines.join('\n') + '\n'))

    // When the folder is replayed
    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--from-file', archive])

    // Then it completes; every good line arrived once, and the bad one is reported with its line number
    expect(result.exitCode, result.stderr + result.stdout).toBe(0)
    const received = sink.accepted()
    expect([...countsById(received).keys()].sort()).toEqual([...first, ...second].map((m) => m.messageId).sort())
    expect(received.length).toBe(12)
    expect(received.every((m) => m.integrations?.All === false && m.integrations?.hook === true)).toBe(true)
    expect(result.stdout).toMatch(/corrupt line .*b\.ndjson\.gz:3/)
    expect(result.stdout).toMatch(/corrupt 1/)

    // And with --strict it stops at that line
    const strict = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--from-file', archive, '--strict', '--json'])
    expect(strict.exitCode).not.toBe(0)
    expect(strict.stdout + strict.stderr).toMatch(/b\.ndjson\.gz.*3|line 3/)
  })

  it('stops cleanly on SIGINT (exit 130, the id and how to resume), and --resume sends the rest without sending much twice', async () => {
    // Given 160 stored events and a replay held to 40 events/s
    const dir = tempFolder(cleanups)
    const messages = Array.from({length: 160}, (_, n) => track(n, 'Order Completed', 1 + (n % 3)))
    await storeEvents(dir, messages)
    const sink = await sinkFor(cleanups)
    configure(dir, sink, {batchSize: 5})
    const child = execa('node', [binPath, 'replay', '--dir', dir, '--destination', 'hook', '--rate', '40'], {
      env: {NO_COLOR: '1', CDP_LOG: 'warn', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
      reject: false,
    })

    // When it is interrupted part way
    await waitFor('40 events at the sink', () => sink.accepted().length >= 40, 20_000)
    child.kill('SIGINT')
    const interrupted = await child

    // Then it exits 130, saying the id and how to resume
    expect(interrupted.exitCode, String(interrupted.stderr)).toBe(130)
    const id = /cdp replay --resume (\S+)/.exec(String(interrupted.stdout))?.[1]
    expect(id, String(interrupted.stdout)).toBeDefined()
    // Not on a terminal, progress was a plain line on stderr every few seconds
    expect(String(interrupted.stderr)).toMatch(/replay r-\S+ · \d+ of 160 \(\d+%\) done · sent \d+ · failed 0 · skipped 0 · [\d.]+ events\/s/)
    const before = sink.accepted().length
    expect(before).toBeLessThan(160)
    const listed = parseJson((await runCli(['replay', '--dir', dir, '--list', '--json'])).stdout)
    expect(listed[0]).toMatchObject({id, status: 'interrupted'})

    // And --resume sends the rest: every event arrived, at most a few seconds' worth twice
    const resumed = await runCli(['replay', '--dir', dir, '--resume', id!, '--json'])
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    expect(parseJson(resumed.stdout)).toMatchObject({id, status: 'completed'})
    const counts = countsById(sink.accepted())
    expect(counts.size).toBe(160)
    const twice = [...counts.values()].filter((n) => n > 1).length
    expect(twice).toBeLessThanOrEqual(40 * 2)
    expect([...counts.values()].every((n) => n <= 2)).toBe(true)

    // And a completed replay cannot be resumed again
    const again = await runCli(['replay', '--dir', dir, '--resume', id!])
    expect(again.exitCode).toBe(2)
    expect(again.stderr).toMatch(/already completed/)
  })

  it('sends through the destination\'s insert function, which renames events', async () => {
    // Given a destination whose insert function renames signed_up, and stored events
    const dir = tempFolder(cleanups)
    await storeEvents(dir, [track(1, 'signed_up', 1), track(2, 'Order Completed', 1)])
    const sink = await sinkFor(cleanups)
    mkdirSync(path.join(dir, 'functions'))
    writeFileSync(path.join(dir, 'functions', 'rename.js'), `async function onTrack(event) { if (event.event === 'signed_up') event.event = 'Signed Up'; return event }`)
    configure(dir, sink, {insert: 'rename'}, {functions: [{name: 'rename', kind: 'insert'}]})

    // When they are replayed
    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--json'])

    // Then the sink got the renamed event and the other as it was
    expect(result.exitCode, result.stderr).toBe(0)
    expect(sink.accepted().map((m) => [m.messageId, m.event]).sort()).toEqual([['m-1', 'Signed Up'], ['m-2', 'Order Completed']])
    expect(parseJson(result.stdout).counts).toMatchObject({sent: 2, failed: 0})
  })

  it('--dry-run counts by type and event name and sends nothing', async () => {
    const dir = tempFolder(cleanups)
    await storeEvents(dir, [track(1, 'A', 1), track(2, 'A', 1), track(3, 'B', 1), identify(4, 1)])
    const sink = await sinkFor(cleanups)
    configure(dir, sink)

    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--dry-run', '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const summary = parseJson(result.stdout)
    expect(summary).toMatchObject({status: 'dry-run', wouldSend: {total: 4, byType: {track: 3, identify: 1}}})
    expect(summary.wouldSend.byEvent).toEqual(
      expect.arrayContaining([
        {type: 'track', event: 'A', count: 2},
        {type: 'track', event: 'B', count: 1},
        {type: 'identify', event: null, count: 1},
      ]),
    )
    const human = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--dry-run', '--type', 'track'])
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/Dry run.*3 events/)
    expect(human.stdout).toMatch(/A\s+2/)
    // Nothing was sent, and nothing recorded
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(sink.requests).toEqual([])
    expect(parseJson((await runCli(['replay', '--dir', dir, '--list', '--json'])).stdout)).toEqual([])
  })

  it('--rate holds its cap', async () => {
    // Given 500 archived events, a fast sink, and a cap of 200 events/s
    const dir = tempFolder(cleanups)
    const sink = await sinkFor(cleanups)
    configure(dir, sink, {batchSize: 10, concurrency: 4})
    const file = path.join(dir, 'events.ndjson')
    writeFileSync(file, Array.from({length: 500}, (_, n) => JSON.stringify(track(n, 'Tick', 1))).join('\n') + '\n')

    // When they are replayed at --rate 200
    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--from-file', file, '--rate', '200', '--json'])

    // Then all arrive, and no stretch of a second and more held much more than 200 a second
    expect(result.exitCode, result.stderr).toBe(0)
    expect(countsById(sink.accepted()).size).toBe(500)
    const times = sink.requests.flatMap((request) => Array.from({length: JSON.parse(request.body).length ?? 1}, () => request.at))
    const start = times[0]
    const end = times[times.length - 1]
    // 500 events at 200/s take about 2.5 s (a first burst allowed)
    expect(end - start).toBeGreaterThan(1800)
    for (let from = start; from + 1000 <= end; from += 250) {
      const inWindow = times.filter((at) => at >= from && at < from + 1000).length
      expect(inWindow).toBeLessThanOrEqual(200 * 1.1 + 10)
    }
  })

  it('stops a replay to a destination that keeps failing, status failed, nothing counted as sent', async () => {
    // Given a sink that always answers 500, and retries that never run out
    const dir = tempFolder(cleanups)
    await storeEvents(dir, Array.from({length: 20}, (_, n) => track(n, 'Order Completed', 1)))
    const sink = await sinkFor(cleanups, () => ({status: 500}))
    configure(dir, sink, {batchSize: 5, retry: {maxAttempts: 100, initialDelayMs: 10, maxDelayMs: 30}})

    // When replayed
    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--json'])

    // Then it stops, failed, with nothing sent, saying why
    expect(result.exitCode, result.stderr).toBe(1)
    const summary = parseJson(result.stdout)
    expect(summary).toMatchObject({status: 'failed', counts: {sent: 0, selected: 20}, notSent: 20})
    expect(summary.lastError).toMatch(/kept failing.*500/)
    expect(sink.requests.length).toBeGreaterThan(0)

    // And when events run out of attempts instead, they are counted as failed
    configure(dir, sink, {batchSize: 5, retry: {maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20}})
    const dead = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--json'])
    expect(dead.exitCode, dead.stderr).toBe(1)
    expect(parseJson(dead.stdout)).toMatchObject({status: 'failed', counts: {sent: 0, failed: 20}})
  })

  it('runs beside a running cdp dev: live delivery goes on, and its cursor does not move', async () => {
    // Given cdp dev delivering live to a sink, which has had 10 events
    const dir = tempFolder(cleanups)
    const sink = await sinkFor(cleanups)
    configure(dir, sink, {batchSize: 5})
    const daemon = await startDaemonProcess(dir)
    cleanups.push(async () => void (await daemon.stop()))
    const first = Array.from({length: 10}, (_, n) => track(n, 'Order Completed', 1))
    expect((await post(`${daemon.url}/v1/batch`, {batch: first}, {writeKey: daemon.writeKey})).status).toBe(200)
    await waitFor('10 live events at the sink', () => sink.accepted().length === 10, 10_000)

    // When they are replayed to the same destination while the daemon runs
    const result = await runCli(['replay', '--dir', dir, '--destination', 'hook', '--json'])

    // Then each arrives once more, marked for the target, and the live ones had the SDK's integrations
    expect(result.exitCode, result.stderr).toBe(0)
    expect(parseJson(result.stdout)).toMatchObject({status: 'completed', counts: {sent: 10, selected: 10}})
    const accepted = sink.accepted()
    expect(accepted).toHaveLength(20)
    expect(accepted.slice(10).every((m) => m.integrations?.All === false && m.integrations?.hook === true)).toBe(true)
    // And live delivery goes on from where it was: a new event arrives once
    expect((await post(`${daemon.url}/v1/batch`, {batch: [track(99, 'Signed Up', 1)]}, {writeKey: daemon.writeKey})).status).toBe(200)
    await waitFor('the new live event', () => sink.accepted().some((m) => m.messageId === 'm-99'), 10_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(sink.accepted()).toHaveLength(21)
  })

  it('refuses bad input with exit 2: an unknown destination (listing the known), an inverted range, an unreadable archive, a bad rate, an unknown id, --list with filters', async () => {
    const dir = tempFolder(cleanups)
    await storeEvents(dir, [track(1, 'A', 1)])
    const sink = await sinkFor(cleanups)
    writeConfig(dir, {sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: sink.url}, {name: 'lake', type: 'file', path: 'out.ndjson', enabled: false}]})

    // Each is its own CLI process (and relaunch): run side by side, so the test takes one's time, not their sum.
    const cli = (...args: string[]) => runCli(['replay', '--dir', dir, ...args])
    const [unknown, inverted, empty, missing, rate0, rateNegative, rateWord, noSuchId, listWithFilters, nothing] = await Promise.all([
      cli('--destination', 'nope'),
      cli('--destination', 'hook', '--since', '2024-05-03', '--until', '2024-05-01'),
      cli('--destination', 'hook', '--since', '2024-05-03', '--until', '2024-05-03'),
      cli('--destination', 'hook', '--from-file', path.join(dir, 'missing.ndjson.gz')),
      cli('--destination', 'hook', '--rate', '0'),
      cli('--destination', 'hook', '--rate', '-5'),
      cli('--destination', 'hook', '--rate', 'fast'),
      cli('--resume', 'r-nope'),
      cli('--list', '--destination', 'hook'),
      cli(),
    ])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toContain('destination "nope" is not in cdp.json')
    expect(unknown.stderr).toContain('hook, lake')
    expect(inverted.exitCode).toBe(2)
    expect(inverted.stderr).toMatch(/inverted/)
    expect(empty.exitCode).toBe(2)
    expect(empty.stderr).toMatch(/empty/)
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/cannot read archive .*missing\.ndjson\.gz/)
    for (const [rate, bad] of [['0', rate0], ['-5', rateNegative], ['fast', rateWord]] as const) {
      expect(bad.exitCode, rate).toBe(2)
      expect(bad.stderr).toMatch(/rate/)
    }
    expect(noSuchId.exitCode).toBe(2)
    expect(noSuchId.stderr).toMatch(/no replay "r-nope"/)
    expect(listWithFilters.exitCode).toBe(2)
    if (process.getuid?.() !== 0) {
      const locked = path.join(dir, 'locked.ndjson')
      writeFileSync(locked, JSON.stringify(track(1, 'A', 1)))
      chmodSync(locked, 0o000)
      const unreadable = await cli('--destination', 'hook', '--from-file', locked)
      expect(unreadable.exitCode).toBe(2)
      expect(unreadable.stderr).toMatch(/cannot read archive/)
    }
    expect(nothing.exitCode).toBe(2)

    // And nothing was sent or recorded by any of them
    expect(sink.requests).toEqual([])
    expect(parseJson((await runCli(['replay', '--dir', dir, '--list', '--json'])).stdout)).toEqual([])
  })
})
