import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {workspacePaths} from '../../src/config/workspace.js'
import {toNewEvent} from '../../src/pipeline/pipeline.js'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {tempDir, testSources} from '../helpers/workspace.js'

const key = testSources[0].writeKey
const hint = 'Give a span back from now such as 30s, 15m, 2h, 7d or 4w, or an ISO 8601 date or time such as 2024-05-01 or 2024-05-01T12:00:00Z.'
let t: TestDaemon

beforeAll(async () => {
  t = await startTestDaemon()
  expect((await post(`${t.url}/v1/track`, {userId: 'u', event: 'Kept', messageId: 'kept', timestamp: '2024-02-29T12:00:00Z'}, {writeKey: key})).status).toBe(200)
})
afterAll(async () => {
  await t.close()
})

describe('GET /api/events?since= answers 400 for a time that cannot be, never 500', () => {
  it('a span reaching back before the year 0000', async () => {
    const answer = await getJson(`${t.url}/api/events?since=99999999999d`)
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({success: false, code: 'invalid_filter', error: expect.stringMatching(/^since "99999999999d" reaches back before the year 0000; a span in days can be at most \d+\.$/)})
  })

  it.each([
    ['2024-02-30T00:00:00Z', 'February 2024 has 29 days'],
    ['2023-02-29', 'February 2023 has 28 days'],
    ['2024-01-01T25:00:00Z', 'there is no hour 25 (hours run from 00 to 23)'],
    ['2024-06-31T00:00:00Z', 'June 2024 has 30 days'],
  ])('since=%s', async (since, reason) => {
    const answer = await getJson(`${t.url}/api/events?since=${encodeURIComponent(since)}`)
    expect(answer).toMatchObject({status: 400, body: {success: false, code: 'invalid_filter', error: `since "${since}" is not a real time: ${reason}.`}})
  })

  it('the same on /api/violations, and a real date still filters', async () => {
    expect((await getJson(`${t.url}/api/violations?since=99999999999w`)).status).toBe(400)
    expect((await getJson(`${t.url}/api/violations?since=2023-02-29`)).status).toBe(400)
    const leapDay = await getJson(`${t.url}/api/events?since=2024-02-29T00:00:00Z`)
    expect(leapDay.status).toBe(200)
    expect(leapDay.body.map((m: {messageId: string}) => m.messageId)).toEqual(['kept'])
    expect((await getJson(`${t.url}/api/events?since=2024-03-01`)).body).toEqual([])
  })
})

describe('message timestamps that do not exist are refused', () => {
  it.each(['2024-02-30T10:00:00Z', '2023-02-29T10:00:00.000Z', '2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z'])('timestamp %s', async (timestamp) => {
    const answer = await post(`${t.url}/v1/track`, {userId: 'u', event: 'E', timestamp}, {writeKey: key})
    expect(answer).toMatchObject({status: 400, body: {success: false, code: 'invalid_timestamp', field: 'timestamp', error: `timestamp must be an ISO 8601 date-time string, but it was "${timestamp}"`}})
  })

  it('in a batch, the item alone is refused and the others are stored', async () => {
    const answer = await post(`${t.url}/v1/batch`, {batch: [
      {type: 'track', userId: 'u', event: 'E', messageId: 'feb-30', timestamp: '2025-02-29T00:00:00Z'},
      {type: 'track', userId: 'u', event: 'E', messageId: 'feb-28', timestamp: '2025-02-28T00:00:00Z'},
    ]}, {writeKey: key})
    expect(answer.status).toBe(400)
    expect(answer.body.rejected).toEqual([{index: 0, messageId: 'feb-30', code: 'invalid_timestamp', field: 'timestamp', error: 'timestamp must be an ISO 8601 date-time string, but it was "2025-02-29T00:00:00Z"'}])
    expect(t.storedMessages().find((m) => m.messageId === 'feb-28')?.timestamp).toBe('2025-02-28T00:00:00.000Z')
  })
})

describe('cdp events --since', () => {
  it('refuses a span too long and a date that does not exist with a message, a hint and exit 1', async () => {
    // Given a workspace with a store holding one event
    const {dir, cleanup} = tempDir()
    try {
      const store = new SqliteStore(workspacePaths(dir).database)
      const message = {type: 'track' as const, event: 'E', userId: 'u', messageId: 'm-1', timestamp: '2024-02-29T12:00:00.000Z', receivedAt: '2024-02-29T12:00:00.000Z', context: {}, integrations: {}}
      store.appendEvents([toNewEvent('default', message, JSON.stringify(message))])
      store.close()

      const tooLong = await runCli(['events', '--dir', dir, '--since', '99999999999d'])
      expect(tooLong.exitCode).toBe(1)
      expect(tooLong.stdout).toBe('')
      expect(tooLong.stderr).toMatch(/Error: since "99999999999d" reaches back before the year 0000; a span in days can be at most \d+\.\n/)
      expect(tooLong.stderr).toContain(`Try: ${hint}`)
      expect(tooLong.stderr).not.toContain('RangeError')

      const feb30 = await runCli(['events', '--dir', dir, '--since', '2024-02-30T00:00:00Z'])
      expect(feb30.exitCode).toBe(1)
      expect(feb30.stderr).toContain('Error: since "2024-02-30T00:00:00Z" is not a real time: February 2024 has 29 days.\n')
      expect(feb30.stderr).toContain(`Try: ${hint}`)

      // And a date that exists still filters
      const leapDay = await runCli(['events', '--dir', dir, '--since', '2024-02-29', '--json'])
      expect(leapDay.exitCode).toBe(0)
      expect(JSON.parse(leapDay.stdout).map((m: {messageId: string}) => m.messageId)).toEqual(['m-1'])
    } finally {
      cleanup()
    }
  })
})
