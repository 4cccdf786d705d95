import {retryDefaults} from '../config/destinations.js'
import type {RetrySettings} from '../config/schema.js'

export interface RetryPolicy {
  maxAttempts: number
  initialDelayMs: number
  maxDelayMs: number
}

export function retryPolicy(settings: RetrySettings | undefined): RetryPolicy {
  return {...retryDefaults, ...settings}
}

/**
 * Whether an HTTP status is worth retrying, by Segment's rules: timeouts (408), locked (423),
 * rate limits (429) and server errors except 501 (which will not change by waiting).
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 423 || status === 429 || (status >= 500 && status !== 501)
}

/**
 * The wait before attempt `attempts + 1`, after `attempts` failures: initialDelay doubled after
 * each failure, capped, with jitter of up to half the delay either way so that many events failing
 * together do not retry in lockstep. A destination's Retry-After wins when it asks for longer.
 */
export function backoffMs(policy: RetryPolicy, attempts: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempts - 1))
  const jittered = Math.round(exponential * (0.5 + random()))
  const delay = Math.min(policy.maxDelayMs, jittered)
  return retryAfterMs !== undefined ? Math.max(delay, retryAfterMs) : delay
}

const httpDateStart = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i

/** Retry-After in ms: delta seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // Date.parse takes almost anything ("1.5", "-1" are dates in 2001): only HTTP's date formats,
  // which all start with the day's name, count.
  if (!httpDateStart.test(trimmed)) return undefined
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
