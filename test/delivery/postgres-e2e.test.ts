import {Analytics} from '@segment/analytics-node'
import pg from 'pg'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {runCli, startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {getJson} from '../helpers/http.js'
import {postgresAvailable, startPostgres, type PostgresServer} from '../helpers/postgres-server.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

/**
 * End to end: an unmodified @segment/analytics-node → a real `cdp dev` child process → a real
 * PostgreSQL server, read back with pg.
 */
describe.skipIf(!postgresAvailable())('postgres destination through cdp dev', () => {
  let server: PostgresServer
  let db: pg.Pool
  let daemon: DaemonProcess | undefined
  let cleanup: (() => void) | undefined

  beforeAll(async () => {
    server = await startPostgres({database: 'cdp_e2e'})
    db = new pg.Pool({connectionString: server.connectionString, max: 2})
  })
  afterEach(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0)
    daemon = undefined
    cleanup?.()
    cleanup = undefined
  })
  afterAll(async () => {
    await db?.end()
    await server?.stop()
  })

  async function start(destination: Record<string, unknown>): Promise<{dir: string; daemon: DaemonProcess}> {
    const workspace = tempDir()
    cleanup = workspace.cleanup
    writeConfig(workspace.dir, {sources: testSources, destinations: [{type: 'postgres', connectionString: server.connectionString, ...destination}]})
    daemon = await startDaemonProcess(workspace.dir)
    return {dir: workspace.dir, daemon}
  }

  const sdkErrors: unknown[] = []
  afterEach(() => {
    expect(sdkErrors.splice(0)).toEqual([])
  })

  function sdk(writeKey: string): Analytics {
    const analytics = new Analytics({writeKey, host: daemon!.url, flushInterval: 50, maxRetries: 1})
    analytics.on('error', (error) => sdkErrors.push(error))
    return analytics
  }

  async function rows(sql: string, params: unknown[] = []): Promise<Record<string, any>[]> {
    return (await db.query(sql, params)).rows
  }

  async function columns(schema: string, table: string): Promise<Record<string, string>> {
    const result = await rows('SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [schema, table])
    return Object.fromEntries(result.map((row) => [row.column_name, row.data_type]))
  }

  async function tables(schema: string): Promise<string[]> {
    const result = await rows('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])
    return result.map((row) => row.table_name)
  }

  async function delivered(name: string): Promise<number> {
    const report = await getJson(`${daemon!.url}/api/deliveries`)
    return report.body.destinations.find((d: {name: string}) => d.name === name).delivered
  }

  it('loads SDK calls into Segment\'s tables, in a schema named after the source, with typed columns', async () => {
    await start({name: 'warehouse'})
    const analytics = sdk(testSources[0].writeKey)
    analytics.identify({userId: 'pg-user-1', traits: {email: 'ada@example.com', plan: 'pro', logins: 3}, messageId: 'pg-identify-1'})
    analytics.track({
      userId: 'pg-user-1',
      event: 'Order Completed',
      messageId: 'pg-order-1',
      properties: {orderId: 'o-1', total: 42.5, quantity: 2, gift: false, shipping: {method: 'DHL'}, products: [{sku: 'A-1'}]},
      timestamp: new Date('2026-02-01T10:00:00.000Z'),
    })
    analytics.page({anonymousId: 'anon-7', category: 'Docs', name: 'Getting Started', messageId: 'pg-page-1', properties: {path: '/docs'}})
    await analytics.closeAndFlush({timeout: 10_000})

    await waitFor('3 events delivered', async () => (await delivered('warehouse')) === 3)
    expect(await tables('web')).toEqual(['identifies', 'order_completed', 'pages', 'tracks', 'users'])

    expect(await columns('web', 'order_completed')).toMatchObject({
      id: 'text',
      user_id: 'text',
      event: 'text',
      event_text: 'text',
      received_at: 'timestamp with time zone',
      sent_at: 'timestamp with time zone',
      timestamp: 'timestamp with time zone',
      original_timestamp: 'timestamp with time zone',
      uuid_ts: 'timestamp with time zone',
      context_library_name: 'text',
      context_library_version: 'text',
      order_id: 'text',
      total: 'double precision',
      quantity: 'bigint',
      gift: 'boolean',
      shipping_method: 'text',
      products: 'text',
    })
    const [order] = await rows('SELECT * FROM web.order_completed')
    expect(order).toMatchObject({
      id: 'pg-order-1',
      user_id: 'pg-user-1',
      event: 'order_completed',
      event_text: 'Order Completed',
      context_library_name: '@segment/analytics-node',
      order_id: 'o-1',
      total: 42.5,
      quantity: '2',
      gift: false,
      shipping_method: 'DHL',
      products: '[{"sku":"A-1"}]',
    })
    expect(order.original_timestamp.toISOString()).toBe('2026-02-01T10:00:00.000Z')
    expect(await rows('SELECT id, event, event_text, user_id FROM web.tracks')).toEqual([
      {id: 'pg-order-1', event: 'order_completed', event_text: 'Order Completed', user_id: 'pg-user-1'},
    ])
    expect(await rows('SELECT id, user_id, email, plan, logins FROM web.identifies')).toEqual([
      {id: 'pg-identify-1', user_id: 'pg-user-1', email: 'ada@example.com', plan: 'pro', logins: '3'},
    ])
    expect(await rows('SELECT id, email, plan FROM web.users')).toEqual([{id: 'pg-user-1', email: 'ada@example.com', plan: 'pro'}])
    expect(await rows('SELECT id, anonymous_id, name, category, path FROM web.pages')).toEqual([
      {id: 'pg-page-1', anonymous_id: 'anon-7', name: 'Getting Started', category: 'Docs', path: '/docs'},
    ])
    // Columns come from values: no page had a userId yet.
    expect(Object.keys(await columns('web', 'pages'))).not.toContain('user_id')
  })

  it('adds a column for a new property, and does not duplicate a messageId sent again', async () => {
    const {dir} = await start({name: 'warehouse', schema: 'shop'})
    const first = sdk(testSources[0].writeKey)
    first.track({userId: 'pg-user-2', event: 'Product Viewed', messageId: 'pv-1', properties: {sku: 'S-1', price: 10}})
    await first.closeAndFlush({timeout: 10_000})
    await waitFor('the first event delivered', async () => (await delivered('warehouse')) === 1)
    expect(Object.keys(await columns('shop', 'product_viewed'))).not.toContain('color')

    // When a later event brings a property never seen, and the SDK sends pv-1 again
    const second = sdk(testSources[0].writeKey)
    second.track({userId: 'pg-user-2', event: 'Product Viewed', messageId: 'pv-2', properties: {sku: 'S-2', price: 12, color: 'red'}})
    second.track({userId: 'pg-user-2', event: 'Product Viewed', messageId: 'pv-1', properties: {sku: 'S-1', price: 10}})
    await second.closeAndFlush({timeout: 10_000})
    await waitFor('the new column', async () => (await columns('shop', 'product_viewed')).color === 'text')

    // Then the table has the column, older rows have it empty, and pv-1 is there once
    expect(await rows('SELECT id, sku, price, color FROM shop.product_viewed ORDER BY id')).toEqual([
      {id: 'pv-1', sku: 'S-1', price: '10', color: null},
      {id: 'pv-2', sku: 'S-2', price: '12', color: 'red'},
    ])
    expect(await columns('shop', 'product_viewed')).toMatchObject({price: 'bigint', color: 'text'})
    expect((await rows('SELECT id FROM shop.tracks ORDER BY id')).map((r) => r.id)).toEqual(['pv-1', 'pv-2'])
    const stored = await runCli(['events', '--json', '--dir', dir, '--user', 'pg-user-2'])
    expect(JSON.parse(stored.stdout).map((m: {messageId: string}) => m.messageId)).toEqual(['pv-1', 'pv-2'])
  })

  it('loads a messageId once even when the store holds it twice (two sources, one schema)', async () => {
    // Given one destination loading both sources into one schema
    await start({name: 'warehouse', schema: 'combined'})
    // When the same messageId comes from both sources (so the store keeps both)
    const web = sdk(testSources[0].writeKey)
    web.track({userId: 'pg-user-3', event: 'Signed Up', messageId: 'shared-1', properties: {via: 'web'}})
    await web.closeAndFlush({timeout: 10_000})
    await waitFor('the first delivered', async () => (await delivered('warehouse')) === 1)
    const server = sdk(testSources[1].writeKey)
    server.track({userId: 'pg-user-3', event: 'Signed Up', messageId: 'shared-1', properties: {via: 'server'}})
    await server.closeAndFlush({timeout: 10_000})
    await waitFor('the second delivered', async () => (await delivered('warehouse')) === 2)

    // Then PostgreSQL has one row, the first one loaded
    expect(await rows('SELECT id, via FROM combined.signed_up')).toEqual([{id: 'shared-1', via: 'web'}])
    expect(await rows('SELECT id FROM combined.tracks')).toEqual([{id: 'shared-1'}])
  })
})
