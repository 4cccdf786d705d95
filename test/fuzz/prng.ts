/**
 * A small seeded PRNG (mulberry32): the same seed gives the same requests on every machine, so a
 * failure is reproduced from its seed and index alone.
 */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  /** One of the entries, with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0
    for (const [, weight] of entries) total += weight
    let at = this.next() * total
    for (const [value, weight] of entries) {
      at -= weight
      if (at < 0) return value
    }
    return entries[entries.length - 1][0]
  }

  /** A new generator derived from this one and a label: each request gets its own stream. */
  static forCase(seed: number, index: number): Rng {
    // splitmix-style mixing so that neighbouring indexes give unrelated streams.
    let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
    return new Rng((h ^ (h >>> 16)) >>> 0)
  }
}
