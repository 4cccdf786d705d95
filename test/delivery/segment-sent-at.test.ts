import {describe, expect, it} from 'vitest'
import {forwarded} from '../../src/delivery/segment.js'
import type {OutgoingEvent} from '../../src/delivery/types.js'
import {normalizeMessage} from '../../src/message/normalize.js'
import type {SegmentMessage} from '../../src/message/types.js'

function outgoing(message: SegmentMessage): OutgoingEvent & {parsed: () => number} {
  const json = JSON.stringify(message)
  let parses = 0
  let parsed: SegmentMessage | undefined
  // Parsed once, on first use, as the worker's events are.
  return {
    seq: 1,
    messageId: message.messageId,
    source: 's',
    userKey: 'u',
    json,
    get message() {
      if (parsed === undefined) {
        parses++
        parsed = JSON.parse(json) as SegmentMessage
      }
      return parsed
    },
    parsed: () => parses,
  }
}

/** What forwarding must give: the message without its top-level sentAt. */
function expected(message: SegmentMessage): unknown {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(message))
  delete copy.sentAt
  return copy
}

const receivedAt = Date.parse('2026-12-01T10:00:00.000Z')

function normalised(input: Record<string, unknown>, batch?: {sentAt?: unknown}): SegmentMessage {
  const result = normalizeMessage(input, {receivedAt, batch, endpointType: batch ? undefined : 'track'})
  if (!result.ok) throw new Error(result.problem.message)
  return result.message
}

describe('the segment destination forwards a message without its sentAt', () => {
  const cases: [string, SegmentMessage][] = [
    ['batch-level sentAt (appended before receivedAt)', normalised({type: 'track', event: 'A', userId: 'u', timestamp: '2026-12-01T09:59:59.000Z'}, {sentAt: '2026-12-01T10:00:00.000Z'})],
    ['sentAt in the message, in the middle', normalised({event: 'A', userId: 'u', sentAt: '2026-12-01T10:00:00.000Z', properties: {n: 1}})],
    ['no sentAt', normalised({event: 'A', userId: 'u'})],
    ['"sentAt": inside a property value and a nested key, none at the top', normalised({event: 'A', userId: 'u', properties: {note: ',"sentAt":"x","receivedAt":"y"}', nested: {sentAt: 'z'}}})],
    [
      'a property value that ends like the pattern, and a batch sentAt',
      normalised({type: 'track', event: 'A', userId: 'u', properties: {tail: '","sentAt":"1","receivedAt":"2"}'}}, {sentAt: '2026-12-01T10:00:00.000Z'}),
    ],
    ['a __proto__ key', normalised(JSON.parse('{"type":"track","event":"A","userId":"u","properties":{"__proto__":{"x":1}}}'), {sentAt: '2026-12-01T10:00:00.000Z'})],
  ]
  it.each(cases)('%s', (_name, message) => {
    const event = outgoing(message)
    const text = forwarded(event)
    expect(JSON.parse(text)).toEqual(expected(message))
    expect(text).not.toMatch(/^\{(?:[^{}]|\{[^}]*\})*"sentAt":/)
  })

  it('cuts a batch-level sentAt from the text without parsing the message; parses only where it must', () => {
    const batchItem = outgoing(cases[0][1])
    expect(forwarded(batchItem)).toBe(JSON.stringify(expected(cases[0][1])))
    expect(batchItem.parsed()).toBe(0)
    const none = outgoing(cases[2][1])
    expect(forwarded(none)).toBe(none.json)
    expect(none.parsed()).toBe(0)
    const middle = outgoing(cases[1][1])
    forwarded(middle)
    expect(middle.parsed()).toBe(1)
  })
})
