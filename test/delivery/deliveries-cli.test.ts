import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let dir: string
let cleanup: () => void
let sink: Sink
let rejecting = true

const config = () => ({
  sources: testSources,
  destinations: [
    {name: 'crm-hook', type: 'webhook', url: sink.url},
    {name: 'archive', type: 'file', path: 'events.ndjson'},
    {name: 'off', type: 'webhook', url: sink.url, enabled: false},
  ],
})

/** oclif's own messages come as " ›   " lines, wrapped; under vitest it also warns that it runs dist/. */
function plainStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/Could not find source for|tsconfig\. Defaulting to compiled source/.test(line))
    .map((line) => line.replace(/^ ›\s+/, ''))
    .join('\n')
}

/** The human table with its latency column (which varies run to run) as <latency>. */
function withoutLatency(stdout: string): string {
  return stdout.replace(/ +\d+ \/ \d+ ms$/gm, ' <latency>')
}

async function startDaemon(): Promise<TestDaemon> {
  return startTestDaemon({dir, config: config()})
}

beforeAll(async () => {
  // Given a daemon that delivered three events to a webhook (one refused with 422, so
  // dead-lettered at once) and to a file, and then stopped
  ;({dir, cleanup} = tempDir())
  sink = await startSink((request) =>
    rejecting && JSON.parse(request.body).messageId === 'bad-1' ? {status: 422, body: '{"error":"email is invalid"}'} : {status: 200},
  )
  const daemon = await startDaemon()
  for (const id of ['ok-1', 'bad-1', 'ok-2']) {
    expect((await post(`${daemon.url}/v1/track`, {userId: `user-${id}`, event: 'Signed Up', messageId: id}, {writeKey})).status).toBe(200)
  }
  await waitFor('every delivery settled', async () => {
    const [hook, archive] = (await getJson(`${daemon.url}/api/deliveries`)).body.destinations
    return hook.delivered === 2 && hook.dead === 1 && archive.delivered === 3
  })
  await daemon.close()
})
afterAll(async () => {
  await sink?.close()
  cleanup?.()
})

