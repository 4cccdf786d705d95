import {describe, expect, it} from 'vitest'
import {normalizeMessage} from '../../src/message/normalize.js'
import {readTrackingRequest} from '../../src/message/request.js'

const receivedAt = Date.parse('2026-03-01T12:00:10.000Z')

describe('normalizeMessage', () => {
  it('corrects the timestamp for client clock skew and keeps the original', () => {
    // Given a client whose clock runs 1 hour behind: it stamped the call 5 s before sending
    const result = normalizeMessage(
      {userId: 'u1', event: 'Signed Up', timestamp: '2026-03-01T11:00:00.000Z', sentAt: '2026-03-01T11:00:05.000Z'},
      {receivedAt, endpointType: 'track'},
    )
    // Then timestamp = receivedAt − (sentAt − timestamp)
    expect(result.ok && result.message).toMatchObject({
      type: 'track',
      timestamp: '2026-03-01T12:00:05.000Z',
      originalTimestamp: '2026-03-01T11:00:00.000Z',
      sentAt: '2026-03-01T11:00:05.000Z',
      receivedAt: '2026-03-01T12:00:10.000Z',
    })
  })

  it('uses the timestamp as sent when there is no sentAt, and receivedAt when there is neither', () => {
    const withTimestamp = normalizeMessage({userId: 'u1', event: 'A', timestamp: '2026-02-01T00:00:00Z'}, {receivedAt, endpointType: 'track'})
    expect(withTimestamp.ok && withTimestamp.message.timestamp).toBe('2026-02-01T00:00:00.000Z')
    const bare = normalizeMessage({userId: 'u1', event: 'A'}, {receivedAt, endpointType: 'track'})
    expect(bare.ok && bare.message.timestamp).toBe('2026-03-01T12:00:10.000Z')
    expect(bare.ok && 'originalTimestamp' in bare.message).toBe(false)
  })

  it('generates a messageId when absent and keeps one that is sent', () => {
    const generated = normalizeMessage({anonymousId: 'a'}, {receivedAt, endpointType: 'page', newMessageId: () => 'gen-1'})
    expect(generated.ok && generated.message.messageId).toBe('gen-1')
    const kept = normalizeMessage({anonymousId: 'a', messageId: 'mine'}, {receivedAt, endpointType: 'page'})
    expect(kept.ok && kept.message.messageId).toBe('mine')
  })

  it('turns numeric ids into strings, as Segment does', () => {
    const result = normalizeMessage({userId: 42, groupId: 7}, {receivedAt, endpointType: 'group'})
    expect(result.ok && result.message).toMatchObject({userId: '42', groupId: '7'})
  })

  it('takes the type from a batch item, case-insensitively, and refuses unknown types', () => {
    const track = normalizeMessage({type: 'Track', userId: 'u', event: 'E'}, {receivedAt})
    expect(track.ok && track.message.type).toBe('track')
    expect(normalizeMessage({type: 'purchase', userId: 'u'}, {receivedAt})).toEqual({
      ok: false,
      problem: {code: 'unknown_type', field: 'type', message: 'unknown message type "purchase": expected one of track, identify, page, screen, group, alias'},
    })
  })

  it.each([
    ['track', {anonymousId: 'a'}, 'event is required for track'],
    ['track', {event: 'E'}, 'userId or anonymousId is required for track'],
    ['track', {userId: '', anonymousId: '', event: 'E'}, 'userId or anonymousId is required for track'],
    ['identify', {traits: {}}, 'userId or anonymousId is required for identify'],
    ['group', {userId: 'u'}, 'groupId is required for group'],
    ['alias', {userId: 'u'}, 'previousId is required for alias'],
    ['alias', {previousId: 'p', anonymousId: 'a'}, 'userId is required for alias'],
  ] as const)('refuses a %s without its required fields: %j', (type, input, message) => {
    const result = normalizeMessage(input, {receivedAt, endpointType: type})
    expect(result.ok).toBe(false)
    expect(!result.ok && result.problem.message).toBe(message)
  })

  it('applies batch-level context, integrations and sentAt to each item; the item wins on conflicts', () => {
    const result = normalizeMessage(
      {type: 'track', userId: 'u', event: 'E', timestamp: '2026-03-01T12:00:00Z', context: {locale: 'fr-FR'}, integrations: {Mixpanel: false}},
      {receivedAt, batch: {context: {locale: 'en-US', ip: '10.0.0.1'}, integrations: {All: true}, sentAt: '2026-03-01T12:00:02Z'}},
    )
    expect(result.ok && result.message).toMatchObject({
      context: {locale: 'fr-FR', ip: '10.0.0.1'},
      integrations: {All: true, Mixpanel: false},
      sentAt: '2026-03-01T12:00:02Z',
      timestamp: '2026-03-01T12:00:08.000Z',
    })
  })

  it('drops writeKey from the stored message', () => {
    const result = normalizeMessage({writeKey: 'secret', userId: 'u', event: 'E'}, {receivedAt, endpointType: 'track'})
    expect(result.ok && 'writeKey' in result.message).toBe(false)
  })
})

describe('readTrackingRequest', () => {
  it('stores the valid items of a batch and lists the invalid ones with their index', () => {
    const body = {batch: [{type: 'track', userId: 'u', event: 'A'}, {type: 'track', userId: 'u'}, {type: 'identify', anonymousId: 'x', messageId: 'm3'}]}
    const outcome = readTrackingRequest('batch', body, JSON.stringify(body), receivedAt)
    expect(outcome.accepted.map((a) => a.index)).toEqual([0, 2])
    expect(outcome.rejected).toEqual([{index: 1, messageId: undefined, code: 'missing_field', field: 'event', message: 'event is required for track'}])
  })

  it('refuses a batch of more than 2,500 messages as a whole', () => {
    const body = {batch: Array.from({length: 2501}, () => ({type: 'track', userId: 'u', event: 'A'}))}
    const outcome = readTrackingRequest('batch', body, '', receivedAt)
    expect(outcome.problem?.message).toBe('the batch has 2501 messages; the limit is 2500 a batch')
    expect(outcome.accepted).toEqual([])
  })
})
