import pg from 'pg'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {DestinationSettings} from '../../src/config/destinations.js'
import {createPostgresDestination} from '../../src/delivery/postgres.js'
import {DeliveryError, type DestinationAdapter, type OutgoingEvent} from '../../src/delivery/types.js'
import {ExitCode, UserError} from '../../src/errors.js'
import {createLogger, silentLogger, type Logger} from '../../src/log.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {postgresAvailable, startPostgres, type PostgresServer} from '../helpers/postgres-server.js'
import {unusedPort} from '../helpers/ports.js'

const context = {
  library: {name: 'analytics.js', version: '1.84.3'},
  page: {url: 'https://shop.example/cart', path: '/cart', title: 'Cart'},
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0',
}

let counter = 0
/** A normalised message as the store holds it; ids and times unique unless given. */
function message(fields: Partial<SegmentMessage> & Pick<SegmentMessage, 'type'>): SegmentMessage {
  counter++
  return {
    messageId: `msg-${counter}`,
    userId: 'user-1',
    anonymousId: 'anon-1',
    context,
    integrations: {},
    timestamp: '2026-03-01T12:00:05.000Z',
    originalTimestamp: '2026-03-01T12:00:04.500Z',
    sentAt: '2026-03-01T12:00:04.600Z',
    receivedAt: '2026-03-01T12:00:05.100Z',
    ...fields,
  }
}

function outgoing(msg: SegmentMessage, source = 'web'): OutgoingEvent {
  return {seq: counter, messageId: msg.messageId, source, userKey: msg.userId ?? msg.messageId, json: JSON.stringify(msg), message: msg}
}

const orderCompleted = (fields: Partial<SegmentMessage> = {}) =>
  message({
    type: 'track',
    event: 'Order Completed',
    properties: {
      orderId: 'order-1001',
      total: 27.5,
      quantity: 3,
      gift: false,
      deliveredBy: '2026-03-04T18:00:00+01:00',
      shipping: {method: 'DHL', address: {city: 'Berlin'}},
      products: [
        {sku: 'SKU-1', price: 12.5},
        {sku: 'SKU-2', price: 15},
      ],
    },
    ...fields,
  })

