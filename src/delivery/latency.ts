/**
 * A latency histogram with logarithmic buckets, 10% wide: percentiles within 10% from a few
 * hundred numbers, whatever the count, so it can be stored per destination and updated per batch.
 */
const growth = 1.1

export class LatencyHistogram {
  private readonly buckets: Map<number, number>
  private total = 0

  constructor(serialised = '{}') {
    this.buckets = new Map(Object.entries(JSON.parse(serialised) as Record<string, number>).map(([bucket, count]) => [Number(bucket), count]))
    for (const count of this.buckets.values()) this.total += count
  }

  get count(): number {
    return this.total
  }

  add(ms: number): void {
    const bucket = ms < 1 ? 0 : Math.floor(Math.log(ms) / Math.log(growth)) + 1
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1)
    this.total++
  }

  /** The q-quantile (0..1) in ms: the upper edge of its bucket. Undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined
    const rank = Math.max(1, Math.ceil(q * this.total))
    let seen = 0
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(bucket) as number
      if (seen >= rank) return bucket === 0 ? 1 : Math.round(growth ** bucket)
    }
    return undefined
  }

  serialise(): string {
    return JSON.stringify(Object.fromEntries(this.buckets))
  }
}
