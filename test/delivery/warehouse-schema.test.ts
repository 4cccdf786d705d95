import {describe, expect, it} from 'vitest'
import {
  columnName,
  convertValue,
  eventTableName,
  inferColumnType,
  parseTimestamp,
  snakeCase,
  sourceSchemaName,
  warehouseRows,
  type WarehouseRow,
} from '../../src/delivery/warehouse-schema.js'
import type {SegmentMessage} from '../../src/message/types.js'

const loadedAt = '2026-03-01T12:00:11.000Z'

function message(fields: Partial<SegmentMessage> & Pick<SegmentMessage, 'type'>): SegmentMessage {
  return {
    messageId: 'm-1',
    userId: 'u-1',
    anonymousId: 'a-1',
    context: {},
    integrations: {},
    timestamp: '2026-03-01T12:00:05.000Z',
    receivedAt: '2026-03-01T12:00:10.000Z',
    ...fields,
  }
}

/** A row's cells as {column: value}, in column order. */
function values(row: WarehouseRow): Record<string, unknown> {
  return Object.fromEntries([...row.cells].map(([column, cell]) => [column, cell.value]))
}

function types(row: WarehouseRow): Record<string, string> {
  return Object.fromEntries([...row.cells].map(([column, cell]) => [column, cell.type]))
}

describe('snakeCase', () => {
  it('snake_cases as go-snakecase does', () => {
    const cases: [string, string][] = [
      ['Order Completed', 'order_completed'],
      ['sample-text', 'sample_text'],
      ['sample___text', 'sample_text'],
      ['sampleText', 'sample_text'],
      ['productId', 'product_id'],
      ['inviteYourCustomersAddInvites', 'invite_your_customers_add_invites'],
      ['   $#$sample   2    Text   ', 'sample_2_text'],
      ['SAMPLE 2 TEXT', 'sample_2_text'],
      ['___$$Base64Encode', 'base64_encode'],
      ['FOO:BAR$BAZ', 'foo_bar_baz'],
      ['something.com', 'something_com'],
      ['$something%', 'something'],
      ['•¶§ƒ˚foo˙∆˚¬', 'foo'],
      ['_id', 'id'],
      ['trailing_', 'trailing'],
      ['prénom', 'pr_nom'],
      ['日本', ''],
    ]
    for (const [input, expected] of cases) expect([input, snakeCase(input)]).toEqual([input, expected])
  })
})

describe('names', () => {
  it('flattens a path with _ and cuts it to 63 bytes without a trailing _', () => {
    expect(columnName(['page', 'url'])).toBe('page_url')
    expect(columnName(['userAgentData', 'mobile'])).toBe('user_agent_data_mobile')
    expect(columnName(['$', 'a'])).toBe('a')
    const long = columnName(['a'.repeat(62), 'b'])
    expect(long).toBe('a'.repeat(62))
    expect(columnName(['x'.repeat(100)])).toHaveLength(63)
  })

  it('names event tables by the event, and gives reserved names a trailing _', () => {
    expect(eventTableName('Order Completed')).toBe('order_completed')
    expect(eventTableName('Tracks')).toBe('tracks_')
    expect(eventTableName('users')).toBe('users_')
    expect(eventTableName('Identifies')).toBe('identifies_')
    expect(eventTableName('!!!')).toBeUndefined()
  })

  it('names a source schema after the source', () => {
    expect(sourceSchemaName('web')).toBe('web')
    expect(sourceSchemaName('iOS-App.prod')).toBe('i_os_app_prod')
    expect(sourceSchemaName('Marketing Site')).toBe('marketing_site')
  })
})

