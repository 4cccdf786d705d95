import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {runCli} from '../helpers/cli.js'
import {getJson, post} from '../helpers/http.js'

const key = 'shop-write-key-0001'
let t: TestDaemon

beforeAll(async () => {
  t = await startTestDaemon({fixture: 'ecommerce'})
})
afterAll(async () => {
  await t.close()
})
beforeEach(async () => {
  await fetch(`${t.url}/api/events`, {method: 'DELETE'})
})

const product = {product_id: 'p-1', sku: 'SKU-1', name: 'Mug', price: 12.5, quantity: 2}
const order = {order_id: 'o-1', total: 25, currency: 'EUR', products: [product]}

async function track(event: string, properties: unknown, extra: Record<string, unknown> = {}) {
  const answer = await post(`${t.url}/v1/track`, {userId: 'u-1', event, properties, ...extra}, {writeKey: key})
  expect(answer.status).toBe(200)
}

async function violations(query = ''): Promise<any[]> {
  return (await getJson(`${t.url}/api/violations${query}`)).body
}

describe('validation on ingest against the E-commerce plan', () => {
  it('records nothing for events that follow the plan, and marks them valid', async () => {
    await track('Products Searched', {query: 'mugs'})
    await track('Product List Viewed', {list_id: 'l-1', products: [product]})
    await track('Product Viewed', product)
    await track('Product Added', {...product, cart_id: 'c-1'})
    await track('Cart Viewed', {cart_id: 'c-1', products: [product]})
    await track('Checkout Started', {order_id: 'o-1', products: [product], currency: 'EUR'})
    await track('Order Completed', order)
    await post(`${t.url}/v1/identify`, {userId: 'u-1', traits: {email: 'ada@example.com', plan: 'plus'}}, {writeKey: key})
    expect(await violations()).toEqual([])
    const stored = t.storedEvents()
    expect(stored.map((e) => e.valid)).toEqual([true, true, true, true, true, true, true, true])
  })

  it.each([
    ['unplanned_event', () => track('Order Compelted', order), 'event', '"Order Compelted" is not in the tracking plan.'],
    ['missing_required', () => track('Order Completed', {...order, order_id: undefined}), 'properties.order_id', 'properties.order_id is required but it is missing.'],
    ['missing_required', () => track('Order Completed', {...order, products: [{sku: 'x'}]}), 'properties.products[0].product_id', 'properties.products[0].product_id is required but it is missing.'],
    ['wrong_type', () => track('Order Completed', {...order, total: '25'}), 'properties.total', 'The value at properties.total must be a number but it was a string.'],
    ['unexpected_property', () => track('Order Completed', {...order, discount_code: 'X'}), 'properties.discount_code', 'properties.discount_code is not allowed: the plan lists every property of properties.'],
    ['enum_mismatch', () => track('Order Completed', {...order, payment_method: 'cash'}), 'properties.payment_method', 'The value at properties.payment_method must be one of "card", "paypal", "bank_transfer", "gift_card" but it was "cash".'],
    ['pattern_mismatch', () => track('Order Completed', {...order, currency: 'euro'}), 'properties.currency', 'The value at properties.currency must match the pattern ^[A-Z]{3}$ but it was "euro".'],
    ['format_mismatch', () => track('Product Viewed', {...product, url: 'not a url'}), 'properties.url', 'The value at properties.url must be a valid uri but it was "not a url".'],
    ['constraint', () => track('Order Completed', {...order, total: -5}), 'properties.total', 'The value at properties.total must be >= 0 but it was -5.'],
  ])('%s', async (kind, send, path, message) => {
    await send()
    const [violation, ...rest] = await violations()
    expect(rest).toEqual([])
    expect(violation).toMatchObject({kind, path, message, source: 'shop', type: 'track'})
    expect(t.storedEvents()[0].valid).toBe(false)
  })

  it('invalid identify traits', async () => {
    await post(`${t.url}/v1/identify`, {userId: 'u-1', traits: {email: 'nope', age: 'old'}}, {writeKey: key})
    const found = await violations()
    expect(found.map((v) => [v.kind, v.path, v.expected, v.actual])).toEqual([
      ['invalid_traits', 'traits.email', 'email', '"nope"'],
      ['invalid_traits', 'traits.age', 'integer', 'string'],
    ])
  })

  it('records the messageId, event name, expected and actual', async () => {
    await track('Order Completed', {...order, total: 'lots'}, {messageId: 'm-wrong-total'})
    const [violation] = await violations('?kind=wrong_type&event=Order%20Completed')
    expect(violation).toMatchObject({messageId: 'm-wrong-total', event: 'Order Completed', expected: 'number', actual: 'string'})
    expect(await violations('?kind=enum_mismatch')).toEqual([])
    const bad = await getJson(`${t.url}/api/violations?kind=typo`)
    expect(bad.status).toBe(400)
  })

  it('every stored event says whether it is valid: ?valid= on /api/events and --valid / --no-valid on cdp events', async () => {
    await track('Order Completed', order, {messageId: 'm-ok'})
    await track('Order Completed', {...order, total: 'x'}, {messageId: 'm-bad'})
    const invalid = await getJson(`${t.url}/api/events?valid=false`)
    expect(invalid.body.map((m: any) => m.messageId)).toEqual(['m-bad'])
    const valid = await getJson(`${t.url}/api/events?valid=true`)
    expect(valid.body.map((m: any) => m.messageId)).toEqual(['m-ok'])
    expect((await getJson(`${t.url}/api/events?valid=maybe`)).body.error).toBe('valid "maybe" must be true or false.')
    const cli = await runCli(['events', '--dir', t.dir, '--no-valid', '--json'])
    expect(JSON.parse(cli.stdout).map((m: any) => m.messageId)).toEqual(['m-bad'])
    const table = await runCli(['events', '--dir', t.dir])
    expect(table.stdout).toMatch(/Z ok {3}track +Order Completed +u-1 +shop +m-ok$/m)
    expect(table.stdout).toMatch(/Z BAD  track +Order Completed +u-1 +shop +m-bad$/m)
  })

  it('a repeated messageId does not record its violations twice', async () => {
    for (let i = 0; i < 2; i++) await track('Order Completed', {...order, total: 'x'}, {messageId: 'm-dup'})
    expect(await violations()).toHaveLength(1)
  })

  it('page, screen, group without a rule and alias are not checked', async () => {
    await post(`${t.url}/v1/page`, {userId: 'u', name: 'Home'}, {writeKey: key})
    await post(`${t.url}/v1/alias`, {userId: 'u', previousId: 'a'}, {writeKey: key})
    expect(await violations()).toEqual([])
  })
})
