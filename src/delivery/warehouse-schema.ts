/**
 * Segment's warehouse schema, as pure functions: a normalised message becomes rows of the tables
 * Segment's warehouses load (tracks, identifies, users, pages, screens, groups, aliases and one
 * table per track event), with Segment's naming. No I/O: the postgres adapter does the SQL.
 *
 * Rules, where Segment's docs leave a choice:
 * - Names are snake_cased as Segment's go-snakecase does, nested objects are flattened with `_`,
 *   arrays are stored as JSON text, and every name is cut to PostgreSQL's 63 bytes.
 * - When two keys give the same column, the first met wins (standard columns, then context, then
 *   properties or traits, each in key order) and the later one is dropped.
 * - Properties and traits named like a standard column of their table (id, user_id, received_at…)
 *   or starting with `context_` are dropped, as Segment drops reserved names: a column keeps one
 *   meaning in every row.
 * - A key whose name has no ASCII letter or digit (so snake_cases to nothing) is dropped.
 * - Null values are left out: a column is created only by a value.
 * - An identify's or group's traits are where the message has them (message/traits.ts): without
 *   top-level `traits`, those in `context.traits` (RudderStack's browser SDK), which fill the
 *   traits' columns as well as their context_traits_ ones.
 */
import {limits} from '../message/limits.js'
import {parseIsoTime, readIsoTime} from '../message/time.js'
import {messageTraits} from '../message/traits.js'
import type {JsonObject, SegmentMessage} from '../message/types.js'

/** The column types cdp creates; a column's type is fixed by the first value it receives. */
export type ColumnType = 'bigint' | 'double precision' | 'boolean' | 'timestamptz' | 'text'

export type CellValue = string | number | boolean

/** A value with the type it would give a new column. */
export interface Cell {
  type: ColumnType
  value: CellValue
}

export interface WarehouseRow {
  table: string
  /** users rows are upserted on id; every other row is inserted once per id. */
  upsert: boolean
  /** Column → cell, in the order the columns were met; `id` first. */
  cells: Map<string, Cell>
}

/** PostgreSQL's identifier limit (NAMEDATALEN − 1), in bytes; snake_cased names are ASCII. */
export const maxIdentifierLength = 63

/** The tables every source has; a track event whose table name is one of these gets a `_` suffix. */
export const reservedTables: ReadonlySet<string> = new Set(['tracks', 'identifies', 'users', 'pages', 'screens', 'groups', 'aliases'])

const commonColumns = ['id', 'anonymous_id', 'user_id', 'received_at', 'sent_at', 'timestamp', 'original_timestamp', 'uuid_ts']

/** Columns each table fills from the message itself; properties and traits may not use these names. */
const standardColumns: Record<string, ReadonlySet<string>> = {
  tracks: new Set([...commonColumns, 'event', 'event_text']),
  event: new Set([...commonColumns, 'event', 'event_text']),
  pages: new Set([...commonColumns, 'name', 'category']),
  screens: new Set([...commonColumns, 'name', 'category']),
  identifies: new Set(commonColumns),
  groups: new Set([...commonColumns, 'group_id']),
  aliases: new Set([...commonColumns, 'previous_id']),
  users: new Set(['id', 'received_at', 'uuid_ts']),
}

/** Whether a column is one the table fills from the message itself (not from context, properties or traits). */
export function isStandardColumn(table: string, column: string): boolean {
  return (standardColumns[reservedTables.has(table) ? table : 'event'] as ReadonlySet<string>).has(column)
}

const isLower = (c: number) => c >= 97 && c <= 122
const isUpper = (c: number) => c >= 65 && c <= 90
const isDigit = (c: number) => c >= 48 && c <= 57

/**
 * snake_case as Segment's go-snakecase: words are runs of capitals and digits followed by
 * lower-case letters and digits, joined with `_`; anything else (spaces, punctuation, non-ASCII)
 * separates words and is dropped. "Order Completed" → order_completed, "productId" → product_id,
 * "SAMPLE 2 TEXT" → sample_2_text. Unlike go-snakecase, the first word follows the same rule as
 * the others (go-snakecase keeps a leading "_id" and splits "abc1Def" as abc_1def only there).
 */
export function snakeCase(name: string): string {
  let out = ''
  let i = 0
  while (i < name.length) {
    const c = name.charCodeAt(i)
    if (!isLower(c) && !isUpper(c) && !isDigit(c)) {
      i++
      continue
    }
    if (out !== '') out += '_'
    while (i < name.length && (isUpper(name.charCodeAt(i)) || isDigit(name.charCodeAt(i)))) out += name[i++].toLowerCase()
    while (i < name.length && (isLower(name.charCodeAt(i)) || isDigit(name.charCodeAt(i)))) out += name[i++]
  }
  return out
}