describe('column types', () => {
  it('infers a type from the first value', () => {
    expect(inferColumnType(42)).toBe('bigint')
    expect(inferColumnType(-7)).toBe('bigint')
    expect(inferColumnType(4.5)).toBe('double precision')
    expect(inferColumnType(1e20)).toBe('double precision')
    expect(inferColumnType(true)).toBe('boolean')
    expect(inferColumnType('2026-03-01T12:00:00Z')).toBe('timestamptz')
    expect(inferColumnType('2026-03-01 12:00:00.123456+05:30')).toBe('timestamptz')
    expect(inferColumnType('2026-03-01T12:00:00')).toBe('text')
    expect(inferColumnType('2026-03-01')).toBe('text')
    expect(inferColumnType('2026-02-30T12:00:00Z')).toBe('text')
    expect(inferColumnType('hello')).toBe('text')
  })

  it('reads an ISO date-time with a zone as an instant, to the millisecond', () => {
    expect(parseTimestamp('2026-03-01T12:00:00+02:00')).toBe('2026-03-01T10:00:00.000Z')
    expect(parseTimestamp('2026-03-01T12:00:00.123456Z')).toBe('2026-03-01T12:00:00.123Z')
    expect(parseTimestamp('2024-02-29T00:00Z')).toBe('2024-02-29T00:00:00.000Z')
    expect(parseTimestamp('2023-02-29T00:00Z')).toBeUndefined()
    expect(parseTimestamp('2026-03-01T24:00:00Z')).toBeUndefined()
    expect(parseTimestamp('0000-01-01T00:00:00Z')).toBeUndefined()
  })

  it('converts a value into another type only when nothing is lost, else null', () => {
    expect(convertValue('42', 'bigint')).toBe('42')
    expect(convertValue('9223372036854775807', 'bigint')).toBe('9223372036854775807')
    expect(convertValue('9223372036854775808', 'bigint')).toBeNull()
    expect(convertValue(1.5, 'bigint')).toBeNull()
    expect(convertValue('abc', 'bigint')).toBeNull()
    expect(convertValue(true, 'bigint')).toBeNull()
    expect(convertValue(3, 'double precision')).toBe(3)
    expect(convertValue('2.5', 'double precision')).toBe(2.5)
    expect(convertValue('1e3', 'double precision')).toBe(1000)
    expect(convertValue('lots', 'double precision')).toBeNull()
    expect(convertValue('true', 'boolean')).toBe(true)
    expect(convertValue(1, 'boolean')).toBeNull()
    expect(convertValue(12.5, 'text')).toBe('12.5')
    expect(convertValue(false, 'text')).toBe('false')
    expect(convertValue('2026-03-01T12:00:00-01:00', 'timestamptz')).toBe('2026-03-01T13:00:00.000Z')
    expect(convertValue('yesterday', 'timestamptz')).toBeNull()
    expect(convertValue(1767225600000, 'timestamptz')).toBeNull()
  })
})

