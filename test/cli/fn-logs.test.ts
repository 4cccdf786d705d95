import {execa} from 'execa'
import {afterEach, describe, expect, it} from 'vitest'
import {workspacePaths} from '../../src/config/workspace.js'
import type {FunctionRunRecord} from '../../src/functions/types.js'
import {silentLogger} from '../../src/log.js'
import type {FunctionRunBatch} from '../../src/store/function-runs.js'
import {openStorage} from '../../src/store/open-storage.js'
import {binPath, runCli} from '../helpers/cli.js'
import {cleanupsAfterEach} from '../helpers/daemon.js'
import {waitFor} from '../helpers/wait.js'
import {tempFolder} from '../helpers/workspace.js'

const cleanups = cleanupsAfterEach()
const workspace = () => tempFolder(cleanups)

const hashed: FunctionRunRecord = {
  at: '2026-03-01T12:00:00.001Z',
  function: 'hash-email',
  kind: 'insert',
  stage: 'source',
  target: 'web',
  messageId: 'msg-1',
  result: 'changed',
  console: [
    {level: 'log', message: 'hashing jane@example.com'},
    {level: 'warn', message: 'no email on\u001b[2J this one'},
  ],
  ms: 0.84,
}

const retry: FunctionRunRecord = {
  at: '2026-03-01T12:00:01.500Z',
  function: 'crm',
  kind: 'destination',
  stage: 'destination',
  target: 'crm',
  messageId: 'msg-2',
  result: 'error',
  errorClass: 'RetryError',
  message: 'the CRM answered 503',
  console: [],
  ms: 12.3,
}

const dropped: FunctionRunRecord = {
  at: '2026-03-01T12:00:02.000Z',
  function: 'hash-email',
  kind: 'insert',
  stage: 'destination',
  target: 'warehouse',
  messageId: 'msg-3',
  result: 'dropped',
  message: 'DropEvent: internal traffic',
  console: [],
  ms: 0.2,
}

const webhook: FunctionRunRecord = {at: '2026-03-01T12:00:03.000Z', function: 'stripe', kind: 'source', stage: 'request', target: 'stripe', result: 'emitted', message: '2 messages', console: [], ms: 4}

/** Writes records as the daemon does, through the store's daemon role, and closes it. */
async function writeRecords(dir: string, batch: FunctionRunBatch): Promise<void> {
  const storage = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger})
  try {
    await storage.functionRuns.append(batch)
  } finally {
    await storage.close()
  }
}

describe('cdp fn logs', () => {
  it('prints the newest records, oldest first, with console lines escaped', async () => {
    // Given a workspace whose daemon kept four records
    const dir = workspace()
    await writeRecords(dir, {runs: [hashed, retry, dropped, webhook], counts: []})

    // When every function's records are asked for
    const all = await runCli(['fn', 'logs', '--dir', dir])

    // Then each is a line, its console lines under it
    expect(all.exitCode).toBe(0)
    expect(all.stdout).toBe(
      [
        '2026-03-01T12:00:00.001Z  hash-email  source web  changed  msg-1  0.8 ms',
        '    log    hashing jane@example.com',
        '    warn   no email on\\e[2J this one',
        '2026-03-01T12:00:01.500Z  crm  destination crm  error RetryError: the CRM answered 503  msg-2  12 ms',
        '2026-03-01T12:00:02.000Z  hash-email  destination warehouse  dropped DropEvent: internal traffic  msg-3  0.2 ms',
        '2026-03-01T12:00:03.000Z  stripe  request stripe  emitted 2 messages  4.0 ms',
      ].join('\n'),
    )

    // And one function's newest, as JSON
    const one = await runCli(['fn', 'logs', 'hash-email', '--limit', '1', '--json', '--dir', dir])
    expect(one.exitCode).toBe(0)
    expect(JSON.parse(one.stdout)).toEqual([{id: 3, ...dropped}])
  })

  it('says why a function has no records, and exits 0', async () => {
    // Given a workspace whose daemon counted 12 plain runs of hash-email and kept none
    const dir = workspace()
    await writeRecords(dir, {runs: [], counts: [{function: 'hash-email', stage: 'source', target: 'web', result: 'unchanged', count: 12}]})

    // When hash-email's and another name's records are asked for
    const counted = await runCli(['fn', 'logs', 'hash-email', '--dir', dir])
    const unknown = await runCli(['fn', 'logs', 'nope', '--json', '--dir', dir])

    // Then each says so on stderr, with nothing (an empty list) on stdout
    expect([counted.exitCode, counted.stdout, counted.stderr]).toEqual([
      0,
      '',
      'No run of "hash-email" had console lines, an error or a drop (12 runs counted; `cdp deliveries` shows them by result).',
    ])
    expect([unknown.exitCode, JSON.parse(unknown.stdout), unknown.stderr]).toEqual([0, [], 'No run of "nope" was recorded in this workspace yet.'])
  })

  it('refuses a workspace with no store', async () => {
    // Given a workspace where cdp dev never ran
    const dir = workspace()

    // When its logs are asked for, then the error says what to do
    const result = await runCli(['fn', 'logs', '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/^Error: No event store at .*cdp\.sqlite\.\nTry: Start the daemon with `cdp dev`/)
  })

  it('--follow prints new records as they are written, as JSON lines, until SIGTERM', async () => {
    // Given a workspace with one record, and a follower of hash-email
    const dir = workspace()
    await writeRecords(dir, {runs: [hashed], counts: []})
    const child = execa('node', [binPath, 'fn', 'logs', 'hash-email', '--follow', '--json', '--dir', dir], {
      env: {NO_COLOR: '1', CDP_LOG: 'warn', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', NODE_ENV: 'production'},
      reject: false,
      buffer: false,
    })
    cleanups.push(() => void child.kill('SIGKILL'))
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    await waitFor('the first record', () => stdout.includes('\n'))

    // When the daemon writes three more, one of another function
    await writeRecords(dir, {runs: [retry, dropped, {...hashed, at: '2026-03-01T12:00:04.000Z', messageId: 'msg-4'}], counts: []})
    await waitFor('the new records', () => stdout.split('\n').length === 4)
    child.kill('SIGTERM')
    const result = await child

    // Then hash-email's records came one per line, and it stopped cleanly
    expect(result.exitCode).toBe(0)
    expect(stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {id: number; messageId: string})).toEqual([
      {id: 1, ...hashed},
      {id: 3, ...dropped},
      {id: 4, ...hashed, at: '2026-03-01T12:00:04.000Z', messageId: 'msg-4'},
    ])
  })
})
