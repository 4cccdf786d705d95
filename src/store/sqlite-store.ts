import {existsSync, mkdirSync, statSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {UserError} from '../errors.js'
import type {Violation} from '../plan/violations.js'
import type {SegmentMessage} from '../spec/types.js'
import {latestSchemaVersion, migrations} from './migrations.js'
import {SqliteDeliveries} from './sqlite-deliveries.js'
import type {AppendResult, EventFilter, EventStore, NewEvent, StoredEvent, StoredViolation, ViolationFilter} from './types.js'

export interface SqliteStoreOptions {
  /** A second process reading while the daemon writes (WAL allows any number). */
  readonly?: boolean
  /** FULL syncs the WAL on every commit (survives power loss); NORMAL survives process crashes. */
  synchronous?: 'NORMAL' | 'FULL'
  /** false when a checkpoint thread does the checkpoints (the daemon); true elsewhere. */
  autoCheckpoint?: boolean
}

type Statement = Database.Statement

/** The SQLite store: the only place in cdp that speaks SQL. */
export class SqliteStore implements EventStore {
  readonly file: string
  private readonly db: Database.Database
  private readonly statements = new Map<string, Statement>()
  private readonly insertEvent?: Statement
  private readonly appendMany?: (events: readonly NewEvent[]) => AppendResult
  /** Delivery bookkeeping, on the same connection so it shares transactions with events. */
  readonly deliveries: SqliteDeliveries

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file
    if (options.readonly) {
      if (!existsSync(file)) {
        throw new UserError(`No event store at ${file}.`, {
          hint: 'Start the daemon with `cdp dev` in this workspace (or pass --dir) and send some events first.',
          code: 'no_store',
        })
      }
      this.db = new Database(file, {readonly: true, fileMustExist: true})
      this.db.pragma('busy_timeout = 5000')
      this.checkVersion()
      this.deliveries = new SqliteDeliveries(this.db, (sql) => this.prepared(sql))
      return
    }
    mkdirSync(path.dirname(file), {recursive: true})
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`)
    this.db.pragma('busy_timeout = 5000')
    // Random messageIds make the unique index's inserts random: keep its pages in memory (64 MB).
    this.db.pragma('cache_size = -65536')
    if (options.autoCheckpoint === false) this.db.pragma('wal_autocheckpoint = 0')
    this.migrate()
    this.db.pragma('foreign_keys = ON')
    this.deliveries = new SqliteDeliveries(this.db, (sql) => this.prepared(sql))
    this.insertEvent = this.db.prepare(
      `INSERT OR IGNORE INTO events (message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, raw, message, valid, policy)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const insert = this.insertEvent
    const insertViolation = this.db.prepare(
      `INSERT INTO violations (event_seq, message_id, source, type, event, kind, path, expected, actual, message, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.appendMany = this.db.transaction((events: readonly NewEvent[]): AppendResult => {
      let inserted = 0
      const stored = new Array<boolean>(events.length)
      const seqs = new Array<number>(events.length)
      for (let i = 0; i < events.length; i++) {
        const e = events[i]
        const valid = e.valid === null ? null : e.valid ? 1 : 0
        const info = insert.run(e.messageId, e.source, e.type, e.event, e.userId, e.anonymousId, e.timestamp, e.receivedAt, e.raw, e.message, valid, e.policy)
        stored[i] = info.changes > 0
        seqs[i] = info.changes > 0 ? Number(info.lastInsertRowid) : 0
        inserted += info.changes
        // A duplicate keeps the violations recorded when it was first stored.
        if (info.changes > 0) {
          for (const v of e.violations) {
            insertViolation.run(info.lastInsertRowid, e.messageId, e.source, e.type, e.event, v.kind, v.path, v.expected, v.actual, v.message, e.receivedAt)
          }
        }
      }
      return {inserted, duplicates: events.length - inserted, stored, seqs}
    })
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', {simple: true}) as number
    if (current > latestSchemaVersion) {
      throw new UserError(`The event store ${this.file} was written by a newer cdp (schema ${current}; this cdp knows ${latestSchemaVersion}).`, {
        hint: 'Upgrade cdp, or move .cdp/ aside to start a new store.',
        code: 'store_too_new',
      })
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue
      this.db.transaction(() => {
        this.db.exec(migration.sql)
        this.db.pragma(`user_version = ${migration.version}`)
      })()
    }
  }

  private checkVersion(): void {
    const current = this.db.pragma('user_version', {simple: true}) as number
    if (current !== latestSchemaVersion) {
      throw new UserError(`The event store ${this.file} has schema ${current}; this cdp reads schema ${latestSchemaVersion}.`, {
        hint: current < latestSchemaVersion ? 'Run `cdp dev` once to migrate it.' : 'Upgrade cdp.',
        code: 'store_version',
      })
    }
  }

  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private writable(): (events: readonly NewEvent[]) => AppendResult {
    if (!this.appendMany) throw new UserError(`The event store ${this.file} is open read-only.`)
    return this.appendMany
  }

  appendEvents(events: readonly NewEvent[]): AppendResult {
    if (events.length === 0) return {inserted: 0, duplicates: 0, stored: [], seqs: []}
    return this.writable()(events)
  }

  queryEvents(filter: EventFilter): StoredEvent[] {
    return this.eventsAfter(0, filter)
  }

  eventsAfter(after: number, filter: EventFilter): StoredEvent[] {
    const {where, params} = eventsWhere(after, filter)
    const rows = this.prepared(`SELECT seq, source, message, valid, policy FROM events ${where} ORDER BY seq DESC LIMIT ?`).all(...params, filter.limit) as {
      seq: number
      source: string
      message: string
      valid: number | null
      policy: StoredEvent['policy']
    }[]
    rows.reverse()
    return rows.map((row) => ({seq: row.seq, source: row.source, message: JSON.parse(row.message), valid: row.valid === null ? null : row.valid === 1, policy: row.policy}))
  }

  seqsAfter(after: number, filter: EventFilter): number[] {
    const {where, params} = eventsWhere(after, filter)
    const seqs = this.prepared(`SELECT seq FROM events ${where} ORDER BY seq DESC LIMIT ?`).pluck().all(...params, filter.limit) as number[]
    return seqs.reverse()
  }

  violationsOf(seqs: readonly number[]): Map<number, Violation[]> {
    const bySeq = new Map<number, Violation[]>()
    if (seqs.length === 0) return bySeq
    const rows = this.db
      .prepare(`SELECT event_seq AS seq, kind, path, expected, actual, message FROM violations WHERE event_seq IN (${seqs.map(() => '?').join(', ')}) ORDER BY id`)
      .all(...seqs) as (Violation & {seq: number})[]
    for (const {seq, ...violation} of rows) {
      let list = bySeq.get(seq)
      if (!list) bySeq.set(seq, (list = []))
      list.push(violation)
    }
    return bySeq
  }

  /** Every stored message of these types, oldest first, one at a time (no array of them all). */
  *iterateMessages(types: readonly string[]): Generator<SegmentMessage> {
    const placeholders = types.map(() => '?').join(', ')
    for (const row of this.db.prepare(`SELECT message FROM events WHERE type IN (${placeholders}) ORDER BY seq`).iterate(...types) as Iterable<{message: string}>) {
      yield JSON.parse(row.message) as SegmentMessage
    }
  }

  queryViolations(filter: ViolationFilter): StoredViolation[] {
    const where: string[] = []
    const params: unknown[] = []
    for (const [column, value] of [['event', filter.event], ['kind', filter.kind], ['source', filter.source]] as const) {
      if (value) {
        where.push(`${column} = ?`)
        params.push(value)
      }
    }
    if (filter.since) {
      where.push('received_at >= ?')
      params.push(filter.since)
    }
    const sql = `SELECT id, message_id AS messageId, source, type, event, kind, path, expected, actual, message, received_at AS receivedAt
      FROM violations ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`
    params.push(filter.limit)
    return (this.prepared(sql).all(...params) as StoredViolation[]).reverse()
  }

  countEvents(): number {
    return (this.prepared('SELECT count(*) AS n FROM events').get() as {n: number}).n
  }

  resetEvents(): number {
    this.writable()
    return this.db.transaction(() => {
      this.prepared('DELETE FROM violations').run()
      this.prepared('DELETE FROM deliveries').run()
      const deleted = this.prepared('DELETE FROM events').run().changes
      // Sequence numbers start again at 1: so do the destinations' cursors.
      this.prepared('UPDATE destinations SET cursor = 0, first_seq = 0').run()
      return deleted
    })()
  }

  getMeta(key: string): string | undefined {
    const row = this.prepared('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined
    return row?.value
  }

  setMeta(key: string, value: string): void {
    this.writable()
    this.prepared('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  /** Copies committed WAL pages into the database file; answers the WAL's size in frames and how many are copied. */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): {frames: number; checkpointed: number} {
    const [row] = this.db.pragma(`wal_checkpoint(${mode})`) as {busy: number; log: number; checkpointed: number}[]
    return {frames: row.log, checkpointed: row.checkpointed}
  }

  walBytes(): number {
    try {
      return statSync(`${this.file}-wal`).size
    } catch {
      return 0
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

/** The WHERE clause (with its parameters) of events after a seq that match a filter. */
function eventsWhere(after: number, filter: EventFilter): {where: string; params: unknown[]} {
  const conditions: string[] = []
  const params: unknown[] = []
  const add = (condition: string, ...values: unknown[]) => {
    conditions.push(condition)
    params.push(...values)
  }
  if (after > 0) add('seq > ?', after)
  if (filter.before !== undefined) add('seq < ?', filter.before)
  if (filter.type) add('type = ?', filter.type)
  if (filter.event) add('event = ?', filter.event)
  if (filter.user) add('(user_id = ? OR anonymous_id = ?)', filter.user, filter.user)
  if (filter.source) add('source = ?', filter.source)
  if (filter.since) add('timestamp >= ?', filter.since)
  if (filter.valid !== undefined) add('valid = ?', filter.valid ? 1 : 0)
  return {where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params}
}