describe('warehouseRows', () => {
  it('puts a track in tracks (standard columns only) and in its event table (with properties)', () => {
    // Given an Order Completed track with nested properties and a products array
    const rows = warehouseRows(
      message({
        type: 'track',
        event: 'Order Completed',
        sentAt: '2026-03-01T12:00:06.000Z',
        originalTimestamp: '2026-03-01T11:00:00.000Z',
        context: {library: {name: 'analytics-node', version: '3.1.0'}, page: {url: 'https://shop.test/cart'}, userAgent: 'UA'},
        properties: {orderId: 'o-1', total: 42.5, currency: 'EUR', coupon: null, shipping: {method: 'DHL', days: 2}, products: [{sku: 'A', price: 10}]},
      }),
      loadedAt,
    )
    // Then two rows
    expect(rows.map((row) => [row.table, row.upsert])).toEqual([
      ['tracks', false],
      ['order_completed', false],
    ])
    const common = {
      id: 'm-1',
      anonymous_id: 'a-1',
      user_id: 'u-1',
      received_at: '2026-03-01T12:00:10.000Z',
      sent_at: '2026-03-01T12:00:06.000Z',
      timestamp: '2026-03-01T12:00:05.000Z',
      original_timestamp: '2026-03-01T11:00:00.000Z',
      uuid_ts: loadedAt,
      event: 'order_completed',
      event_text: 'Order Completed',
      context_library_name: 'analytics-node',
      context_library_version: '3.1.0',
      context_page_url: 'https://shop.test/cart',
      context_user_agent: 'UA',
    }
    expect(values(rows[0])).toEqual(common)
    expect(values(rows[1])).toEqual({
      ...common,
      order_id: 'o-1',
      total: 42.5,
      currency: 'EUR',
      shipping_method: 'DHL',
      shipping_days: 2,
      products: '[{"sku":"A","price":10}]',
    })
    expect(types(rows[1])).toMatchObject({received_at: 'timestamptz', total: 'double precision', shipping_days: 'bigint', products: 'text', id: 'text'})
  })

  it('keeps the first of two keys that give one column, and drops reserved names', () => {
    const [, event] = warehouseRows(
      message({
        type: 'track',
        event: 'Signed Up',
        context: {page: {url: 'https://a.test'}},
        properties: {planName: 'pro', plan_name: 'free', user_id: 'spoof', id: 'x', context_page_url: 'spoof', event: 'spoof', plan: {name: 'nested'}},
      }),
      loadedAt,
    )
    expect(values(event)).toMatchObject({plan_name: 'pro', user_id: 'u-1', id: 'm-1', context_page_url: 'https://a.test', event: 'signed_up'})
  })

  it('puts identify traits in identifies and upserts them into users', () => {
    const rows = warehouseRows(message({type: 'identify', traits: {email: 'ada@example.com', address: {city: 'London'}, logins: 3, id: 'ignored'}}), loadedAt)
    expect(rows.map((row) => [row.table, row.upsert])).toEqual([
      ['identifies', false],
      ['users', true],
    ])
    expect(values(rows[0])).toMatchObject({id: 'm-1', user_id: 'u-1', email: 'ada@example.com', address_city: 'London', logins: 3})
    expect(values(rows[1])).toEqual({id: 'u-1', received_at: '2026-03-01T12:00:10.000Z', uuid_ts: loadedAt, email: 'ada@example.com', address_city: 'London', logins: 3})
  })

  it('leaves users alone for an anonymous identify', () => {
    const rows = warehouseRows(message({type: 'identify', userId: undefined, traits: {email: 'x@y.z'}}), loadedAt)
    expect(rows.map((row) => row.table)).toEqual(['identifies'])
  })

  it('maps page, screen, group and alias to their tables', () => {
    const [page] = warehouseRows(message({type: 'page', name: 'Home', category: 'Docs', properties: {title: 'Welcome', path: '/'}}), loadedAt)
    expect(page.table).toBe('pages')
    expect(values(page)).toMatchObject({name: 'Home', category: 'Docs', title: 'Welcome', path: '/'})
    const [screen] = warehouseRows(message({type: 'screen', name: 'Settings', properties: {tab: 'privacy'}}), loadedAt)
    expect([screen.table, values(screen).name, values(screen).tab]).toEqual(['screens', 'Settings', 'privacy'])
    const [group] = warehouseRows(message({type: 'group', groupId: 'g-1', traits: {name: 'Initech', employeeCount: 120}}), loadedAt)
    expect(group.table).toBe('groups')
    expect(values(group)).toMatchObject({group_id: 'g-1', name: 'Initech', employee_count: 120})
    const [alias] = warehouseRows(message({type: 'alias', previousId: 'a-1'}), loadedAt)
    expect(alias.table).toBe('aliases')
    expect(values(alias)).toMatchObject({previous_id: 'a-1', user_id: 'u-1'})
  })

  it('sends a track whose name makes no table to tracks only', () => {
    const rows = warehouseRows(message({type: 'track', event: '¿¡'}), loadedAt)
    expect(rows.map((row) => row.table)).toEqual(['tracks'])
    expect(values(rows[0]).event_text).toBe('¿¡')
    expect(values(rows[0]).event).toBeUndefined()
  })

  it('strips NUL from strings, which PostgreSQL text cannot hold', () => {
    const [, event] = warehouseRows(message({type: 'track', event: 'A', properties: {note: 'a\0b'}}), loadedAt)
    expect(values(event).note).toBe('ab')
  })
})
