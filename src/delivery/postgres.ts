import type pg from 'pg'
import {destinationDefaults, postgresColumnBudget} from '../config/destinations.js'
import {ExitCode, UserError} from '../errors.js'
import {DeliveryError, type AdapterFactory, type OutgoingEvent} from './types.js'
import {convertValue, isStandardColumn, sourceSchemaName, warehouseRows, type Cell, type CellValue, type ColumnType} from './warehouse-schema.js'

/** PostgreSQL's limit of bind parameters in one statement. */
const maxParameters = 65535
/** Connections at most, whatever the concurrency: a warehouse load is not worth more. */
const maxPoolSize = 8
const connectTimeoutMs = 10_000
/** Columns left out past the budget are named one by one up to this many per table, then summed up once. */
const namedLeftOutPerTable = 100
/** PostgreSQL's "tables can have at most 1600 columns" (dropped columns count too). */
const tooManyColumns = '54011'

type Columns = Map<string, ColumnType>

/**
 * pg, loaded when the first postgres destination is made: importing it costs ~90 ms (measured),
 * which every `cdp dev`, `cdp test` and `cdp replay` start paid whether or not it had one.
 */
let loadedPg: typeof pg | undefined
async function loadPg(): Promise<typeof pg> {
  loadedPg ??= (await import('pg')).default
  return loadedPg
}

/** An error PostgreSQL answered (it has a SQLSTATE); pg is loaded once any query ran. */
function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return loadedPg !== undefined && error instanceof loadedPg.DatabaseError
}

/** What this process knows of one schema: read from information_schema on first use. */
interface SchemaState {
  exists: boolean
  tables: Map<string, Columns>
}

/** The rows of one table in one send, by id (a replayed messageId is sent once). */
interface TableLoad {
  schema: string
  table: string
  upsert: boolean
  rows: Map<string, Map<string, Cell>>
}

/** Columns of a table as this transaction found them after its DDL; merged into the cache on commit. */
interface LearnedTable {
  schema: string
  table: string
  columns: Columns
}

// SQLSTATE classes where trying again later may work: connection, transaction rollback
// (serialization, deadlock), resources, lock not available, operator intervention, system error,
// and the user-fixable environment ones (authentication, missing database).
const retryableClasses = new Set(['08', '28', '3D', '40', '53', '55', '57', '58'])

/**
 * Loads events into PostgreSQL in Segment's warehouse schema (see warehouse-schema.ts): one
 * schema per source (or the `schema` setting), tables and columns created as events need them,
 * each batch in one transaction. Inserts are idempotent on id (the messageId), so at-least-once
 * delivery and replays do not duplicate rows; `users` is upserted and keeps the latest traits.
 */
