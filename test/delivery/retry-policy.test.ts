import {describe, expect, it} from 'vitest'
import {retryDefaults} from '../../src/config/destinations.js'
import {backoffMs, isRetryableStatus, parseRetryAfter, retryPolicy} from '../../src/delivery/retry.js'

describe('isRetryableStatus', () => {
  it('retries timeouts, locks, rate limits and server errors', () => {
    for (const status of [408, 423, 429, 500, 502, 503, 504, 507, 599]) expect(isRetryableStatus(status), String(status)).toBe(true)
  })

  it('does not retry 501 (it will not change by waiting) nor any other 4xx', () => {
    for (const status of [501, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 451]) expect(isRetryableStatus(status), String(status)).toBe(false)
  })
})

describe('retryPolicy', () => {
  it('fills what a destination leaves out from the defaults', () => {
    expect(retryPolicy(undefined)).toEqual(retryDefaults)
    expect(retryPolicy({maxAttempts: 3})).toEqual({maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 300_000})
  })
})

describe('backoffMs', () => {
  const policy = {maxAttempts: 10, initialDelayMs: 1000, maxDelayMs: 20_000}
  const middle = () => 0.5
  const lowest = () => 0
  const highest = () => 0.999999

  it('doubles the initial delay after each failure (no jitter at random 0.5)', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => backoffMs(policy, attempts, undefined, middle))).toEqual([1000, 2000, 4000, 8000, 16_000])
  })

  it('jitters by up to half the delay either way', () => {
    expect(backoffMs(policy, 3, undefined, lowest)).toBe(2000)
    expect(backoffMs(policy, 3, undefined, highest)).toBe(6000)
    expect(backoffMs(policy, 3, undefined, () => 0.25)).toBe(3000)
  })

  it('never waits longer than maxDelayMs, however many failures and whatever the jitter', () => {
    expect(backoffMs(policy, 6, undefined, middle)).toBe(20_000)
    expect(backoffMs(policy, 6, undefined, highest)).toBe(20_000)
    expect(backoffMs(policy, 5, undefined, highest)).toBe(20_000)
    // 2^1999 overflows to Infinity: still the cap.
    expect(backoffMs(policy, 2000, undefined, middle)).toBe(20_000)
    // At the cap the jitter still spreads retries below it.
    expect(backoffMs(policy, 6, undefined, lowest)).toBe(10_000)
  })

  it('takes the initial delay for a first failure counted as 0 attempts, and 0 when the initial delay is 0', () => {
    expect(backoffMs(policy, 0, undefined, middle)).toBe(1000)
    expect(backoffMs({...policy, initialDelayMs: 0}, 7, undefined, highest)).toBe(0)
  })

  it('waits as long as Retry-After asks when that is longer, even past maxDelayMs', () => {
    expect(backoffMs(policy, 1, 5000, middle)).toBe(5000)
    expect(backoffMs(policy, 1, 60_000, middle)).toBe(60_000)
  })

  it('keeps its own delay when Retry-After asks for less', () => {
    expect(backoffMs(policy, 3, 1000, middle)).toBe(4000)
    expect(backoffMs(policy, 3, 0, middle)).toBe(4000)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z')

  it('reads delta seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter(' 3 ', now)).toBe(3000)
  })

  it('reads an HTTP date (IMF-fixdate, or the obsolete RFC 850 form) as the time until then', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Sunday, 01-Mar-26 12:01:00 GMT', now)).toBe(60_000)
  })

  it('reads a date in the past as no wait', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', now)).toBe(0)
  })

  it('gives undefined when absent or unreadable', () => {
    for (const value of [undefined, null, '', '   ', 'soon', '5s', '1.5', '-1', 'abc 5', '1e3']) {
      expect(parseRetryAfter(value, now), JSON.stringify(value)).toBeUndefined()
    }
  })
})
