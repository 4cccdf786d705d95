import {afterEach, describe, expect, it} from 'vitest'
import {SseParser} from '../../src/stream/client.js'
import {sseFrame} from '../../src/stream/hub.js'
import type {StreamItem} from '../../src/stream/types.js'

const skipped = (count: number): StreamItem => ({kind: 'skipped', count})
const delivery = (seq: number): StreamItem => ({kind: 'delivery', seq, messageId: `m-${seq}`, destination: 'crm-hook', status: 'delivered', attempts: 1})
const eventFrame = (seq: number, name: string) =>
  sseFrame('event', JSON.stringify({kind: 'event', seq, source: 'web', messageId: `m-${seq}`, type: 'track', name}), seq)

/** Feeds text to a new parser in chunks of `size` characters; the items of every chunk, in order. */
function parseInChunks(text: string, size: number, parser = new SseParser()): StreamItem[] {
  const items: StreamItem[] = []
  for (let start = 0; start < text.length; start += size) items.push(...parser.push(text.slice(start, start + size)))
  return items
}

describe('SseParser', () => {
  // What the daemon writes: a comment and a retry hint first, then frames with event:, id: and data:.
  const stream = `retry: 1000\n: cdp live stream\n\n${eventFrame(7, 'Order Completed')}${sseFrame('delivery', JSON.stringify(delivery(7)))}${sseFrame('skipped', JSON.stringify(skipped(3)))}`
  const expected = [expect.objectContaining({kind: 'event', seq: 7, name: 'Order Completed'}), delivery(7), skipped(3)]

  it('reads the same items wherever a chunk ends, mid-line or mid-field included', () => {
    // Given the daemon's stream text, When it is split in two at every position
    for (let split = 0; split <= stream.length; split++) {
      const parser = new SseParser()
      const items = [...parser.push(stream.slice(0, split)), ...parser.push(stream.slice(split))]
      // Then every split reads the three items, once each
      expect(items, `split at ${split}`).toEqual(expected)
    }
  })

  it('reads CRLF and CR line endings as LF ones, including a CRLF split between chunks', () => {
    for (const newline of ['\r\n', '\r']) {
      // A CR that ends the text may be the first half of a CRLF: the next text (a comment here) settles it.
      const text = `${stream}: next\n`.replaceAll('\n', newline)
      expect(parseInChunks(text, text.length)).toEqual(expected)
      expect(parseInChunks(text, 1)).toEqual(expected)
      expect(parseInChunks(text, 2)).toEqual(expected)
    }
  })

  it('ignores comments, retry hints and fields it does not know', () => {
    const text = `: keep-alive\n\nretry: 5000\nfoo: bar\n: another comment\n${sseFrame('skipped', JSON.stringify(skipped(1)))}`
    expect(new SseParser().push(text)).toEqual([skipped(1)])
  })

  it('gives each frame its id: an event carries its seq, a delivery none', () => {
    const frames = new SseParser().pushFrames(stream)
    expect(frames.map((frame) => [frame.item.kind, frame.id])).toEqual([
      ['event', 7],
      ['delivery', undefined],
      ['skipped', undefined],
    ])
  })

  it('takes the kind from event: and skips a frame whose data says another kind', () => {
    const mislabelled = `event: delivery\ndata: ${JSON.stringify(skipped(2))}\n\n`
    const unlabelled = `data: ${JSON.stringify(skipped(4))}\n\n`
    expect(new SseParser().push(mislabelled + unlabelled)).toEqual([skipped(4)])
  })

  it('joins a frame of several data lines with newlines', () => {
    const text = 'event: skipped\ndata: {"kind": "skipped",\ndata:  "count": 5}\n\n'
    expect(new SseParser().push(text)).toEqual([skipped(5)])
  })

  it('skips a frame that is not JSON of a stream item and reads on', () => {
    const text = `data: not json\n\ndata: {"no": "kind"}\n\ndata:\n\n${sseFrame('skipped', JSON.stringify(skipped(6)))}`
    expect(new SseParser().push(text)).toEqual([skipped(6)])
  })

  it('holds an unfinished frame until the blank line that ends it', () => {
    const parser = new SseParser()
    const frame = sseFrame('skipped', JSON.stringify(skipped(8)))
    expect(parser.push(frame.slice(0, -1))).toEqual([])
    expect(parser.push('\n')).toEqual([skipped(8)])
  })

  it('reads a 1 MB event intact in chunks of 1 byte to 64 KB, once, on the chunk that ends it', () => {
    const name = `Big ${'é🛒'.repeat(1 << 18)}`.slice(0, 1 << 20)
    const text = eventFrame(1, name) + sseFrame('skipped', JSON.stringify(skipped(9)))
    for (const size of [1, 7, 64, 1024, 65_536]) {
      const items = parseInChunks(text, size)
      expect(items.map((item) => item.kind), `chunks of ${size}`).toEqual(['event', 'skipped'])
      expect((items[0] as {name: string}).name === name, `chunks of ${size}`).toBe(true)
    }
  })
})