export const createPostgresDestination: AdapterFactory<'postgres'> = (config, context) => {
  const connectionString = config.connectionString
  const fixedSchema = config.schema
  const label = `destination "${config.name}" (postgres)`
  const shownUrl = maskConnectionString(connectionString)
  const poolSize = Math.min(config.concurrency ?? destinationDefaults.postgres.concurrency, maxPoolSize)
  const pool = loadPg().then((module) => {
    const made = new module.Pool({connectionString, max: poolSize, connectionTimeoutMillis: connectTimeoutMs, idleTimeoutMillis: 30_000})
    // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
    // 'error' event would end the process.
    made.on('error', (error) => context.log.debug(`${label}: idle connection closed: ${describeError(error)}`))
    return made
  })
  // Handled where it is awaited (open, send, close); not a crash before then.
  pool.catch(() => undefined)
  const schemas = new Map<string, SchemaState>()
  const warnedColumns = new Set<string>()
  const columnBudget = config.maxColumnsPerTable ?? postgresColumnBudget.default
  // Tables PostgreSQL refused a column for, at its own limit: nothing more is added to them.
  const fullTables = new Set<string>()
  const leftOutWarned = new Map<string, Set<string>>()
  let closed: Promise<void> | undefined

  async function schemaState(client: pg.PoolClient, schema: string): Promise<SchemaState> {
    const known = schemas.get(schema)
    if (known) return known
    const exists = await client.query<{exists: boolean}>('SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists', [schema])
    const columns = await client.query<{table_name: string; column_name: string; data_type: string}>(
      'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1',
      [schema],
    )
    const state: SchemaState = {exists: exists.rows[0].exists, tables: new Map()}
    for (const row of columns.rows) {
      let table = state.tables.get(row.table_name)
      if (!table) state.tables.set(row.table_name, (table = new Map()))
      table.set(row.column_name, columnType(row.data_type))
    }
    schemas.set(schema, state)
    return state
  }

  async function readColumns(client: pg.PoolClient, schema: string, table: string): Promise<Columns> {
    const result = await client.query<{column_name: string; data_type: string}>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [schema, table],
    )
    return new Map(result.rows.map((row) => [row.column_name, columnType(row.data_type)]))
  }

  /**
   * Creates what the rows need that the cache does not know of, within the table's column
   * budget, and returns the table's columns: the rows load with these, and without the columns
   * left out.
   */
  async function ensureTable(client: pg.PoolClient, load: TableLoad, learned: LearnedTable[]): Promise<Columns> {
    const state = await schemaState(client, load.schema)
    const known = state.tables.get(load.table)
    const missing = new Map<string, ColumnType>()
    for (const cells of load.rows.values()) {
      for (const [column, cell] of cells) {
        // The first value of a new column in this batch fixes its type.
        if (column !== 'id' && !known?.has(column) && !missing.has(column)) missing.set(column, cell.type)
      }
    }
    if (known && missing.size === 0) return known
    const key = `${load.schema}.${load.table}`
    if (known && !mayAddAny(key, load.table, known, missing)) {
      // A full table: the columns are left out without DDL or a look at the catalog.
      warnLeftOut(key, known.size, missing.keys())
      return known
    }
    const target = qualified(load.schema, load.table)
    if (!known) {
      if (!state.exists) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(load.schema)}`)
      await client.query(`CREATE TABLE IF NOT EXISTS ${target} (id text PRIMARY KEY)`)
    }
    if (missing.size > 0) {
      // The lock ADD COLUMN takes anyway, taken before counting: two senders cannot both take
      // the budget's last places, and another sender's columns are seen with their types.
      await client.query(`LOCK TABLE ${target} IN ACCESS EXCLUSIVE MODE`)
      const current = await readColumns(client, load.schema, load.table)
      const {added, leftOut} = withinBudget(key, load.table, current, missing)
      if (added.size > 0) {
        const additions = [...added].map(([column, type]) => `ADD COLUMN IF NOT EXISTS ${quote(column)} ${type}`)
        try {
          await client.query(`ALTER TABLE ${target} ${additions.join(', ')}`)
        } catch (error) {
          if (isDatabaseError(error) && error.code === tooManyColumns) fullTables.add(key)
          throw error
        }
        context.log.debug(`${label}: ${key}: columns ${[...added.keys()].join(', ')}`)
      }
      warnLeftOut(key, current.size + added.size, leftOut)
    }
    // Read back rather than trust our DDL: another sender may have added a column first, with
    // another type (ADD COLUMN IF NOT EXISTS then keeps theirs). The lock makes this current.
    const columns = await readColumns(client, load.schema, load.table)
    learned.push({schema: load.schema, table: load.table, columns})
    return columns
  }

  /** Whether any of the missing columns could be added to the table (`key` is schema.table). */
  function mayAddAny(key: string, table: string, columns: Columns, missing: Map<string, ColumnType>): boolean {
    if (fullTables.has(key)) return false
    return columns.size < columnBudget || [...missing.keys()].some((column) => isStandardColumn(table, column))
  }

  /**
   * Which missing columns fit the budget: the table's standard columns always (they are few and
   * give the row its meaning), then the others in the order the batch brings them.
   */
  function withinBudget(key: string, table: string, current: Columns, missing: Map<string, ColumnType>): {added: Map<string, ColumnType>; leftOut: string[]} {
    const added = new Map<string, ColumnType>()
    const leftOut: string[] = []
    const absent = [...missing].filter(([column]) => !current.has(column))
    if (fullTables.has(key)) return {added, leftOut: absent.map(([column]) => column)}
    for (const [column, type] of absent) if (isStandardColumn(table, column)) added.set(column, type)
    let room = columnBudget - current.size - added.size
    for (const [column, type] of absent) {
      if (added.has(column)) continue
      if (room > 0) {
        added.set(column, type)
        room--
      } else leftOut.push(column)
    }
    return {added, leftOut}
  }

  /** Warns once per column left out of a table past its budget (up to a number per table, then once more). */
  function warnLeftOut(key: string, columnCount: number, columns: Iterable<string>): void {
    let warned = leftOutWarned.get(key)
    if (!warned) leftOutWarned.set(key, (warned = new Set()))
    for (const column of columns) {
      if (warned.has(column) || warned.size > namedLeftOutPerTable) continue
      warned.add(column)
      if (warned.size <= namedLeftOutPerTable) {
        const why = fullTables.has(key) ? 'PostgreSQL refuses more columns in it' : `it has ${columnCount} columns, its budget of ${columnBudget} (maxColumnsPerTable)`
        context.log.warn(`${label}: ${key}: ${why}; column ${JSON.stringify(column)} is not created and its values are left out of the rows`)
      } else {
        context.log.warn(`${label}: ${key}: further columns past the budget are left out too, without a warning each`)
      }
    }
  }

  /** A value for its column, warning once per column when it had to become NULL. */
  function fit(load: TableLoad, column: string, type: ColumnType, cell: Cell | undefined): CellValue | null {
    if (cell === undefined) return null
    const value = convertValue(cell.value, type)
    if (value === null) {
      const key = `${load.schema}.${load.table}.${column}`
      if (!warnedColumns.has(key)) {
        warnedColumns.add(key)
        context.log.warn(`${label}: ${key} is ${type}; ${JSON.stringify(cell.value).slice(0, 80)} does not fit and is stored as NULL`)
      }
    }
    return value
  }

  async function insertRows(client: pg.PoolClient, load: TableLoad, columns: Columns): Promise<void> {
    const target = qualified(load.schema, load.table)
    // Rows of a users upsert update only the columns they carry, so rows are grouped by their columns.
    const groups = new Map<string, {names: string[]; rows: Map<string, Cell>[]}>()
    // Columns left out past the budget are not in `columns`: the rows load without them.
    if (load.upsert) {
      for (const id of [...load.rows.keys()].sort()) {
        const cells = load.rows.get(id)!
        const names = [...cells.keys()].filter((column) => columns.has(column))
        const key = names.join('\0')
        let group = groups.get(key)
        if (!group) groups.set(key, (group = {names, rows: []}))
        group.rows.push(cells)
      }
    } else {
      const names = new Set<string>()
      for (const cells of load.rows.values()) for (const column of cells.keys()) if (columns.has(column)) names.add(column)
      groups.set('', {names: [...names], rows: [...load.rows.values()]})
    }
    for (const {names, rows} of groups.values()) {
      const types = names.map((column) => columns.get(column) as ColumnType)
      const perStatement = Math.max(1, Math.floor(maxParameters / names.length))
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement)
        const values: (CellValue | null)[] = []
        for (const cells of chunk) names.forEach((column, i) => values.push(fit(load, column, types[i], cells.get(column))))
        await client.query(insertSql(target, names, chunk.length, load.upsert), values)
      }
    }
  }

  async function loadBatch(client: pg.PoolClient, loads: TableLoad[]): Promise<void> {
    const learned: LearnedTable[] = []
    await client.query('BEGIN')
    try {
      for (const load of loads) {
        const columns = await ensureTable(client, load, learned)
        await insertRows(client, load, columns)
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    }
    for (const {schema, table, columns} of learned) {
      const state = schemas.get(schema)
      if (!state) continue
      state.exists = true
      // Merge: a concurrent send may have cached columns this one did not see.
      const cached = state.tables.get(table)
      state.tables.set(table, cached ? new Map([...cached, ...columns]) : columns)
    }
  }

  async function withClient<T>(signal: AbortSignal, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await untilAborted(pool.then((ready) => ready.connect()), signal, (late) => late.release())
    let released = false
    const release = (error?: Error) => {
      if (released) return
      released = true
      client.removeListener('error', onClientError)
      client.release(error)
    }
    // A checked-out client has no error listener of the pool's: a broken connection between
    // queries would otherwise be an unhandled 'error'. The next query fails and says why.
    function onClientError(error: Error) {
      context.log.debug(`${label}: connection error: ${describeError(error)}`)
    }
    client.on('error', onClientError)
    // Closing the connection aborts the transaction: the server rolls back what it did not commit.
    const onAbort = () => release(new Error('send aborted'))
    signal.addEventListener('abort', onAbort, {once: true})
    try {
      return await work(client)
    } catch (error) {
      // A connection-level failure (no SQLSTATE) leaves the client unusable: drop it.
      release(isDatabaseError(error) ? undefined : (error as Error))
      throw error
    } finally {
      signal.removeEventListener('abort', onAbort)
      release()
    }
  }

  function failure(error: unknown, signal: AbortSignal): DeliveryError {
    if (signal.aborted) return new DeliveryError(`${label}: send aborted (${describeError(signal.reason)})`, {retryable: true})
    if (isDatabaseError(error)) {
      const code = error.code ?? ''
      const body = [`${code}: ${error.message}`, error.detail, error.hint && `hint: ${error.hint}`].filter(Boolean).join('\n')
      return new DeliveryError(`${label}: ${error.message} (SQLSTATE ${code})`, {retryable: retryableClasses.has(code.slice(0, 2)), body})
    }
    // No SQLSTATE: the network, a timeout, a closed connection. Later may work.
    return new DeliveryError(`${label}: ${shownUrl}: ${describeError(error)}`, {retryable: true})
  }

  return {
    async open() {
      try {
        const client = await (await pool).connect()
        try {
          await client.query('SELECT 1')
        } finally {
          client.release()
        }
      } catch (error) {
        throw new UserError(`${label}: cannot connect to ${shownUrl}: ${describeError(error)}`, {
          hint: `Start PostgreSQL, or fix connectionString of destination "${config.name}" in cdp.json.`,
          exitCode: ExitCode.environment,
          code: 'destination_unreachable',
          cause: error,
        })
      }
    },

    async send(batch, signal) {
      if (signal.aborted) throw failure(undefined, signal)
      const loads = planBatch(batch, fixedSchema, new Date().toISOString())
      if (loads.length === 0) return
      const touched = new Set(loads.map((load) => load.schema))
      try {
        await withClient(signal, async (client) => {
          try {
            await loadBatch(client, loads)
          } catch (error) {
            if (signal.aborted || !worthOneMoreTry(error)) throw error
            // The cache may be stale (a column dropped or added with another type elsewhere, a
            // concurrent CREATE losing a race): forget it, read the catalog again and retry once.
            for (const schema of touched) schemas.delete(schema)
            context.log.debug(`${label}: ${describeError(error)}; retrying with a fresh view of the schema`)
            await loadBatch(client, loads)
          }
        })
      } catch (error) {
        for (const schema of touched) schemas.delete(schema)
        throw failure(error, signal)
      }
    },

    close() {
      closed ??= pool.then((ready) => ready.end())
      return closed
    },
  }
}

/** Groups a batch's rows by schema and table, in a fixed order so concurrent sends lock alike. */
function planBatch(batch: readonly OutgoingEvent[], fixedSchema: string | undefined, loadedAt: string): TableLoad[] {
  const loads = new Map<string, TableLoad>()
  for (const event of batch) {
    const schema = fixedSchema ?? sourceSchemaName(event.source)
    for (const row of warehouseRows(event.message, loadedAt)) {
      const key = `${schema}.${row.table}`
      let load = loads.get(key)
      if (!load) loads.set(key, (load = {schema, table: row.table, upsert: row.upsert, rows: new Map()}))
      const id = row.cells.get('id')?.value as string | undefined
      if (id === undefined) continue
      const earlier = load.rows.get(id)
      if (!earlier) load.rows.set(id, row.cells)
      // Two identifies of one user in a batch: one upsert with the later values over the earlier.
      else if (row.upsert) for (const [column, cell] of row.cells) earlier.set(column, cell)
    }
  }
  return [...loads.values()].sort((a, b) => (a.schema === b.schema ? compare(a.table, b.table) : compare(a.schema, b.schema)))
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * INSERT … ON CONFLICT (id): DO NOTHING for event rows (a messageId is loaded once); for users,
 * DO UPDATE of the columns given, unless the stored row was received later (a replayed old
 * identify does not undo a newer one).
 */
function insertSql(target: string, columns: readonly string[], rowCount: number, upsert: boolean): string {
  const tuples: string[] = []
  for (let row = 0; row < rowCount; row++) {
    tuples.push(`(${columns.map((_, i) => `$${row * columns.length + i + 1}`).join(', ')})`)
  }
  let sql = `INSERT INTO ${target} AS target (${columns.map(quote).join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO `
  const updated = columns.filter((column) => column !== 'id')
  if (!upsert || updated.length === 0) return sql + 'NOTHING'
  sql += `UPDATE SET ${updated.map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`).join(', ')}`
  if (columns.includes('received_at')) sql += ' WHERE target.received_at IS NULL OR EXCLUDED.received_at >= target.received_at'
  return sql
}

/** The type cdp handles a column as; types cdp does not create (json, varchar…) take text and PostgreSQL casts. */
function columnType(dataType: string): ColumnType {
  switch (dataType) {
    case 'bigint':
    case 'integer':
    case 'smallint':
      return 'bigint'
    case 'double precision':
    case 'real':
    case 'numeric':
      return 'double precision'
    case 'boolean':
      return 'boolean'
    case 'timestamp with time zone':
    case 'timestamp without time zone':
    case 'date':
      return 'timestamptz'
    default:
      return 'text'
  }
}

/** Errors a stale column cache or a concurrent DDL race can cause, which one retry may cure. */
function worthOneMoreTry(error: unknown): boolean {
  if (!(isDatabaseError(error)) || !error.code) return false
  const code = error.code
  // 54011: the table is at PostgreSQL's column limit; it is marked full and the retry leaves the new columns out.
  return code.startsWith('22') || code.startsWith('42') || code === '23505' || code === '3F000' || code === '40001' || code === '40P01' || code === tooManyColumns
}

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`
}

function qualified(schema: string, table: string): string {
  return `${quote(schema)}.${quote(table)}`
}

/** The connection string with its password (in the user info or the query) shown as ***. */
export function maskConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString)
    if (url.password) url.password = '***'
    if (url.searchParams.has('password')) url.searchParams.set('password', '***')
    return url.toString()
  } catch {
    return connectionString.replace(/(\/\/[^:/@]*):[^@]*@/, '$1:***@')
  }
}

/** An error's message; AggregateError (a host with several addresses) has none of its own. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join('; ')
  }
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name
  return String(error)
}

/** The promise's value, or a rejection as soon as the signal aborts (a late value is handed to `discard`). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, discard: (late: T) => void): Promise<T> {
  if (signal.aborted) {
    promise.then(discard, () => undefined)
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const onAbort = () => {
      settled = true
      promise.then(discard, () => undefined)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, {once: true})
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        if (settled) return
        settled = true
        resolve(value)
      },
      (error) => {
        signal.removeEventListener('abort', onAbort)
        if (!settled) reject(error)
      },
    )
  })
}
