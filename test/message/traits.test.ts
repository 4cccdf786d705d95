import {describe, expect, it} from 'vitest'
import {messageTraits} from '../../src/message/traits.js'
import type {SegmentMessage} from '../../src/message/types.js'

function message(fields: Partial<SegmentMessage> & Pick<SegmentMessage, 'type'>): SegmentMessage {
  return {messageId: 'm-1', userId: 'u-1', context: {}, integrations: {}, timestamp: '2026-03-01T12:00:05.000Z', receivedAt: '2026-03-01T12:00:10.000Z', ...fields}
}

describe('messageTraits: the traits of a message, wherever its SDK put them', () => {
  it('top-level traits (Segment) are the traits, the very object', () => {
    const traits = {email: 'ada@example.com'}
    const found = messageTraits(message({type: 'identify', traits, context: {traits: {email: 'other@example.com'}}}))
    expect(found.place).toBe('traits')
    expect(found.traits).toBe(traits)
  })

  it('an identify or group without top-level traits has those in context.traits (RudderStack)', () => {
    for (const type of ['identify', 'group'] as const) {
      const inContext = {email: 'lin@example.com', plan: 'pro'}
      const sent = message({type, context: {traits: inContext, library: {name: 'RudderLabs JavaScript SDK'}}})
      const before = structuredClone(sent)
      const found = messageTraits(sent)
      expect(found).toEqual({traits: inContext, place: 'context.traits'})
      expect(found.traits).toBe(inContext)
      // The message stays as sent.
      expect(sent).toEqual(before)
      expect(sent).not.toHaveProperty('traits')
    }
  })

  it('empty top-level traits still win: only absent ones fall back', () => {
    expect(messageTraits(message({type: 'identify', traits: {}, context: {traits: {a: 1}}}))).toEqual({traits: {}, place: 'traits'})
  })

  it('other types never read context.traits (analytics.js may copy user traits there on a track)', () => {
    for (const type of ['track', 'page', 'screen', 'alias'] as const) {
      expect(messageTraits(message({type, context: {traits: {email: 'x@example.com'}}}))).toEqual({traits: {}, place: 'traits'})
    }
    expect(messageTraits(message({type: 'alias', traits: {a: 1}})).traits).toEqual({a: 1})
  })

  it('no traits anywhere, or context.traits that is not an object: empty traits', () => {
    for (const traits of [undefined, null, 'email', 42, ['a'], true]) {
      expect(messageTraits(message({type: 'identify', context: {traits}}))).toEqual({traits: {}, place: 'traits'})
    }
    expect(messageTraits(message({type: 'identify'}))).toEqual({traits: {}, place: 'traits'})
    // A stored message without context (older rows) is not an error.
    expect(messageTraits({...message({type: 'group'}), context: undefined as unknown as Record<string, unknown>}).traits).toEqual({})
  })

  it('hostile keys: "__proto__" in context.traits is an own key of the traits, and nothing is read through a prototype', () => {
    const context = JSON.parse('{"traits": {"__proto__": {"admin": true}, "email": "e@example.com"}}')
    const found = messageTraits(message({type: 'identify', context}))
    expect(found.place).toBe('context.traits')
    expect(Object.keys(found.traits)).toEqual(['__proto__', 'email'])
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    // A context whose prototype offers "traits" (never from JSON, but data is hostile) is not read through.
    const inherited = Object.create({traits: {email: 'inherited@example.com'}}) as Record<string, unknown>
    expect(messageTraits(message({type: 'identify', context: inherited}))).toEqual({traits: {}, place: 'traits'})
  })
})
