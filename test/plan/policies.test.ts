import {describe, expect, it} from 'vitest'
import {startTestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'

const key = 'shop-write-key-0001'
const order = {order_id: 'o-1', total: 25, currency: 'EUR', products: [{product_id: 'p-1', price: 5}]}

async function withPolicy(protocols: Record<string, unknown> | undefined, run: (url: string, stored: () => any[]) => Promise<void>) {
  const t = await startTestDaemon({fixture: 'ecommerce', config: {sources: [{name: 'shop', writeKey: key, ...(protocols ? {protocols} : {})}]}})
  try {
    await run(t.url, t.storedEvents)
  } finally {
    await t.close()
  }
}

const track = (url: string, event: string, properties: unknown, messageId: string) =>
  post(`${url}/v1/track`, {userId: 'u-1', event, properties, messageId}, {writeKey: key})

describe('Protocols policies per source', () => {
  it('allow (the default): stored as sent, violation recorded', async () => {
    await withPolicy(undefined, async (url, stored) => {
      expect((await track(url, 'Order Completed', {...order, total: 'x'}, 'm-1')).status).toBe(200)
      const [event] = stored()
      expect(event).toMatchObject({valid: false, policy: null, message: {properties: {total: 'x'}}})
      expect((await getJson(`${url}/api/violations`)).body).toHaveLength(1)
    })
  })

  it('block: stored in quarantine, marked blocked', async () => {
    await withPolicy({violations: 'block'}, async (url, stored) => {
      await track(url, 'Order Completed', {...order, total: 'x'}, 'm-bad')
      await track(url, 'Order Completed', order, 'm-good')
      await track(url, 'Not Planned', {}, 'm-unplanned')
      expect(stored().map((e) => [e.message.messageId, e.valid, e.policy])).toEqual([
        ['m-bad', false, 'blocked'],
        ['m-good', true, null],
        // Unplanned events follow their own setting (allow by default).
        ['m-unplanned', false, null],
      ])
    })
  })

  it('unplanned: block quarantines unplanned events only', async () => {
    await withPolicy({unplanned: 'block'}, async (url, stored) => {
      await track(url, 'Not Planned', {}, 'm-unplanned')
      await track(url, 'Order Completed', {...order, total: 'x'}, 'm-bad')
      expect(stored().map((e) => [e.message.messageId, e.policy])).toEqual([
        ['m-unplanned', 'blocked'],
        ['m-bad', null],
      ])
    })
  })

  it('omit-properties: the forwarded message loses the offending values, the raw payload keeps them', async () => {
    await withPolicy({violations: 'omit-properties'}, async (url, stored) => {
      await track(url, 'Order Completed', {...order, total: 'x', coupon_code: 'SPRING', products: [{product_id: 'p-1', price: -1}]}, 'm-omit')
      const [event] = stored()
      expect(event.policy).toBe('omitted')
      expect(event.message.properties).toEqual({order_id: 'o-1', currency: 'EUR', products: [{product_id: 'p-1'}]})
      const violations = (await getJson(`${url}/api/violations`)).body
      expect(violations.map((v: any) => v.path).sort()).toEqual(['properties.coupon_code', 'properties.products[0].price', 'properties.total'])
    })
  })

  it('emitViolations: a Violation Generated track event per violation, once even when the message is retried', async () => {
    await withPolicy({emitViolations: true}, async (url, stored) => {
      for (let i = 0; i < 2; i++) await track(url, 'Order Completed', {...order, total: 'x', currency: 'euro'}, 'm-v')
      const generated = stored().filter((e) => e.message.event === 'Violation Generated')
      expect(generated).toHaveLength(2)
      expect(generated[0].message).toMatchObject({
        type: 'track',
        userId: 'schema-violations',
        properties: {
          violationType: 'wrong_type',
          violationField: 'properties.total',
          violationDescription: 'The value at properties.total must be a number but it was a string.',
          eventName: 'Order Completed',
          messageId: 'm-v',
        },
      })
      expect(generated[1].message.properties).toMatchObject({violationType: 'pattern_mismatch', violationField: 'properties.currency'})
      // They are not themselves checked against the plan.
      expect(generated.every((e) => e.valid === null)).toBe(true)
    })
  })
})
