import {describe, expect, it} from 'vitest'
import {LatencyHistogram} from '../../src/delivery/latency.js'

/** A repeatable stream of numbers in [0, 1): a linear congruential generator. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** The q-quantile by nearest rank, as the histogram defines it. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]
}

describe('LatencyHistogram', () => {
  it('has no quantile before the first value', () => {
    const histogram = new LatencyHistogram()
    expect(histogram.count).toBe(0)
    expect(histogram.quantile(0.5)).toBeUndefined()
    expect(histogram.serialise()).toBe('{}')
  })

  it('gives quantiles within 10% of the exact ones, never below them', () => {
    // Given 20,000 latencies spread over five orders of magnitude (log-uniform, 1 ms to 100 s)
    const random = seeded(42)
    const values = Array.from({length: 20_000}, () => Math.round(10 ** (random() * 5)))
    const histogram = new LatencyHistogram()
    for (const value of values) histogram.add(value)
    const sorted = [...values].sort((a, b) => a - b)

    expect(histogram.count).toBe(20_000)
    for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) {
      const exact = exactQuantile(sorted, q)
      const estimate = histogram.quantile(q) as number
      expect(estimate, `q=${q}: exact ${exact}`).toBeGreaterThanOrEqual(exact)
      expect(estimate, `q=${q}: exact ${exact}`).toBeLessThanOrEqual(Math.max(exact * 1.1, exact + 0.5))
    }
  })

  it('is within 10% for one repeated value, at every scale', () => {
    for (const value of [1, 2, 7, 10, 99, 250, 1000, 4321, 60_000, 3_600_000]) {
      const histogram = new LatencyHistogram()
      for (let i = 0; i < 10; i++) histogram.add(value)
      const p50 = histogram.quantile(0.5) as number
      expect(p50, String(value)).toBeGreaterThanOrEqual(value)
      expect(p50, String(value)).toBeLessThanOrEqual(value * 1.1)
    }
  })

  it('counts latencies under a millisecond as 1 ms', () => {
    const histogram = new LatencyHistogram()
    histogram.add(0)
    histogram.add(0.4)
    expect(histogram.quantile(0.99)).toBe(1)
  })

  it('survives a serialise round trip, and keeps counting where it left off', () => {
    const random = seeded(7)
    const first = Array.from({length: 500}, () => Math.round(1 + random() * 2000))
    const second = Array.from({length: 500}, () => Math.round(5000 + random() * 5000))
    const histogram = new LatencyHistogram()
    for (const value of first) histogram.add(value)

    const restored = new LatencyHistogram(histogram.serialise())
    expect(restored.count).toBe(500)
    expect(restored.serialise()).toBe(histogram.serialise())
    for (const q of [0.01, 0.5, 0.99]) expect(restored.quantile(q)).toBe(histogram.quantile(q))

    // The stored histogram goes on as if it had never been saved.
    const continuous = new LatencyHistogram()
    for (const value of [...first, ...second]) continuous.add(value)
    for (const value of second) restored.add(value)
    expect(restored.count).toBe(1000)
    for (const q of [0.01, 0.25, 0.5, 0.75, 0.99]) expect(restored.quantile(q)).toBe(continuous.quantile(q))
    // Half the values are at least 5000 ms: p75 is among them.
    expect(restored.quantile(0.75)).toBeGreaterThanOrEqual(5000)
  })
})