describe('cdp deliveries against a stopped daemon\'s store', () => {
  it('prints a line per destination and the failed deliveries with their last error', async () => {
    const result = await runCli(['deliveries', '--dir', dir])
    expect(result.exitCode).toBe(0)
    expect(withoutLatency(result.stdout)).toBe(
      [
        'destination       type      delivered  pending  retrying   dead  success  latency p50 / p99',
        'crm-hook          webhook           2        0         0      1    66.7% <latency>',
        'archive           file              3        0         0      0     100% <latency>',
        'off (disabled)    webhook           0        0         0      0        -                  -',
        '',
        '1 failed delivery (retrying or dead):',
        '#1     crm-hook       dead      Signed Up              bad-1 1 attempt 422 {"error":"email is invalid"}',
        '',
        'Send dead-lettered events again with `cdp deliveries retry`.',
      ].join('\n'),
    )
  })

  it('--json prints the same report as data', async () => {
    const result = await runCli(['deliveries', '--dir', dir, '--json'])
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout)
    const latency = {p50: expect.any(Number), p99: expect.any(Number)}
    expect(report.destinations).toEqual([
      {
        name: 'crm-hook',
        type: 'webhook',
        enabled: true,
        delivered: 2,
        pending: 0,
        pendingCapped: false,
        retrying: 0,
        dead: 1,
        failedAttempts: 1,
        successRate: 2 / 3,
        latencyMs: latency,
        lastDeliveredAt: expect.any(String),
      },
      {
        name: 'archive',
        type: 'file',
        enabled: true,
        delivered: 3,
        pending: 0,
        pendingCapped: false,
        retrying: 0,
        dead: 0,
        failedAttempts: 0,
        successRate: 1,
        latencyMs: latency,
        lastDeliveredAt: expect.any(String),
      },
      {
        name: 'off',
        type: 'webhook',
        enabled: false,
        delivered: 0,
        pending: 0,
        pendingCapped: false,
        retrying: 0,
        dead: 0,
        failedAttempts: 0,
        successRate: null,
        latencyMs: null,
        lastDeliveredAt: null,
      },
    ])
    for (const destination of report.destinations.slice(0, 2)) expect(destination.latencyMs.p99).toBeGreaterThanOrEqual(destination.latencyMs.p50)
    expect(report.records).toEqual([
      {
        id: 1,
        destination: 'crm-hook',
        seq: 2,
        messageId: 'bad-1',
        type: 'track',
        event: 'Signed Up',
        userKey: 'user-bad-1',
        status: 'dead',
        attempts: 1,
        nextAttemptAt: 0,
        lastStatus: 422,
        lastError: 'HTTP 422: {"error":"email is invalid"}',
        history: [{at: expect.any(String), ms: expect.any(Number), status: 422, error: 'HTTP 422: {"error":"email is invalid"}'}],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ])
  })

  it('--destination and --status choose the destinations and records shown', async () => {
    const archive = await runCli(['deliveries', '--dir', dir, '--destination', 'archive', '--json'])
    expect(archive.exitCode).toBe(0)
    expect(JSON.parse(archive.stdout)).toEqual({destinations: [expect.objectContaining({name: 'archive', delivered: 3})], records: []})

    const none = await runCli(['deliveries', '--dir', dir, '--destination', 'archive'])
    expect(withoutLatency(none.stdout).split('\n').slice(-1)).toEqual(['No failed deliveries (retrying or dead).'])

    const pending = await runCli(['deliveries', '--dir', dir, '--status', 'pending'])
    expect(pending.exitCode).toBe(0)
    expect(pending.stdout.split('\n').slice(-1)).toEqual(['No pending deliveries.'])
  })

  it('--destination with a name cdp.json does not have is an error listing the names it has', async () => {
    for (const command of [['deliveries'], ['deliveries', 'retry']]) {
      const result = await runCli([...command, '--dir', dir, '--destination', 'nope'])
      expect(result.exitCode, command.join(' ')).toBe(1)
      expect(result.stdout).toBe('')
      expect(plainStderr(result.stderr).trim().split('\n')).toEqual(['Error: No destination named "nope".', 'Try: cdp.json has: crm-hook, archive, off.'])
    }
  })

  it('--status with a value it does not know is a usage error (exit 2)', async () => {
    const result = await runCli(['deliveries', '--dir', dir, '--status', 'bogus'])
    expect(result.exitCode).toBe(2)
    expect(result.stdout).toBe('')
    expect(plainStderr(result.stderr).replace(/\s*\n\s*/g, ' ')).toContain('Error: Expected --status=bogus to be one of: pending, retrying, dead, delivered')
  })

  it('a workspace whose daemon never ran has no store to read', async () => {
    const empty = tempDir()
    try {
      writeConfig(empty.dir, config())
      const result = await runCli(['deliveries', '--dir', empty.dir])
      expect(result.exitCode).toBe(1)
      expect(plainStderr(result.stderr)).toContain(`Error: No event store at ${empty.dir}/.cdp/cdp.sqlite.`)
      const retried = await runCli(['deliveries', 'retry', '--dir', empty.dir])
      expect(retried.exitCode).toBe(1)
      expect(plainStderr(retried.stderr)).toContain(`Error: No event store at ${empty.dir}/.cdp/cdp.sqlite: nothing was delivered here yet.`)
    } finally {
      empty.cleanup()
    }
  })

  it('`cdp deliveries retry` with no daemon running queues dead-lettered events in the store; the next cdp dev sends them', async () => {
    // When retry runs with no daemon
    const retried = await runCli(['deliveries', 'retry', '--dir', dir])
    expect(retried.exitCode).toBe(0)
    expect(retried.stdout).toBe('1 dead-lettered event queued again; they go when `cdp dev` next starts. Follow with `cdp deliveries`.')

    // Then the store has it queued, with its history kept and its attempts counted from 0
    const queued = JSON.parse((await runCli(['deliveries', '--dir', dir, '--status', 'retrying', '--json'])).stdout)
    expect(queued.destinations[0]).toMatchObject({name: 'crm-hook', retrying: 1, dead: 0})
    expect(queued.records).toEqual([expect.objectContaining({messageId: 'bad-1', status: 'retrying', attempts: 0, lastStatus: 422})])
    expect(queued.records[0].history).toHaveLength(1)
    const again = await runCli(['deliveries', 'retry', '--dir', dir, '--json'])
    expect(JSON.parse(again.stdout)).toEqual({retried: 0, viaDaemon: false})

    // And a daemon started later delivers it
    rejecting = false
    const before = sink.requests.length
    const daemon = await startDaemon()
    try {
      await waitFor('bad-1 delivered', () => sink.requests.slice(before).some((r) => r.answered === 200 && JSON.parse(r.body).messageId === 'bad-1'))
      const report = await waitFor('the delivered record', async () => {
        const answer = await getJson(`${daemon.url}/api/deliveries?status=delivered`)
        return answer.body.records.length === 1 ? answer.body : undefined
      })
      expect(report.destinations[0]).toMatchObject({name: 'crm-hook', delivered: 3, dead: 0, retrying: 0, successRate: 1})
      expect(report.records[0]).toMatchObject({messageId: 'bad-1', status: 'delivered', attempts: 1})
      expect(report.records[0].history.map((h: {status?: number}) => h.status ?? 'ok')).toEqual([422, 'ok'])
      // Nothing else was sent again.
      expect(sink.requests.slice(before).map((r) => JSON.parse(r.body).messageId)).toEqual(['bad-1'])
    } finally {
      await daemon.close()
    }
  })
})