describe.skipIf(!postgresAvailable())('postgres destination', () => {
  let server: PostgresServer
  let db: pg.Pool
  const open: DestinationAdapter[] = []

  beforeAll(async () => {
    server = await startPostgres()
    db = new pg.Pool({connectionString: server.connectionString, max: 2})
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((adapter) => adapter.close()))
  })
  afterAll(async () => {
    await db?.end()
    await server?.stop()
  })

  function destination(settings: Partial<DestinationSettings<'postgres'>> = {}, log: Logger = silentLogger): DestinationAdapter {
    const config: DestinationSettings<'postgres'> = {name: 'warehouse', type: 'postgres', connectionString: server.connectionString, ...settings}
    const adapter = createPostgresDestination(config, {dir: '/nonexistent', log})
    open.push(adapter)
    return adapter
  }

  const send = (adapter: DestinationAdapter, messages: SegmentMessage[], source = 'web') =>
    adapter.send(
      messages.map((m) => outgoing(m, source)),
      new AbortController().signal,
    )

  async function columns(schema: string, table: string): Promise<Record<string, string>> {
    const result = await db.query<{column_name: string; data_type: string}>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name',
      [schema, table],
    )
    return Object.fromEntries(result.rows.map((row) => [row.column_name, row.data_type]))
  }

  async function tables(schema: string): Promise<string[]> {
    const result = await db.query<{table_name: string}>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    )
    return result.rows.map((row) => row.table_name)
  }

  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await db.query(sql)).rows
  }

  it('loads every message type into its Segment table, with typed columns', async () => {
    // Given a track, an identify, a page, a screen, a group and an alias from source "web"
    const adapter = destination()
    await adapter.open!()
    const track = orderCompleted()
    await send(adapter, [
      track,
      message({type: 'identify', traits: {email: 'ada@example.com', firstName: 'Ada', logins: 3, address: {city: 'London'}}}),
      message({type: 'page', name: 'Cart', category: 'Shop', properties: {title: 'Your cart', referrer: 'https://search.example'}}),
      message({type: 'screen', name: 'Settings', properties: {tab: 'privacy'}}),
      message({type: 'group', groupId: 'group-7', traits: {name: 'Initech', employeeCount: 120}}),
      message({type: 'alias', previousId: 'anon-1'}),
    ])

    // Then schema "web" has Segment's tables
    expect(await tables('web')).toEqual(['aliases', 'groups', 'identifies', 'order_completed', 'pages', 'screens', 'tracks', 'users'])
    const common = {
      id: 'text',
      anonymous_id: 'text',
      user_id: 'text',
      received_at: 'timestamp with time zone',
      sent_at: 'timestamp with time zone',
      timestamp: 'timestamp with time zone',
      original_timestamp: 'timestamp with time zone',
      uuid_ts: 'timestamp with time zone',
      context_ip: 'text',
      context_library_name: 'text',
      context_library_version: 'text',
      context_page_path: 'text',
      context_page_title: 'text',
      context_page_url: 'text',
      context_user_agent: 'text',
    }
    // tracks has the standard columns only; the event's table has its properties too
    expect(await columns('web', 'tracks')).toEqual({...common, event: 'text', event_text: 'text'})
    expect(await columns('web', 'order_completed')).toEqual({
      ...common,
      event: 'text',
      event_text: 'text',
      order_id: 'text',
      total: 'double precision',
      quantity: 'bigint',
      gift: 'boolean',
      delivered_by: 'timestamp with time zone',
      shipping_method: 'text',
      shipping_address_city: 'text',
      products: 'text',
    })
    expect(await rows('SELECT * FROM web.order_completed')).toEqual([
      {
        id: track.messageId,
        anonymous_id: 'anon-1',
        user_id: 'user-1',
        received_at: new Date('2026-03-01T12:00:05.100Z'),
        sent_at: new Date('2026-03-01T12:00:04.600Z'),
        timestamp: new Date('2026-03-01T12:00:05.000Z'),
        original_timestamp: new Date('2026-03-01T12:00:04.500Z'),
        uuid_ts: expect.any(Date),
        event: 'order_completed',
        event_text: 'Order Completed',
        context_ip: '203.0.113.7',
        context_library_name: 'analytics.js',
        context_library_version: '1.84.3',
        context_page_path: '/cart',
        context_page_title: 'Cart',
        context_page_url: 'https://shop.example/cart',
        context_user_agent: 'Mozilla/5.0',
        order_id: 'order-1001',
        total: 27.5,
        quantity: '3',
        gift: false,
        delivered_by: new Date('2026-03-04T17:00:00.000Z'),
        shipping_method: 'DHL',
        shipping_address_city: 'Berlin',
        products: '[{"sku":"SKU-1","price":12.5},{"sku":"SKU-2","price":15}]',
      },
    ])
    expect(await rows('SELECT id, event, event_text FROM web.tracks')).toEqual([{id: track.messageId, event: 'order_completed', event_text: 'Order Completed'}])

    expect(await columns('web', 'identifies')).toEqual({...common, email: 'text', first_name: 'text', logins: 'bigint', address_city: 'text'})
    expect(await rows('SELECT user_id, email, first_name, logins, address_city FROM web.identifies')).toEqual([
      {user_id: 'user-1', email: 'ada@example.com', first_name: 'Ada', logins: '3', address_city: 'London'},
    ])
    expect(await columns('web', 'users')).toEqual({
      id: 'text',
      received_at: 'timestamp with time zone',
      uuid_ts: 'timestamp with time zone',
      email: 'text',
      first_name: 'text',
      logins: 'bigint',
      address_city: 'text',
    })
    expect(await rows('SELECT id, email, received_at FROM web.users')).toEqual([
      {id: 'user-1', email: 'ada@example.com', received_at: new Date('2026-03-01T12:00:05.100Z')},
    ])
    expect(await rows('SELECT name, category, title, referrer, context_page_url FROM web.pages')).toEqual([
      {name: 'Cart', category: 'Shop', title: 'Your cart', referrer: 'https://search.example', context_page_url: 'https://shop.example/cart'},
    ])
    expect(await rows('SELECT name, tab FROM web.screens')).toEqual([{name: 'Settings', tab: 'privacy'}])
    expect(await rows('SELECT group_id, user_id, name, employee_count FROM web.groups')).toEqual([
      {group_id: 'group-7', user_id: 'user-1', name: 'Initech', employee_count: '120'},
    ])
    expect(await rows('SELECT previous_id, user_id FROM web.aliases')).toEqual([{previous_id: 'anon-1', user_id: 'user-1'}])
  })

  it('adds a column when a later batch brings a new property', async () => {
    const adapter = destination({schema: 'new_columns'})
    const first = message({type: 'track', event: 'Video Played', properties: {position: 10}})
    await send(adapter, [first])
    expect(Object.keys(await columns('new_columns', 'video_played'))).not.toContain('quality')

    const second = message({type: 'track', event: 'Video Played', properties: {position: 20, quality: 'hd', fullScreen: true}})
    await send(adapter, [second])

    expect(await columns('new_columns', 'video_played')).toMatchObject({position: 'bigint', quality: 'text', full_screen: 'boolean'})
    expect(await rows('SELECT id, position, quality, full_screen FROM new_columns.video_played ORDER BY position')).toEqual([
      {id: first.messageId, position: '10', quality: null, full_screen: null},
      {id: second.messageId, position: '20', quality: 'hd', full_screen: true},
    ])
  })

  it('does not duplicate a replayed messageId', async () => {
    const adapter = destination({schema: 'replays'})
    const track = orderCompleted()
    const page = message({type: 'page', name: 'Home'})
    await send(adapter, [track, page, track])
    // A retry of the whole batch, as at-least-once delivery may do
    await send(adapter, [track, page])

    expect(await rows('SELECT count(*)::int AS n FROM replays.tracks')).toEqual([{n: 1}])
    expect(await rows('SELECT count(*)::int AS n FROM replays.order_completed')).toEqual([{n: 1}])
    expect(await rows('SELECT count(*)::int AS n FROM replays.pages')).toEqual([{n: 1}])
  })

  it('upserts users: the latest identify wins, traits it does not carry are kept', async () => {
    const adapter = destination({schema: 'upserts'})
    const early = message({type: 'identify', userId: 'user-9', receivedAt: '2026-03-01T10:00:00.000Z', traits: {email: 'old@example.com', plan: 'free'}})
    await send(adapter, [early])
    await send(adapter, [message({type: 'identify', userId: 'user-9', receivedAt: '2026-03-01T11:00:00.000Z', traits: {plan: 'pro', seats: 5}})])
    // An old identify delivered again (a replay) does not undo the newer one
    await send(adapter, [{...early, messageId: 'replayed-early'}])
    // Two identifies of one user in one batch: the later one's values win
    await send(adapter, [
      message({type: 'identify', userId: 'user-9', receivedAt: '2026-03-01T12:00:00.000Z', traits: {seats: 6}}),
      message({type: 'identify', userId: 'user-9', receivedAt: '2026-03-01T12:00:01.000Z', traits: {seats: 7, company: 'Initech'}}),
    ])

    expect(await rows('SELECT id, email, plan, seats, company, received_at FROM upserts.users')).toEqual([
      {id: 'user-9', email: 'old@example.com', plan: 'pro', seats: '7', company: 'Initech', received_at: new Date('2026-03-01T12:00:01.000Z')},
    ])
    expect(await rows('SELECT count(*)::int AS n FROM upserts.identifies')).toEqual([{n: 5}])
  })

  it('puts each source in its own schema by default, and everything in the schema given', async () => {
    const perSource = destination()
    await send(perSource, [message({type: 'track', event: 'Signed Up'})], 'web')
    await send(perSource, [message({type: 'track', event: 'Signed Up'})], 'Mobile-App')
    expect(await tables('mobile_app')).toEqual(['signed_up', 'tracks'])
    expect(await rows('SELECT count(*)::int AS n FROM web.signed_up')).toEqual([{n: 1}])

    const shared = destination({schema: 'analytics'})
    await send(shared, [message({type: 'track', event: 'Signed Up'})], 'web')
    await send(shared, [message({type: 'track', event: 'Signed Up'})], 'Mobile-App')
    expect(await tables('analytics')).toEqual(['signed_up', 'tracks'])
    expect(await rows('SELECT count(*)::int AS n FROM analytics.tracks')).toEqual([{n: 2}])
    expect(await rows('SELECT count(*)::int AS n FROM web.signed_up')).toEqual([{n: 1}])
  })

  it('sends an event named like a reserved table to that name with a trailing _', async () => {
    const adapter = destination({schema: 'reserved'})
    await send(adapter, [message({type: 'track', event: 'Users', properties: {count: 2}})])
    expect(await tables('reserved')).toEqual(['tracks', 'users_'])
    expect(await rows('SELECT event, event_text, count FROM reserved.users_')).toEqual([{event: 'users_', event_text: 'Users', count: '2'}])
  })

  it('converts a value of another type when nothing is lost, else stores NULL', async () => {
    // Given columns typed by their first values
    const adapter = destination({schema: 'types'})
    await send(adapter, [
      message({
        type: 'track',
        event: 'Typed',
        messageId: 'first',
        properties: {count: 5, price: 10, ratio: 0.5, flag: true, when: '2026-03-01T12:00:00Z', label: 'x'},
      }),
    ])
    // When later values have other types
    await send(adapter, [
      message({
        type: 'track',
        event: 'Typed',
        messageId: 'convertible',
        properties: {count: '7', price: 2.5, ratio: 3, flag: 'false', when: '2026-03-01T13:00:00+01:00', label: 42},
      }),
      message({
        type: 'track',
        event: 'Typed',
        messageId: 'not-convertible',
        properties: {count: 'seven', price: 'cheap', ratio: true, flag: 'yes', when: 'tomorrow', label: [1, 2]},
      }),
    ])
    // And a restarted adapter (empty cache) reads the types from the catalog
    const restarted = destination({schema: 'types'})
    await send(restarted, [message({type: 'track', event: 'Typed', messageId: 'after-restart', properties: {count: 'abc', price: '3', label: true}})])

    expect(await columns('types', 'typed')).toMatchObject({
      count: 'bigint',
      price: 'bigint',
      ratio: 'double precision',
      flag: 'boolean',
      when: 'timestamp with time zone',
      label: 'text',
    })
    expect(await rows('SELECT id, count, price, ratio, flag, "when", label FROM types.typed ORDER BY id')).toEqual([
      {id: 'after-restart', count: null, price: '3', ratio: null, flag: null, when: null, label: 'true'},
      {id: 'convertible', count: '7', price: null, ratio: 3, flag: false, when: new Date('2026-03-01T12:00:00Z'), label: '42'},
      {id: 'first', count: '5', price: '10', ratio: 0.5, flag: true, when: new Date('2026-03-01T12:00:00Z'), label: 'x'},
      {id: 'not-convertible', count: null, price: null, ratio: null, flag: null, when: null, label: '[1,2]'},
    ])
  })

  it('chunks a large batch under the 65535-parameter limit', async () => {
    const adapter = destination({schema: 'large'})
    const properties = Object.fromEntries(Array.from({length: 30}, (_, i) => [`field${i}`, i]))
    const batch = Array.from({length: 2500}, () => message({type: 'track', event: 'Bulk', properties}))
    // 2500 rows × 47 columns = 117 500 parameters: two statements at least
    await send(adapter, batch)
    expect(await rows('SELECT count(*)::int AS n, sum(field29)::int AS s FROM large.bulk')).toEqual([{n: 2500, s: 2500 * 29}])
  })

  it('survives concurrent first sends racing to create the same schema, tables and columns', async () => {
    const a = destination({schema: 'race'})
    const b = destination({schema: 'race'})
    const batches = Array.from({length: 6}, (_, i) => [message({type: 'track', event: 'Raced', properties: {[`p${i % 3}`]: i}})])
    await Promise.all(batches.map((batch, i) => send(i % 2 === 0 ? a : b, batch)))
    expect(await rows('SELECT count(*)::int AS n FROM race.raced')).toEqual([{n: 6}])
    expect(await columns('race', 'raced')).toMatchObject({p0: 'bigint', p1: 'bigint', p2: 'bigint'})
  })

  it('keeps the type another writer gave a column this adapter had not seen', async () => {
    // Given adapter B has cached table "shared" before adapter A adds column v as bigint
    const lines: string[] = []
    const b = destination({schema: 'writers'}, createLogger({level: 'debug', write: (line) => lines.push(line)}))
    await send(b, [message({type: 'track', event: 'Shared', properties: {x: 1}})])
    const a = destination({schema: 'writers'})
    await send(a, [message({type: 'track', event: 'Shared', messageId: 'from-a', properties: {v: 5}})])

    // When B sends a string for v
    await send(b, [message({type: 'track', event: 'Shared', messageId: 'from-b', properties: {v: 'seven', w: '8'}})])

    // Then v stays bigint, B's value that does not fit is NULL, and B needed no second attempt
    expect(await columns('writers', 'shared')).toMatchObject({x: 'bigint', v: 'bigint', w: 'text'})
    expect(await rows("SELECT id, v, w FROM writers.shared WHERE id IN ('from-a', 'from-b') ORDER BY id")).toEqual([
      {id: 'from-a', v: '5', w: null},
      {id: 'from-b', v: null, w: '8'},
    ])
    expect(lines.filter((line) => line.includes('retrying'))).toEqual([])
    expect(lines).toContain('destination "warehouse" (postgres): writers.shared.v is bigint; "seven" does not fit and is stored as NULL')
  })

  it('gives up without retrying on data PostgreSQL refuses, with its message', async () => {
    // Given a column someone changed to jsonb
    const adapter = destination({schema: 'refused'})
    await send(adapter, [message({type: 'track', event: 'Noted', properties: {note: '{"a":1}'}})])
    await db.query('ALTER TABLE refused.noted ALTER COLUMN note TYPE jsonb USING note::jsonb')

    // When a value arrives that is not JSON
    const error = await send(adapter, [message({type: 'track', event: 'Noted', properties: {note: 'plain words'}})]).catch((e: unknown) => e)

    // Then the send fails for good, saying why
    expect(error).toBeInstanceOf(DeliveryError)
    expect((error as DeliveryError).retryable).toBe(false)
    expect((error as DeliveryError).body).toMatch(/^22P02: invalid input syntax for type json/)
    expect((error as DeliveryError).message).toContain('destination "warehouse" (postgres)')
    // and nothing of the batch was loaded (one transaction)
    expect(await rows('SELECT count(*)::int AS n FROM refused.tracks')).toEqual([{n: 1}])
  })

  it('refuses to open when PostgreSQL is not there, naming the destination and hiding the password', async () => {
    const port = await unusedPort()
    const adapter = destination({connectionString: `postgres://cdp:s3cret@127.0.0.1:${port}/analytics`})

    const error = await adapter.open!().catch((e: unknown) => e)

    expect(error).toBeInstanceOf(UserError)
    expect((error as UserError).message).toBe(
      `destination "warehouse" (postgres): cannot connect to postgres://cdp:***@127.0.0.1:${port}/analytics: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    expect((error as UserError).exitCode).toBe(ExitCode.environment)
    expect((error as UserError).hint).toMatch(/Start PostgreSQL, or fix connectionString/)

    // A send meanwhile fails in a way worth retrying
    const sent = await send(adapter, [message({type: 'page'})]).catch((e: unknown) => e)
    expect(sent).toBeInstanceOf(DeliveryError)
    expect((sent as DeliveryError).retryable).toBe(true)
    expect((sent as DeliveryError).message).not.toContain('s3cret')
  })

  it('fails an aborted send as retryable without loading it', async () => {
    const adapter = destination({schema: 'aborted'})
    const controller = new AbortController()
    controller.abort(new Error('timed out after 10000 ms'))
    const error = await adapter.send([outgoing(message({type: 'page'}))], controller.signal).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeliveryError)
    expect((error as DeliveryError).retryable).toBe(true)
    expect(await tables('aborted')).toEqual([])
  })
})

