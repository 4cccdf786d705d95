import {describe, expect, it} from 'vitest'
import {RecentEvents} from '../../src/delivery/recent-events.js'
import type {NewEvent} from '../../src/store/types.js'

function row(n: number, event = 'Order Completed'): NewEvent {
  return {
    messageId: `m-${n}`,
    source: 'web',
    type: 'track',
    event,
    userId: `u-${n}`,
    anonymousId: null,
    timestamp: '2026-11-29T10:00:00.000Z',
    receivedAt: '2026-11-29T10:00:00.000Z',
    raw: '{}',
    message: `{"messageId":"m-${n}"}`,
    valid: null,
    violations: [],
    policy: null,
  }
}

describe('RecentEvents (a caught-up worker follows commits in memory)', () => {
  it('says "read the store" until a read reached the newest event', () => {
    const recent = new RecentEvents(() => true)
    recent.offer([row(1)], [1])
    expect(recent.take(10)).toBeUndefined()
    recent.syncedAt(1)
    recent.offer([row(2), row(3)], [2, 3])
    expect(recent.take(10)).toEqual({events: [expect.objectContaining({seq: 2, messageId: 'm-2', userId: 'u-2', message: '{"messageId":"m-2"}'}), expect.objectContaining({seq: 3})], cursor: 3})
    expect(recent.take(10)).toEqual({events: [], cursor: 3})
  })

  it('keeps only what the destination takes, but moves the cursor past the rest', () => {
    const recent = new RecentEvents((r) => r.event === 'Order Completed')
    recent.syncedAt(0)
    recent.offer([row(1, 'Page Viewed'), row(2), row(3, 'Page Viewed')], [1, 2, 3])
    expect(recent.take(10)).toEqual({events: [expect.objectContaining({seq: 2})], cursor: 3})
  })

  it('hands out at most the limit, with the cursor after the last one given', () => {
    const recent = new RecentEvents(() => true)
    recent.syncedAt(0)
    recent.offer([row(1), row(2), row(3)], [1, 2, 3])
    expect(recent.take(2)).toEqual({events: [expect.objectContaining({seq: 1}), expect.objectContaining({seq: 2})], cursor: 2})
    expect(recent.take(2)).toEqual({events: [expect.objectContaining({seq: 3})], cursor: 3})
  })

  it('skips duplicates (seq 0) and gives up on any gap in the numbering', () => {
    const recent = new RecentEvents(() => true)
    recent.syncedAt(0)
    recent.offer([row(1), row(2)], [1, 0])
    expect(recent.size).toBe(1)
    recent.offer([row(5)], [5])
    expect(recent.take(10)).toBeUndefined()
  })

  it('gives up past its limit: a worker that far behind reads the store', () => {
    const recent = new RecentEvents(() => true, 2)
    recent.syncedAt(0)
    recent.offer([row(1), row(2), row(3)], [1, 2, 3])
    expect(recent.take(10)).toBeUndefined()
  })
})
