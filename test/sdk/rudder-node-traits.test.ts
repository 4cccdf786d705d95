import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson} from '../helpers/http.js'

// The ecommerce fixture: plan/identify.json wants email a string, and present.
const writeKey = 'shop-write-key-0001'
let t: TestDaemon

beforeAll(async () => {
  t = await startTestDaemon({fixture: 'ecommerce'})
})
afterAll(async () => {
  await t.close()
})

describe('@rudderstack/rudder-sdk-node, unmodified: identify traits in context.traits', () => {
  it('an identify with only context.traits is checked by plan/identify.json there; one with traits (copied to context by the SDK) by its traits', async () => {
    const client = new RudderAnalytics(writeKey, {dataPlaneUrl: t.url, flushAt: 50, flushInterval: 100, logLevel: 'error'})
    client.identify({userId: 'rn-context-bad', context: {traits: {email: 42, plan: 'plus'}}})
    client.identify({userId: 'rn-context-ok', context: {traits: {email: 'ok@example.com'}}})
    client.identify({userId: 'rn-traits', traits: {email: 'grace@example.com'}})
    await client.flush()

    const stored = new Map(t.storedEvents().map((event) => [event.message.userId, event]))
    expect([...stored.keys()].sort()).toEqual(['rn-context-bad', 'rn-context-ok', 'rn-traits'])
    // Stored as the SDK sent them: no traits added at the top.
    expect(stored.get('rn-context-bad')?.message).not.toHaveProperty('traits')
    expect(stored.get('rn-context-bad')?.message.context.traits).toEqual({email: 42, plan: 'plus'})
    expect(stored.get('rn-traits')?.message).toMatchObject({traits: {email: 'grace@example.com'}, context: {traits: {email: 'grace@example.com'}}})
    expect([...stored.values()].map((e) => [e.message.userId, e.valid]).sort()).toEqual([
      ['rn-context-bad', false],
      ['rn-context-ok', true],
      ['rn-traits', true],
    ])

    const violations = (await getJson(`${t.url}/api/violations`)).body as any[]
    expect(violations.map((v) => [v.kind, v.path, v.message])).toEqual([
      ['invalid_traits', 'context.traits.email', 'The value at context.traits.email must be a string but it was an integer.'],
    ])
  })
})