/** A name cut to PostgreSQL's identifier limit, without a trailing `_` left by the cut. */
export function truncateIdentifier(name: string): string {
  return name.length <= maxIdentifierLength ? name : name.slice(0, maxIdentifierLength).replace(/_+$/, '')
}

/** The column for a path of keys: each key snake_cased, joined with `_`; '' when no key has a name. */
export function columnName(path: readonly string[]): string {
  return truncateIdentifier(path.map(snakeCase).filter((part) => part !== '').join('_'))
}

/** The schema of a source when the destination names none: the source's name, snake_cased, as Segment does. */
export function sourceSchemaName(source: string): string {
  return truncateIdentifier(snakeCase(source)) || 'cdp'
}

/**
 * The table of a track event: its name snake_cased. A name that gives one of the reserved tables
 * gets a trailing `_` ("Tracks" → tracks_): snake_case never ends in `_`, so no other event name
 * can land in that table. undefined when the name has no letter or digit to make a table of.
 */
export function eventTableName(event: string): string | undefined {
  const name = columnName([event])
  if (name === '') return undefined
  return reservedTables.has(name) ? `${name}_` : name
}

/**
 * The instant an ISO 8601 date-time string with a zone names, as `…Z` with milliseconds, or
 * undefined when the string is not one or names an impossible date (2024-02-30, 25:00). Only
 * these become timestamptz: a zoneless time means whatever the server's zone is, and a bare date
 * is more often a birthday than an instant. PostgreSQL takes years from 1 and offsets to ±15:59.
 */
export function parseTimestamp(text: string): string | undefined {
  const reading = readIsoTime(text)
  if (!reading.ok) return undefined
  const {ms, year, hasTime, hasZone, offsetHours} = reading.time
  if (!hasTime || !hasZone || year < 1 || offsetHours > 15) return undefined
  return new Date(ms).toISOString()
}

const bigintLimit = 2 ** 63

/** The column type a value gives a new column. Only scalars reach here: objects are flattened, arrays stringified. */
export function inferColumnType(value: CellValue): ColumnType {
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < bigintLimit ? 'bigint' : 'double precision'
  return parseTimestamp(value) === undefined ? 'text' : 'timestamptz'
}

const integerText = /^[+-]?\d+$/
const decimalText = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/**
 * A value for a column of another type than its own, or null when it cannot go there without
 * losing what it says. Converted: anything into text (numbers as JavaScript prints them, arrays
 * as JSON); integers and integer strings in range into bigint; numbers and decimal strings into
 * double precision; "true"/"false" into boolean; ISO date-times with a zone into timestamptz.
 * Not converted (stored as NULL): 1.5 or "abc" into bigint, "abc" into double precision, 1 into
 * boolean, a date without a zone or a number into timestamptz. Timestamps come out as `…Z`.
 */
export function convertValue(value: CellValue, type: ColumnType): CellValue | null {
  switch (type) {
    case 'text':
      return typeof value === 'string' ? value : String(value)
    case 'bigint':
      if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < bigintLimit ? value : null
      if (typeof value === 'string' && integerText.test(value.trim())) {
        const parsed = BigInt(value.trim())
        return parsed < 2n ** 63n && parsed >= -(2n ** 63n) ? parsed.toString() : null
      }
      return null
    case 'double precision':
      if (typeof value === 'number') return value
      if (typeof value === 'string' && decimalText.test(value.trim())) {
        const parsed = Number(value.trim())
        return Number.isFinite(parsed) ? parsed : null
      }
      return null
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === 'false') return value === 'true'
      return null
    case 'timestamptz':
      return typeof value === 'string' ? (parseTimestamp(value) ?? null) : null
  }
}

/** A scalar as it is stored: strings without NUL (PostgreSQL text cannot hold it), arrays as JSON. */
function scalar(value: unknown): CellValue | undefined {
  if (typeof value === 'string') return value.includes('\0') ? value.replaceAll('\0', '') : value
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'boolean') return value
  if (Array.isArray(value)) return JSON.stringify(value)
  return undefined
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Builds one row's cells: the first value for a column wins; reserved names and nulls are left out. */
class RowBuilder {
  readonly cells = new Map<string, Cell>()

  constructor(private readonly reserved: ReadonlySet<string>) {}

  /** A standard text column: its type is fixed by the schema rather than by the value. */
  text(column: string, value: string | null | undefined): void {
    if (value === undefined || value === null || value === '') return
    this.cells.set(column, {type: 'text', value: scalar(value) as string})
  }

