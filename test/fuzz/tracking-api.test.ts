import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startFuzzDaemon, type FuzzDaemon} from './daemon.js'
import {formatReport, runFuzz, untried, type FuzzReport} from './fuzzer.js'

// The short run of the Tracking API fuzzer (the long one is `npm run fuzz`). A fixed seed, so a
// failure here fails the same way on every machine; CDP_FUZZ_SEED (and CDP_FUZZ_REQUESTS)
// reproduce a failure seen elsewhere, or explore.
const seed = Number(process.env.CDP_FUZZ_SEED ?? 20_240_610)
const requests = Number(process.env.CDP_FUZZ_REQUESTS ?? 3000)

let daemon: FuzzDaemon
let report: FuzzReport

beforeAll(async () => {
  // Given a real `cdp dev` in a child process, serving two sources
  daemon = await startFuzzDaemon()
  // When the fuzzer sends its requests over 6 keep-alive connections
  report = await runFuzz({url: daemon.url, database: daemon.database, sources: daemon.sources, seed, requests, connections: 6, daemonGone: daemon.gone})
}, 240_000)

afterAll(async () => {
  await daemon?.stop()
})

describe(`the Tracking API under ${requests} mutated requests (seed ${seed})`, () => {
  it('answers every request, none with a 5xx, none hanging, and the daemon lives on', () => {
    expect(report.daemonProblem, formatReport(report)).toBeUndefined()
    expect(daemon.gone()).toBeUndefined()
    expect(report.done).toBe(requests)
    expect(report.byOutcome, formatReport(report)).toMatchObject({'5xx': 0, 'no-answer': 0, hang: 0})
    expect(daemon.errorLines(), formatReport(report)).toEqual([])
  })

  it('stores every acknowledged message as sent, and nothing it refused', () => {
    const failures = Object.entries(report.failureClasses).map(([name, {count, first}]) => `${name}: ${count}× (index ${first.index}): ${first.problem}`)
    expect(failures, formatReport(report)).toEqual([])
    // Every acknowledged message with a messageId of its own was found stored and compared.
    expect(report.verified).toBeGreaterThan(0.9 * report.acknowledged)
  })

  it('tried every kind of request and got both acceptances and refusals', () => {
    // A fuzzer that only ever got 400s (or only 200s) would prove nothing.
    expect(untried(report)).toEqual([])
    expect(report.byOutcome['2xx']).toBeGreaterThan(requests * 0.3)
    expect(report.byOutcome['4xx']).toBeGreaterThan(requests * 0.2)
    expect(report.acknowledged).toBeGreaterThan(requests)
    for (const answer of ['400 invalid_json', '400 invalid_utf8', '400 invalid_encoding', '400 limit_exceeded', '400 too_deep', '400 invalid_messages', '401 missing_write_key', '415 unsupported_encoding']) {
      expect(report.byAnswer[answer] ?? 0, answer).toBeGreaterThan(0)
    }
  })
})
