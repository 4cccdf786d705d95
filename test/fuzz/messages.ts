import type {Rng} from './prng.js'

/** The message types of Segment's Tracking API and the path of each one's endpoint. */
export const messageKinds = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const
export type MessageKind = (typeof messageKinds)[number]

export const endpointOf: Record<MessageKind, string> = {
  track: '/v1/track',
  identify: '/v1/identify',
  page: '/v1/page',
  screen: '/v1/screen',
  group: '/v1/group',
  alias: '/v1/alias',
}

/** analytics.js's one-letter paths, which must behave as the long ones. */
export const shortEndpointOf: Record<MessageKind, string> = {
  track: '/v1/t',
  identify: '/v1/i',
  page: '/v1/p',
  screen: '/v1/s',
  group: '/v1/g',
  alias: '/v1/a',
}

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json}
export type JsonObject = {[key: string]: Json}

const events = ['Product Added', 'Order Completed', 'Signed Up', 'Checkout Started', 'Product Viewed', 'Cart Viewed']
const pages = ['Home', 'Pricing', 'Docs', 'Checkout', 'Product']
const screens = ['Home', 'Settings', 'Player', 'Cart']
const plans = ['free', 'pro', 'team', 'enterprise']

function hex(rng: Rng, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += '0123456789abcdef'[rng.int(0, 15)]
  return out
}

function uuid(rng: Rng): string {
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`
}

/** An ISO time in 2024, as SDKs send it. */
export function isoTime(rng: Rng): string {
  return new Date(Date.UTC(2024, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59), rng.int(0, 59), rng.int(0, 999))).toISOString()
}

/** What analytics-node 3.x puts in every message's context. */
function nodeContext(rng: Rng): JsonObject {
  return {
    library: {name: '@segment/analytics-node', version: '3.1.0'},
    ip: `203.0.113.${rng.int(1, 254)}`,
    locale: rng.pick(['en-US', 'fr-FR', 'de-DE', 'ja-JP']),
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    page: {path: '/pricing', referrer: 'https://www.google.com/', title: 'Pricing', url: 'https://shop.example/pricing'},
  }
}

/**
 * A realistic message as @segment/analytics-node sends it (about 600 bytes as JSON): type,
 * messageId, ids, the type's own fields, timestamp, context, integrations and _metadata.
 */
export function realisticMessage(rng: Rng, kind: MessageKind, messageId: string): JsonObject {
  const userId = `user_${rng.int(1, 99_999)}`
  const anonymousId = uuid(rng)
  const base: JsonObject = {type: kind, messageId}
  switch (kind) {
    case 'track':
      Object.assign(base, {
        userId,
        anonymousId,
        event: rng.pick(events),
        properties: {
          product_id: hex(rng, 8),
          sku: `G-${rng.int(1, 99)}`,
          name: 'Monopoly: 3rd Edition',
          price: rng.int(100, 99_999) / 100,
          quantity: rng.int(1, 5),
          currency: 'USD',
          coupon: rng.chance(0.3) ? 'SUMMER' : null,
          tags: ['board-game', 'family'],
        },
      })
      break
    case 'identify':
      Object.assign(base, {
        userId,
        anonymousId,
        traits: {email: `${userId}@example.com`, name: 'Ada Lovelace', plan: rng.pick(plans), logins: rng.int(1, 500), createdAt: isoTime(rng), address: {city: 'London', country: 'GB'}},
      })
      break
    case 'page':
      Object.assign(base, {
        anonymousId,
        ...(rng.chance(0.5) ? {userId} : {}),
        name: rng.pick(pages),
        category: 'Marketing',
        properties: {path: '/pricing', referrer: 'https://www.google.com/', title: 'Pricing', url: 'https://shop.example/pricing', search: '?ref=ads'},
      })
      break
    case 'screen':
      Object.assign(base, {userId, name: rng.pick(screens), properties: {variation: rng.pick(['a', 'b']), seconds: rng.int(1, 600)}})
      break
    case 'group':
      Object.assign(base, {userId, groupId: `org_${rng.int(1, 9_999)}`, traits: {name: 'Initech', industry: 'Software', employees: rng.int(1, 5_000), plan: rng.pick(plans)}})
      break
    case 'alias':
      Object.assign(base, {userId, previousId: anonymousId})
      break
  }
  Object.assign(base, {
    timestamp: isoTime(rng),
    context: nodeContext(rng),
    integrations: rng.chance(0.3) ? {All: true, Mixpanel: false} : {},
    _metadata: {nodeVersion: 'v20.20.2', jsRuntime: 'node'},
  })
  return base
}

/** The smallest valid batch item, so that batches of 2,500 stay under the 500 KB batch limit. */
export function tinyMessage(messageId: string, n: number): JsonObject {
  return {type: 'track', messageId, userId: `u${n % 97}`, event: 'Tick', properties: {n}}
}
