import type Database from 'better-sqlite3'
import type {ConsoleLine, FunctionRunRecord} from '../functions/types.js'
import type {FunctionRunBatch, FunctionRunCount, FunctionRunQuery, FunctionRunStore, StoredFunctionRun} from './function-runs.js'

type Prepare = (sql: string) => Database.Statement

/** How much of the functions' records SQLite keeps: rows, and the size of each. */
export interface FunctionRunBounds {
  /** The newest this many rows are kept; older ones go at the next append. */
  rows: number
  /** A row's console lines, as JSON, in bytes (UTF-8); lines past it are counted in a last line. */
  consoleBytes: number
  /** A row's message (an error's, a drop's reason), in characters. */
  messageChars: number
}

export const defaultFunctionRunBounds: FunctionRunBounds = {rows: 10_000, consoleBytes: 64 * 1024, messageChars: 4096}

/** Room kept in consoleBytes for the line that says how many were left out. */
const noteRoom = 120

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, Math.max(0, chars - 1))}…`
}

/** The console lines as JSON within `bytes`: the first lines that fit, then one saying how many were left out. */
export function boundedConsoleJson(lines: readonly ConsoleLine[], bytes: number): string {
  const json = JSON.stringify(lines)
  // Three bytes of UTF-8 at most per UTF-16 unit: most records are measured without encoding them.
  if (json.length * 3 <= bytes || Buffer.byteLength(json) <= bytes) return json
  const budget = bytes - noteRoom
  const kept: ConsoleLine[] = []
  let used = 2
  for (const line of lines) {
    const size = Buffer.byteLength(JSON.stringify(line)) + 1
    if (used + size <= budget) {
      kept.push(line)
      used += size
      continue
    }
    if (kept.length === 0) {
      // One line larger than the whole budget: its start, cut to fit (a character is at most 3 bytes of UTF-8 here).
      kept.push({...line, message: cut(line.message, Math.floor((budget - 64) / 6))})
    }
    break
  }
  const left = lines.length - kept.length
  const note: ConsoleLine = {level: 'warn', message: left > 0 ? `… ${left} more console line${left === 1 ? '' : 's'} not kept (${Math.round(bytes / 1024)} KB per record)` : `… cut to ${Math.round(bytes / 1024)} KB per record`}
  return JSON.stringify([...kept, note])
}

interface RunRow {
  id: number
  at: string
  function: string
  kind: FunctionRunRecord['kind']
  stage: FunctionRunRecord['stage']
  target: string
  messageId: string | null
  result: FunctionRunRecord['result']
  errorClass: string | null
  message: string | null
  console: string
  ms: number
}

function storedRun(row: RunRow): StoredFunctionRun {
  const run: StoredFunctionRun = {id: row.id, at: row.at, function: row.function, kind: row.kind, stage: row.stage, target: row.target, result: row.result, console: JSON.parse(row.console), ms: row.ms}
  if (row.messageId !== null) run.messageId = row.messageId
  if (row.errorClass !== null) run.errorClass = row.errorClass
  if (row.message !== null) run.message = row.message
  return run
}

const runColumns = `id, at, function, kind, stage, target, message_id AS messageId, result, error_class AS errorClass, message, console, ms`

/** Function run records in SQLite; shares the event store's connection. */
export class SqliteFunctionRuns implements FunctionRunStore {
  private appendBatch?: (batch: FunctionRunBatch) => void

  constructor(
    private readonly db: Database.Database,
    private readonly prepare: Prepare,
    /** Throws when the store cannot be written (opened read-only, or its files are gone). */
    private readonly writable: () => void,
    private readonly bounds: FunctionRunBounds = defaultFunctionRunBounds,
  ) {}

  append(batch: FunctionRunBatch): void {
    if (batch.runs.length === 0 && batch.counts.length === 0) return
    this.writable()
    this.appendBatch ??= this.db.transaction((b: FunctionRunBatch) => {
      const insert = this.prepare(
        `INSERT INTO function_runs (at, function, kind, stage, target, message_id, result, error_class, message, console, ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      let last = 0
      for (const run of b.runs) {
        const info = insert.run(
          run.at,
          run.function,
          run.kind,
          run.stage,
          run.target,
          run.messageId ?? null,
          run.result,
          run.errorClass ?? null,
          run.message === undefined ? null : cut(run.message, this.bounds.messageChars),
          boundedConsoleJson(run.console, this.bounds.consoleBytes),
          run.ms,
        )
        last = Number(info.lastInsertRowid)
      }
      // Ids only grow (the newest row is never deleted), so the newest `rows` are the ids above this.
      if (last > this.bounds.rows) this.prepare('DELETE FROM function_runs WHERE id <= ?').run(last - this.bounds.rows)
      const count = this.prepare(
        `INSERT INTO function_counts (function, stage, target, result, count) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (function, stage, target, result) DO UPDATE SET count = count + excluded.count`,
      )
      for (const c of b.counts) count.run(c.function, c.stage, c.target, c.result, c.count)
    })
    this.appendBatch(batch)
  }

  recent(query: FunctionRunQuery): StoredFunctionRun[] {
    const where: string[] = []
    const params: unknown[] = []
    if (query.function !== undefined) {
      where.push('function = ?')
      params.push(query.function)
    }
    if (query.after !== undefined) {
      where.push('id > ?')
      params.push(query.after)
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    if (query.after !== undefined) {
      return (this.prepare(`SELECT ${runColumns} FROM function_runs ${clause} ORDER BY id LIMIT ?`).all(...params, query.limit) as RunRow[]).map(storedRun)
    }
    const rows = this.prepare(`SELECT ${runColumns} FROM function_runs ${clause} ORDER BY id DESC LIMIT ?`).all(...params, query.limit) as RunRow[]
    return rows.reverse().map(storedRun)
  }

  counts(): FunctionRunCount[] {
    return this.prepare('SELECT function, stage, target, result, count FROM function_counts ORDER BY function, stage, target, result').all() as FunctionRunCount[]
  }
}
