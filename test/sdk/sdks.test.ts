import {Analytics} from '@segment/analytics-node'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
let daemon: DaemonProcess

beforeAll(async () => {
  ;({dir, cleanup} = tempDir())
  writeConfig(dir, {sources: testSources})
  daemon = await startDaemonProcess(dir)
})
afterAll(async () => {
  expect(await daemon.stop()).toBe(0)
  cleanup()
})

async function storedEvents(userId: string): Promise<any[]> {
  const result = await runCli(['events', '--json', '--dir', dir, '--user', userId, '--limit', '1000'])
  expect(result.exitCode).toBe(0)
  return JSON.parse(result.stdout)
}

function expectSegmentShape(message: any) {
  expect(message.messageId).toEqual(expect.any(String))
  for (const field of ['timestamp', 'receivedAt']) expect(Number.isNaN(Date.parse(message[field]))).toBe(false)
  expect(message.context).toEqual(expect.any(Object))
}

describe('@segment/analytics-node, unmodified', () => {
  it('track, identify, page, screen, group and alias all reach the store', async () => {
    const errors: unknown[] = []
    const analytics = new Analytics({writeKey: testSources[0].writeKey, host: daemon.url, flushInterval: 100, maxRetries: 1})
    analytics.on('error', (error) => errors.push(error))
    const userId = 'segment-user-1'
    analytics.identify({userId, traits: {email: 'ada@example.com', plan: 'pro'}})
    analytics.track({userId, event: 'Order Completed', properties: {order_id: 'o-1', total: 42.5, products: [{sku: 'A-1', quantity: 2}]}})
    analytics.page({userId, category: 'Docs', name: 'Getting Started', properties: {path: '/docs'}})
    analytics.screen({userId, name: 'Settings', properties: {tab: 'billing'}})
    analytics.group({userId, groupId: 'acme', traits: {name: 'Acme', employees: 50}})
    analytics.alias({userId, previousId: 'anon-123'})
    await analytics.closeAndFlush({timeout: 10_000})
    expect(errors).toEqual([])

    const stored = await storedEvents(userId)
    expect(stored.map((m) => m.type)).toEqual(['identify', 'track', 'page', 'screen', 'group', 'alias'])
    const [identify, track, page, screen, group, alias] = stored
    expect(identify.traits).toEqual({email: 'ada@example.com', plan: 'pro'})
    expect(track).toMatchObject({event: 'Order Completed', properties: {order_id: 'o-1', total: 42.5, products: [{sku: 'A-1', quantity: 2}]}})
    expect(page).toMatchObject({name: 'Getting Started', category: 'Docs', properties: {path: '/docs'}})
    expect(screen).toMatchObject({name: 'Settings', properties: {tab: 'billing'}})
    expect(group).toMatchObject({groupId: 'acme', traits: {name: 'Acme', employees: 50}})
    expect(alias).toMatchObject({previousId: 'anon-123', userId})
    for (const message of stored) {
      expectSegmentShape(message)
      expect(message.context.library.name).toBe('@segment/analytics-node')
      expect(message.sentAt).toEqual(expect.any(String))
      expect(message.originalTimestamp).toEqual(expect.any(String))
    }
  })
})

describe('@rudderstack/rudder-sdk-node, unmodified (gzip bodies)', () => {
  it('track, identify, page, screen, group and alias all reach the store', async () => {
    const client = new RudderAnalytics(testSources[1].writeKey, {dataPlaneUrl: daemon.url, flushAt: 50, flushInterval: 100, logLevel: 'error'})
    const userId = 'rudder-user-1'
    client.identify({userId, traits: {email: 'grace@example.com'}})
    client.track({userId, event: 'Product Viewed', properties: {product_id: 'p-9', price: 9.99}})
    client.page({userId, category: 'Shop', name: 'Product', properties: {url: 'https://shop.example.com/p-9'}})
    client.screen({userId, name: 'Cart', properties: {items: 3}})
    client.group({userId, groupId: 'team-7', traits: {name: 'Team 7'}})
    client.alias({userId, previousId: 'anon-rudder'})
    await client.flush()

    const stored = await storedEvents(userId)
    expect(stored.map((m) => m.type)).toEqual(['identify', 'track', 'page', 'screen', 'group', 'alias'])
    const [identify, track, page, screen, group, alias] = stored
    expect(identify.traits).toEqual({email: 'grace@example.com'})
    expect(track).toMatchObject({event: 'Product Viewed', properties: {product_id: 'p-9', price: 9.99}})
    expect(page).toMatchObject({name: 'Product', properties: {url: 'https://shop.example.com/p-9'}})
    expect(screen).toMatchObject({name: 'Cart', properties: {items: 3}})
    expect(group).toMatchObject({groupId: 'team-7', traits: {name: 'Team 7'}})
    expect(alias).toMatchObject({previousId: 'anon-rudder', userId})
    for (const message of stored) {
      expectSegmentShape(message)
      expect(message.context.library.name).toBe('analytics-node')
    }
    // The second source's events are attributed to it.
    const bySource = await runCli(['events', '--json', '--dir', dir, '--source', 'server', '--user', userId])
    expect(JSON.parse(bySource.stdout)).toHaveLength(6)
  })
})
