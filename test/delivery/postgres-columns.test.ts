import pg from 'pg'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {configProblems} from '../../src/config/load.js'
import {postgresColumnBudget} from '../../src/config/destinations.js'
import type {DestinationConfig} from '../../src/config/schema.js'
import {createPostgresDestination} from '../../src/delivery/postgres.js'
import type {DestinationAdapter, OutgoingEvent} from '../../src/delivery/types.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {postgresAvailable, startPostgres, type PostgresServer} from '../helpers/postgres-server.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

/**
 * One sender must not be able to push a table to PostgreSQL's 1,600-column limit, after which
 * every later event would be dead-lettered: past the destination's column budget, a row loads
 * without the new columns and each column left out is warned about once.
 */

const writeKey = testSources[0].writeKey
/** Properties p0001… with short values: a row of many columns still fits PostgreSQL's 8 KB page. */
const props = (from: number, to: number) => Object.fromEntries(Array.from({length: to - from + 1}, (_, i) => [`p${String(from + i).padStart(4, '0')}`, 'v']))
const leftOutWarnings = (lines: string[], table: string) => lines.filter((line) => line.includes(`: ${table}: `) && line.includes('is not created'))

async function columnsOf(db: pg.Pool, schema: string, table: string): Promise<string[]> {
  const result = await db.query<{column_name: string}>('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position', [schema, table])
  return result.rows.map((row) => row.column_name)
}

describe('postgres destination column budget: the setting', () => {
  const config = (maxColumnsPerTable: unknown) => ({
    sources: testSources,
    destinations: [{name: 'warehouse', type: 'postgres', connectionString: 'postgres://cdp@127.0.0.1/analytics', maxColumnsPerTable}],
  })

  it(`takes a whole number from ${postgresColumnBudget.minimum} to ${postgresColumnBudget.maximum}, and refuses others naming the field`, () => {
    expect(configProblems(config(20))).toEqual([])
    expect(configProblems(config(1500))).toEqual([])
    expect(configProblems(config(19))).toEqual(['/destinations/0/maxColumnsPerTable: must be >= 20 (destination "warehouse")'])
    expect(configProblems(config(1600))).toEqual(['/destinations/0/maxColumnsPerTable: must be <= 1500 (destination "warehouse")'])
    expect(configProblems(config('500'))).toEqual(['/destinations/0/maxColumnsPerTable: must be integer (destination "warehouse")'])
  })
})

