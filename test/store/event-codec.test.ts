import {describe, expect, it} from 'vitest'
import {decodeEvents, encodeEvents} from '../../src/store/event-codec.js'
import type {NewEvent} from '../../src/store/types.js'

describe('event codec', () => {
  it('round-trips any characters, empty strings and nulls', () => {
    const events: NewEvent[] = [
      {messageId: 'm:1;~', source: 'web', type: 'track', event: 'Ünïcode 🎉 a:b', userId: null, anonymousId: '', timestamp: 't', receivedAt: 'r', raw: '{"a":"\\u0000"}', message: '{}', valid: null, violations: [], policy: null},
      {messageId: '12:34', source: '~', type: 'alias', event: null, userId: 'u\u0000x', anonymousId: null, timestamp: '', receivedAt: '', raw: '', message: '9:x', valid: false, violations: [{kind: 'wrong_type', path: 'properties.a', expected: 'number', actual: 'string', message: 'The value at properties.a must be a number but it was a string.'}], policy: 'omitted'},
      {messageId: 'v', source: 's', type: 'track', event: 'E', userId: 'u', anonymousId: null, timestamp: 't', receivedAt: 'r', raw: '{}', message: '{}', valid: true, violations: [], policy: 'blocked'},
    ]
    expect(decodeEvents(encodeEvents(events))).toEqual(events)
    expect(decodeEvents(encodeEvents([]))).toEqual([])
  })
})