describe('SseParser work', () => {
  const restores: (() => void)[] = []
  afterEach(() => {
    for (const restore of restores.splice(0)) restore()
  })

  /**
   * Counts the characters that string scans and copies go over while `run` runs (indexOf, search,
   * split, slice, replace, join…), the work a parser does per character. Counting rather than
   * timing keeps the test exact on a busy machine.
   */
  function meterStringWork(run: () => void): number {
    let characters = 0
    const meter = <T extends object>(owner: T, name: keyof T, cost: (self: string, args: unknown[], result: unknown) => number) => {
      const original = owner[name] as (...args: unknown[]) => unknown
      owner[name] = function (this: string, ...args: unknown[]) {
        const result = original.apply(this, args)
        characters += cost(this, args, result)
        return result
      } as T[keyof T]
      restores.push(() => (owner[name] = original as T[keyof T]))
    }
    const scanned = (self: string, args: unknown[], result: unknown) => {
      const from = typeof args[1] === 'number' ? args[1] : 0
      return (result === -1 ? self.length : (result as number)) - from
    }
    const whole = (self: string) => self.length
    meter(String.prototype, 'indexOf', scanned)
    meter(String.prototype, 'lastIndexOf', whole)
    meter(String.prototype, 'includes', whole)
    meter(String.prototype, 'search', whole)
    meter(String.prototype, 'match', whole)
    meter(String.prototype, 'split', whole)
    meter(String.prototype, 'replace', whole)
    meter(String.prototype, 'slice', (_self, _args, result) => (result as string).length)
    meter(String.prototype, 'substring', (_self, _args, result) => (result as string).length)
    meter(Array.prototype, 'join', (_self, _args, result) => (result as string).length)
    try {
      run()
    } finally {
      for (const restore of restores.splice(0)) restore()
    }
    return characters
  }

  it('goes over 10 MB in 64-byte chunks a bounded number of times, however large each frame', () => {
    // Given 10 MB of stream in ten 1 MB events, and the same amount in 10,000 1 KB events
    const frames = (count: number, size: number) => Array.from({length: count}, (_, i) => eventFrame(i + 1, 'x'.repeat(size))).join('')
    const large = frames(10, 1 << 20)
    const small = frames(10_000, 1 << 10)

    // When each is parsed in 64-byte chunks
    let items = 0
    const largeWork = meterStringWork(() => (items += parseInChunks(large, 64).length))
    const smallWork = meterStringWork(() => (items += parseInChunks(small, 64).length))

    // Then every event is read, and each character is gone over a few times, as many for 1 MB
    // frames as for 1 KB ones: a parser that rescanned its buffer per chunk would go over each
    // character of a 1 MB frame thousands of times
    expect(items).toBe(10_010)
    const perCharacter = {large: largeWork / large.length, small: smallWork / small.length}
    expect(perCharacter.large).toBeLessThan(10)
    expect(perCharacter.large).toBeLessThan(perCharacter.small * 1.2)
  })
})