  /** A standard time column, read as the normaliser reads times (a zoneless time is local, as there). */
  time(column: string, value: unknown): void {
    const ms = parseIsoTime(value)
    if (ms !== undefined) this.cells.set(column, {type: 'timestamptz', value: new Date(ms).toISOString()})
  }

  /** Context, flattened under context_ (its names may start with context_, of course). */
  context(context: unknown): void {
    if (isObject(context)) this.flatten(context, ['context'], false)
  }

  /** Properties or traits as top-level columns. */
  fields(object: unknown): void {
    if (isObject(object)) this.flatten(object, [], true)
  }

  private flatten(object: JsonObject, path: string[], guarded: boolean): void {
    // Own keys only, so "__proto__" and "constructor" are columns like any other. Ingest keeps
    // messages within limits.depth; the bound keeps an older, deeper stored one off the stack.
    for (const key of Object.keys(object)) {
      const value = object[key]
      if (value === null || value === undefined) continue
      path.push(key)
      if (isObject(value)) {
        if (path.length < limits.depth) this.flatten(value, path, guarded)
      } else {
        this.add(columnName(path), value, guarded)
      }
      path.pop()
    }
  }

  private add(column: string, value: unknown, guarded: boolean): void {
    if (column === '' || this.cells.has(column)) return
    if (guarded && (this.reserved.has(column) || column.startsWith('context_'))) return
    const cell = scalar(value)
    if (cell !== undefined) this.cells.set(column, {type: inferColumnType(cell), value: cell})
  }
}

function commonRow(message: SegmentMessage, kind: keyof typeof standardColumns, loadedAt: string): RowBuilder {
  const row = new RowBuilder(standardColumns[kind])
  row.text('id', message.messageId)
  row.text('anonymous_id', message.anonymousId)
  row.text('user_id', message.userId)
  row.time('received_at', message.receivedAt)
  row.time('sent_at', message.sentAt)
  row.time('timestamp', message.timestamp)
  row.time('original_timestamp', message.originalTimestamp)
  row.time('uuid_ts', loadedAt)
  return row
}

/**
 * The rows one message makes: a track goes to `tracks` and to its event's table, an identify to
 * `identifies` and (with a userId) to `users`, the others to their type's table.
 * `loadedAt` (ISO 8601) fills uuid_ts, the load time.
 */
export function warehouseRows(message: SegmentMessage, loadedAt: string): WarehouseRow[] {
  const rows: WarehouseRow[] = []
  const add = (table: string, builder: RowBuilder, upsert = false) => rows.push({table, upsert, cells: builder.cells})

  switch (message.type) {
    case 'track': {
      const eventText = typeof message.event === 'string' ? message.event : String(message.event ?? '')
      const table = eventTableName(eventText)
      const track = commonRow(message, 'tracks', loadedAt)
      track.text('event', table)
      track.text('event_text', eventText)
      track.context(message.context)
      add('tracks', track)
      if (table !== undefined) {
        const event = commonRow(message, 'event', loadedAt)
        event.text('event', table)
        event.text('event_text', eventText)
        event.context(message.context)
        event.fields(message.properties)
        add(table, event)
      }
      break
    }
    case 'page':
    case 'screen': {
      const row = commonRow(message, `${message.type}s`, loadedAt)
      row.text('name', message.name)
      row.text('category', message.category)
      row.context(message.context)
      row.fields(message.properties)
      add(`${message.type}s`, row)
      break
    }
    case 'identify': {
      const row = commonRow(message, 'identifies', loadedAt)
      row.context(message.context)
      // The traits wherever the message has them (context.traits alone from RudderStack's browser SDK).
      const {traits} = messageTraits(message)
      row.fields(traits)
      add('identifies', row)
      if (message.userId) {
        const user = new RowBuilder(standardColumns.users)
        user.text('id', message.userId)
        user.time('received_at', message.receivedAt)
        user.time('uuid_ts', loadedAt)
        user.fields(traits)
        add('users', user, true)
      }
      break
    }
    case 'group': {
      const row = commonRow(message, 'groups', loadedAt)
      row.text('group_id', message.groupId)
      row.context(message.context)
      row.fields(messageTraits(message).traits)
      add('groups', row)
      break
    }
    case 'alias': {
      const row = commonRow(message, 'aliases', loadedAt)
      row.text('previous_id', message.previousId)
      row.context(message.context)
      row.fields(message.traits)
      add('aliases', row)
      break
    }
  }
  return rows
}