describe.skipIf(!postgresAvailable())('postgres destination column budget', () => {
  let server: PostgresServer
  let db: pg.Pool
  let daemon: TestDaemon | undefined
  const open: DestinationAdapter[] = []

  beforeAll(async () => {
    server = await startPostgres({database: 'cdp_columns'})
    db = new pg.Pool({connectionString: server.connectionString, max: 2})
  })
  afterEach(async () => {
    await daemon?.close()
    daemon = undefined
    await Promise.all(open.splice(0).map((adapter) => adapter.close()))
  })
  afterAll(async () => {
    await db?.end()
    await server?.stop()
  })

  async function startDaemon(destination: Partial<DestinationConfig>): Promise<{url: string; lines: string[]}> {
    const log = memoryLogger()
    daemon = await startTestDaemon({
      log,
      config: {sources: testSources, destinations: [{name: 'warehouse', type: 'postgres', connectionString: server.connectionString, batchSize: 10, ...destination}]},
    })
    return {url: daemon.url, lines: log.lines}
  }

  async function deliveryState(url: string): Promise<{delivered: number; dead: number; retrying: number}> {
    const report = await getJson(`${url}/api/deliveries`)
    return report.body.destinations.find((d: {name: string}) => d.name === 'warehouse')
  }

  const track = (id: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    type: 'track',
    event: 'Product Viewed',
    messageId: id,
    userId: 'user-1',
    context: {library: {name: 'analytics-node', version: '2.1.0'}},
    properties,
    ...extra,
  })

  it('loads every event past a budget of 20 without the new columns, warning once per column', async () => {
    // Given cdp dev with a PostgreSQL destination whose tables may have 20 columns
    const {url, lines} = await startDaemon({schema: 'budget', maxColumnsPerTable: 20})

    // When events bring more and more properties, some of them again and again
    const sent = [
      track('e-1', props(1, 10)),
      track('e-2', props(1, 30)),
      track('e-3', props(5, 40)),
      ...Array.from({length: 20}, (_, i) => track(`e-${4 + i}`, props(1, 40))),
    ]
    for (const message of sent) expect((await post(`${url}/v1/track`, message, {writeKey})).status).toBe(200)

    // Then every event is delivered: none dead-lettered, none retrying
    await waitFor('23 deliveries', async () => (await deliveryState(url)).delivered === 23)
    expect(await deliveryState(url)).toMatchObject({delivered: 23, dead: 0, retrying: 0})
    // the event table has exactly 20 columns: the standard ones, 2 of context, then the first properties
    const columns = await columnsOf(db, 'budget', 'product_viewed')
    expect(columns).toHaveLength(20)
    const standard = ['id', 'user_id', 'received_at', 'timestamp', 'uuid_ts', 'event', 'event_text', 'context_library_name', 'context_library_version']
    expect(columns).toEqual(expect.arrayContaining(standard))
    const kept = columns.filter((column) => /^p\d{4}$/.test(column))
    expect(kept).toEqual(Object.keys(props(1, kept.length)))
    expect(kept.length).toBeGreaterThanOrEqual(8)
    expect(await columnsOf(db, 'budget', 'tracks')).toHaveLength(20 - kept.length)
    // every row is there, with the values of the columns it kept
    const rows = await db.query('SELECT id, p0001, p0005 FROM budget.product_viewed ORDER BY id')
    expect(rows.rows).toHaveLength(23)
    expect(rows.rows.find((row) => row.id === 'e-3')).toEqual({id: 'e-3', p0001: null, p0005: 'v'})
    // and one warning per column left out, however many events carried it
    const warnings = leftOutWarnings(lines, 'budget.product_viewed')
    expect(warnings.map((line) => /column "(p\d+)"/.exec(line)?.[1])).toEqual(Object.keys(props(kept.length + 1, 40)))
    expect(warnings[0]).toBe(
      `destination "warehouse" (postgres): budget.product_viewed: it has 20 columns, its budget of 20 (maxColumnsPerTable); column "p${String(kept.length + 1).padStart(4, '0')}" is not created and its values are left out of the rows`,
    )
  })

  it('still makes a standard column that comes after the budget is spent', async () => {
    // Given a table whose budget anonymous events used up
    const adapter = createPostgresDestination({name: 'warehouse', type: 'postgres', connectionString: server.connectionString, schema: 'standard', maxColumnsPerTable: 20}, {dir: '/nonexistent', log: memoryLogger()})
    open.push(adapter)
    const message = (id: string, fields: Partial<SegmentMessage>) =>
      ({type: 'track', event: 'Signed Up', messageId: id, anonymousId: 'anon-1', receivedAt: '2026-03-01T12:00:05.000Z', timestamp: '2026-03-01T12:00:05.000Z', ...fields}) as SegmentMessage
    const outgoing = (msg: SegmentMessage): OutgoingEvent => ({seq: 1, messageId: msg.messageId, source: 'web', userKey: 'anon-1', json: JSON.stringify(msg), message: msg})
    await adapter.send([outgoing(message('a-1', {properties: props(1, 40)}))], new AbortController().signal)
    expect(await columnsOf(db, 'standard', 'signed_up')).toHaveLength(20)

    // When the first event with a userId comes
    await adapter.send([outgoing(message('a-2', {userId: 'user-7', properties: props(1, 40)}))], new AbortController().signal)

    // Then its user_id is stored: the table has that one column more
    expect(await columnsOf(db, 'standard', 'signed_up')).toContain('user_id')
    expect(await columnsOf(db, 'standard', 'signed_up')).toHaveLength(21)
    expect((await db.query("SELECT user_id FROM standard.signed_up WHERE id = 'a-2'")).rows).toEqual([{user_id: 'user-7'}])
  })

  it(`by default (${postgresColumnBudget.default} columns) loads an event of 1,700 properties, far from PostgreSQL's 1,600`, async () => {
    // Given cdp dev with the default budget
    const {url, lines} = await startDaemon({schema: 'wide'})

    // When an event with 1,700 distinct properties comes, then one with 1,700 others
    expect((await post(`${url}/v1/track`, track('wide-1', props(1, 1700)), {writeKey})).status).toBe(200)
    expect((await post(`${url}/v1/track`, track('wide-2', props(1701, 3400)), {writeKey})).status).toBe(200)

    // Then both are delivered, the table stops at the budget
    await waitFor('two deliveries', async () => (await deliveryState(url)).delivered === 2)
    expect(await deliveryState(url)).toMatchObject({delivered: 2, dead: 0, retrying: 0})
    expect(await columnsOf(db, 'wide', 'product_viewed')).toHaveLength(postgresColumnBudget.default)
    expect((await db.query('SELECT id, p0001, p0988 FROM wide.product_viewed ORDER BY id')).rows).toEqual([
      {id: 'wide-1', p0001: 'v', p0988: 'v'},
      {id: 'wide-2', p0001: null, p0988: null},
    ])
    // and the log names the first 100 columns left out, then says once that more were
    const warnings = lines.filter((line) => line.includes('wide.product_viewed'))
    expect(warnings).toHaveLength(101)
    expect(warnings[100]).toBe('destination "warehouse" (postgres): wide.product_viewed: further columns past the budget are left out too, without a warning each')
  })

  it('keeps loading into a table PostgreSQL itself calls full (dropped columns count towards its 1,600)', async () => {
    // Given a table whose 1,598 dropped columns leave room for one more in PostgreSQL's eyes
    await db.query('CREATE SCHEMA full_up')
    await db.query('CREATE TABLE full_up.product_viewed (id text PRIMARY KEY)')
    const many = Array.from({length: 1598}, (_, i) => `c${i}`)
    await db.query(`ALTER TABLE full_up.product_viewed ${many.map((c) => `ADD COLUMN ${c} text`).join(', ')}`)
    await db.query(`ALTER TABLE full_up.product_viewed ${many.map((c) => `DROP COLUMN ${c}`).join(', ')}`)
    const {url, lines} = await startDaemon({schema: 'full_up'})

    // When events bring columns
    for (let n = 1; n <= 3; n++) expect((await post(`${url}/v1/track`, track(`full-${n}`, props(1, 5)), {writeKey})).status).toBe(200)

    // Then they are delivered without them, and the log says why, once per column
    await waitFor('three deliveries', async () => (await deliveryState(url)).delivered === 3)
    expect(await deliveryState(url)).toMatchObject({delivered: 3, dead: 0})
    expect((await db.query('SELECT id FROM full_up.product_viewed ORDER BY id')).rows).toEqual([{id: 'full-1'}, {id: 'full-2'}, {id: 'full-3'}])
    const warnings = leftOutWarnings(lines, 'full_up.product_viewed')
    expect(warnings).toContain('destination "warehouse" (postgres): full_up.product_viewed: PostgreSQL refuses more columns in it; column "p0001" is not created and its values are left out of the rows')
    // one per column: the standard ones, context's and the properties, though three events carried them
    const named = warnings.map((line) => /column "([a-z0-9_]+)"/.exec(line)?.[1])
    expect(named).toEqual(expect.arrayContaining(['user_id', 'event', 'context_library_name', ...Object.keys(props(1, 5))]))
    expect(new Set(named).size).toBe(warnings.length)
  })
})
