import {existsSync, mkdirSync, statSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {UserError} from '../errors.js'
import {unplannedEventViolation, type Violation, type ViolationKind} from '../plan/violations.js'
import type {SegmentMessage} from '../message/types.js'
import {destinationMatch, eventMatch} from './filter-spec.js'
import {indexUsersSql, usersIndexedThroughKey, usersIndexedThroughSql} from './user-index.js'
import {latestSchemaVersion, migrations} from './migrations.js'
import {OpenFiles} from './open-files.js'
import {ensurePrivateFile, privateDirMode, tightenMode} from './private-files.js'
import {SqliteDeliveries} from './sqlite-deliveries.js'
import {SqliteFunctionRuns} from './sqlite-function-runs.js'
import {SqliteReplays} from './sqlite-replays.js'
import {isNotWritable, StoreUnavailableError, storeNotWritable} from './store-errors.js'
import type {MetaStore} from './storage.js'
import type {AppendResult, EventFilter, EventStore, NewEvent, QueuedEvent, QueuedEvents, ReplayCount, ReplayFilter, StoredEvent, StoredViolation, ViolationFilter} from './types.js'

export interface SqliteStoreOptions {
  /** A second process reading while the daemon writes (WAL allows any number). */
  readonly?: boolean
  /** FULL syncs the WAL on every commit (survives power loss); NORMAL survives process crashes. */
  synchronous?: 'NORMAL' | 'FULL'
  /** false when a checkpoint thread does the checkpoints (the daemon); true elsewhere. */
  autoCheckpoint?: boolean
  /**
   * The daemon's store notices when its files are deleted or replaced under it (checked after each
   * commit, before it is acknowledged, and every second): from then on it refuses writes with a
   * StoreUnavailableError, and tells onUnavailable once.
   */
  guardFiles?: boolean
  onUnavailable?: (error: StoreUnavailableError) => void
  /**
   * SQLite's page cache in MiB (default 64: the daemon's random-messageId inserts want the unique
   * index in memory). A command reading the events through once (`cdp replay`) takes a small one:
   * a scan gains nothing from it, and it is most of the process's memory (measured: 1M events
   * replayed, peak RSS 206 MB with 64, 146 MB with 8, and faster).
   */
  cacheMiB?: number
  /** Told before an existing store's schema is upgraded (a rebuild can take seconds per million events). */
  onMigrate?: (from: number, to: number, events: number) => void
}

/**
 * Opens the store for writing, or fails at once (exit 3, naming the file) when it cannot be written:
 * SQLite opens a file it may only read without complaint, and every insert would fail later.
 */
function openForWriting(file: string, options: SqliteStoreOptions): Database.Database {
  mkdirSync(path.dirname(file), {recursive: true, mode: privateDirMode})
  // Made 0600 before SQLite opens it: SQLite gives the -wal and -shm it creates the database's mode.
  ensurePrivateFile(file)
  for (const suffix of ['-wal', '-shm']) tightenMode(file + suffix)
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`)
    db.pragma('busy_timeout = 5000')
    // Random messageIds make the unique index's inserts random: keep its pages in memory (64 MB).
    db.pragma(`cache_size = -${Math.round((options.cacheMiB ?? 64) * 1024)}`)
    if (options.autoCheckpoint === false) {
      db.pragma('wal_autocheckpoint = 0')
      // When the log starts again from its beginning, the file is cut back to this (group-commit.ts).
      db.pragma(`journal_size_limit = ${32 * 1024 * 1024}`)
    }
    // A write refused (SQLITE_READONLY) on a file opened read-only; rolled back, it writes nothing.
    // BEGIN IMMEDIATE alone is not refused.
    try {
      db.exec('BEGIN IMMEDIATE')
      db.pragma(`user_version = ${db.pragma('user_version', {simple: true}) as number}`)
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK')
    }
    return db
  } catch (error) {
    db.close()
    throw error
  }
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
  /** Function run records, on the same connection. */
  readonly functionRuns: SqliteFunctionRuns
  /** Replays' records (`cdp replay`), on the same connection. */
  readonly replays: SqliteReplays
  private readonly openFiles?: OpenFiles
  /** The files whose replacement loses commits: checked after each one. */
  private readonly dataFiles: readonly string[]
  private readonly guardTimer?: NodeJS.Timeout
  private readonly onUnavailable?: (error: StoreUnavailableError) => void
  /** Set once the files are found deleted or replaced: every later write fails with it. */
  private unavailable?: StoreUnavailableError

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file
    this.dataFiles = [file, `${file}-wal`]
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
      this.functionRuns = new SqliteFunctionRuns(this.db, (sql) => this.prepared(sql), () => void this.writable())
      this.replays = new SqliteReplays(this.db, (sql) => this.prepared(sql))
      return
    }
    let db: Database.Database | undefined
    try {
      this.db = db = openForWriting(file, options)
      this.migrate(options.onMigrate)
    } catch (error) {
      if (db?.open) db.close()
      throw isNotWritable(error) ? storeNotWritable(file, error) : error
    }
    this.db.pragma('foreign_keys = ON')
    if (options.guardFiles) {
      this.openFiles = new OpenFiles([file, `${file}-wal`, `${file}-shm`])
      this.onUnavailable = options.onUnavailable
      this.guardTimer = setInterval(() => this.checkFiles(), 1000)
      this.guardTimer.unref()
    }
    this.deliveries = new SqliteDeliveries(this.db, (sql) => this.prepared(sql))
    this.functionRuns = new SqliteFunctionRuns(this.db, (sql) => this.prepared(sql), () => void this.writable())
    this.replays = new SqliteReplays(this.db, (sql) => this.prepared(sql))
    this.insertEvent = this.db.prepare(
      `INSERT OR IGNORE INTO events (message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, message, raw, valid, policy, unplanned)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        // An unplanned event is a flag on its row, not a violations row (rebuilt on read).
        let unplanned: 1 | null = null
        for (const v of e.violations) if (v.kind === 'unplanned_event') unplanned = 1
        const info = insert.run(e.messageId, e.source, e.type, e.event, e.userId, e.anonymousId, e.timestamp, e.receivedAt, e.message, e.raw, valid, e.policy, unplanned)
        stored[i] = info.changes > 0
        seqs[i] = info.changes > 0 ? Number(info.lastInsertRowid) : 0
        inserted += info.changes
        // A duplicate keeps the violations recorded when it was first stored.
        if (info.changes > 0) {
          for (const v of e.violations) {
            if (v.kind === 'unplanned_event') continue
            insertViolation.run(info.lastInsertRowid, e.messageId, e.source, e.type, e.event, v.kind, v.path, v.expected, v.actual, v.message, e.receivedAt)
          }
        }
      }
      return {inserted, duplicates: events.length - inserted, stored, seqs}
    })
  }

  private migrate(onMigrate?: SqliteStoreOptions['onMigrate']): void {
    const current = this.db.pragma('user_version', {simple: true}) as number
    if (current > latestSchemaVersion) {
      throw new UserError(`The event store ${this.file} was written by a newer cdp (schema ${current}; this cdp knows ${latestSchemaVersion}).`, {
        hint: 'Upgrade cdp, or move .cdp/ aside to start a new store.',
        code: 'store_too_new',
      })
    }
    if (current === latestSchemaVersion) return
    if (current > 0 && onMigrate) onMigrate(current, latestSchemaVersion, (this.db.prepare('SELECT count(*) AS n FROM events').get() as {n: number}).n)
    // Off for the migrations (a rebuilt table would cascade its deletes; the pragma is ignored
    // inside a transaction), checked before each commit, on again after.
    this.db.pragma('foreign_keys = OFF')
    try {
      for (const migration of migrations) {
        if (migration.version <= current) continue
        this.db.transaction(() => {
          this.db.exec(migration.sql)
          const broken = this.db.pragma('foreign_key_check') as unknown[]
          if (broken.length > 0) throw new Error(`schema migration ${migration.version} left ${broken.length} rows referring to rows that no longer exist`)
          this.db.pragma(`user_version = ${migration.version}`)
        })()
      }
    } finally {
      this.db.pragma('foreign_keys = ON')
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

  /** A prepared statement answering rows as arrays (its own cache entry: raw() changes the statement). */
  private preparedRaw(sql: string): Statement {
    let statement = this.statements.get(`raw:${sql}`)
    if (!statement) {
      statement = this.db.prepare(sql).raw(true)
      this.statements.set(`raw:${sql}`, statement)
    }
    return statement
  }

  private writable(): (events: readonly NewEvent[]) => AppendResult {
    if (this.unavailable) throw this.unavailable
    if (!this.appendMany) throw new UserError(`The event store ${this.file} is open read-only.`)
    return this.appendMany
  }

  appendEvents(events: readonly NewEvent[]): AppendResult {
    if (events.length === 0) return {inserted: 0, duplicates: 0, stored: [], seqs: []}
    const result = this.writable()(events)
    // After the commit and before anyone is told of it: a commit into a deleted file must not be acknowledged.
    const lost = this.openFiles && this.checkFiles(this.dataFiles)
    if (lost) throw lost
    return result
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
    const placeholders = seqs.map(() => '?').join(', ')
    const rows = this.db
      .prepare(`SELECT event_seq AS seq, kind, path, expected, actual, message FROM violations WHERE event_seq IN (${placeholders}) ORDER BY id`)
      .all(...seqs) as (Violation & {seq: number})[]
    const add = (seq: number, violation: Violation) => {
      let list = bySeq.get(seq)
      if (!list) bySeq.set(seq, (list = []))
      list.push(violation)
    }
    for (const {seq, ...violation} of rows) add(seq, violation)
    // The plan checks the common rule first, then the event's own: the unplanned violation comes last.
    const unplanned = this.db.prepare(`SELECT seq, event FROM events WHERE seq IN (${placeholders}) AND unplanned = 1`).all(...seqs) as {seq: number; event: string}[]
    for (const {seq, event} of unplanned) add(seq, unplannedEventViolation(event))
    return bySeq
  }

  /** Every stored message of these types, oldest first, one at a time (no array of them all). */
  *iterateMessages(types: readonly string[]): Generator<SegmentMessage> {
    const placeholders = types.map(() => '?').join(', ')
    for (const row of this.db.prepare(`SELECT message FROM events WHERE type IN (${placeholders}) ORDER BY seq`).iterate(...types) as Iterable<{message: string}>) {
      yield JSON.parse(row.message) as SegmentMessage
    }
  }

  /**
   * The newest violations that match, oldest first: the violations rows and the unplanned events'
   * flags, merged by event (an event's unplanned violation after its rows, as the plan gives them).
   */
  queryViolations(filter: ViolationFilter): StoredViolation[] {
    const where: string[] = []
    const params: unknown[] = []
    for (const [column, value] of [['event', filter.event], ['source', filter.source]] as const) {
      if (value) {
        where.push(`${column} = ?`)
        params.push(value)
      }
    }
    if (filter.since) {
      where.push('received_at >= ?')
      params.push(filter.since)
    }
    const unplannedKind: ViolationKind = 'unplanned_event'
    const rows: StoredViolation[] =
      filter.kind === unplannedKind
        ? []
        : (this.prepared(
            `SELECT event_seq AS seq, message_id AS messageId, source, type, event, kind, path, expected, actual, message, received_at AS receivedAt
             FROM violations WHERE ${[...where, ...(filter.kind ? ['kind = ?'] : []), 'true'].join(' AND ')} ORDER BY event_seq DESC, id DESC LIMIT ?`,
          ).all(...params, ...(filter.kind ? [filter.kind] : []), filter.limit) as StoredViolation[])
    const unplanned =
      filter.kind && filter.kind !== unplannedKind
        ? []
        : (this.prepared(
            `SELECT seq, message_id AS messageId, source, type, event, received_at AS receivedAt
             FROM events WHERE ${[...where, 'unplanned = 1'].join(' AND ')} ORDER BY seq DESC LIMIT ?`,
          ).all(...params, filter.limit) as (Omit<StoredViolation, keyof Violation> & {event: string})[])
    // Both newest first; merged newest first, the unplanned one first within an event (it is its last).
    const merged: StoredViolation[] = []
    let r = 0
    let u = 0
    while (merged.length < filter.limit && (r < rows.length || u < unplanned.length)) {
      if (u < unplanned.length && (r >= rows.length || unplanned[u].seq >= rows[r].seq)) {
        const event = unplanned[u++]
        merged.push({...event, ...unplannedEventViolation(event.event)})
      } else merged.push(rows[r++])
    }
    return merged.reverse()
  }

  countEvents(): number {
    return (this.prepared('SELECT count(*) AS n FROM events').get() as {n: number}).n
  }

  replayEvents(after: number, filter: ReplayFilter, limit: number): QueuedEvents {
    const through = filter.through ?? this.newestSeq()
    if (after >= through) return {events: [], cursor: after, complete: true}
    const {where, params, scan} = replayWhere(filter)
    // Read along the seqs (the table's own order): an index on a filtered column would make SQLite
    // collect and sort every remaining match for each page. A user is the exception (few rows, found
    // by its indexes); the planner picks for it.
    // Rows as arrays, made into objects here: better-sqlite3's own objects cost twice as much (5.8 → 4.2 µs a row, measured).
    const rows = this.preparedRaw(
      `SELECT seq, message_id, source, type, event, user_id, anonymous_id, received_at, message
       FROM events ${scan} WHERE seq > ? AND seq <= ? AND ${where} ORDER BY seq LIMIT ?`,
    ).all(after, through, ...params, limit) as [number, string, string, string, string | null, string | null, string | null, string, string][]
    const events = new Array<QueuedEvent>(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      events[i] = {seq: row[0], messageId: row[1], source: row[2], type: row[3], event: row[4], userId: row[5], anonymousId: row[6], receivedAt: row[7], message: row[8]}
    }
    // Fewer than asked: every event up to `through` was looked at, taken or not.
    const complete = events.length < limit
    return {events, cursor: complete ? through : events[events.length - 1].seq, complete}
  }

  countReplayEvents(filter: ReplayFilter): ReplayCount {
    const {where, params} = replayWhere(filter)
    const bound = filter.through === undefined ? '' : 'seq <= ? AND '
    const rows = this.prepared(`SELECT type, event, count(*) AS count FROM events WHERE ${bound}${where} GROUP BY type, event ORDER BY count DESC, type, event`).all(
      ...(filter.through === undefined ? [] : [filter.through]),
      ...params,
    ) as ReplayCount['byType']
    return {total: rows.reduce((sum, row) => sum + row.count, 0), byType: rows}
  }

  private newestSeq(): number {
    return (this.prepared('SELECT coalesce(max(seq), 0) AS seq FROM events').get() as {seq: number}).seq
  }

  /**
   * Indexes the users of up to `limit` events stored after the mark (src/store/user-index.ts);
   * answers how many events it covered (0: caught up). Upkeep of the SQLite store, not part of the
   * storage contract.
   */
  indexUsers(limit: number): number {
    this.writable()
    const after = (this.prepared(usersIndexedThroughSql).get() as {seq: number}).seq
    const newest = this.newestSeq()
    if (newest <= after) return 0
    const upTo = Math.min(newest, after + limit)
    this.db.transaction(() => {
      for (const sql of indexUsersSql) this.prepared(sql).run({after, upTo})
    })()
    return upTo - after
  }

  resetEvents(): number {
    this.writable()
    return this.db.transaction(() => {
      this.prepared('DELETE FROM event_users').run()
      this.prepared(`DELETE FROM meta WHERE key = '${usersIndexedThroughKey}'`).run()
      this.prepared('DELETE FROM violations').run()
      this.prepared('DELETE FROM deliveries').run()
      const deleted = this.prepared('DELETE FROM events').run().changes
      // Sequence numbers start again at 1: so do the destinations' cursors.
      this.prepared('UPDATE destinations SET cursor = 0, first_seq = 0').run()
      return deleted
    })()
  }

  /** The meta table, as the storage contract's MetaStore. */
  readonly meta: MetaStore = {get: (key) => this.getMeta(key), set: (key, value) => this.setMeta(key, value)}

  getMeta(key: string): string | undefined {
    const row = this.prepared('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined
    return row?.value
  }

  setMeta(key: string, value: string): void {
    this.writable()
    this.prepared('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  /**
   * Copies committed WAL pages into the database file; answers the WAL's size in frames, how many
   * are copied, and whether readers kept a TRUNCATE from finishing. SQLite upkeep: not part of the
   * storage contract.
   */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): {frames: number; checkpointed: number; busy: boolean} {
    const [row] = this.db.pragma(`wal_checkpoint(${mode})`) as {busy: number; log: number; checkpointed: number}[]
    return {frames: row.log, checkpointed: row.checkpointed, busy: row.busy !== 0}
  }

  walBytes(): number {
    try {
      return statSync(`${this.file}-wal`).size
    } catch {
      return 0
    }
  }

  /**
   * undefined while the store's paths lead to the files it has open (all of them, or these);
   * otherwise the error every write now fails with. Only for a store opened with guardFiles.
   */
  checkFiles(files?: Iterable<string>): StoreUnavailableError | undefined {
    if (this.unavailable || !this.openFiles) return this.unavailable
    const changed = this.openFiles.changed(files)
    if (changed === undefined) return undefined
    clearInterval(this.guardTimer)
    this.unavailable = new StoreUnavailableError(
      `The event store ${this.file} was deleted or replaced while cdp dev was running (${path.basename(changed)} is no longer the file it has open): nothing more can be stored.`,
      'Restart cdp dev: it starts a new, empty store (and with no cdp.json, a new write key for the default source).',
    )
    this.onUnavailable?.(this.unavailable)
    return this.unavailable
  }

  close(): void {
    clearInterval(this.guardTimer)
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
  const match = eventMatch.sql(filter)
  conditions.push(...match.conditions)
  params.push(...match.params)
  return {where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params}
}

/**
 * The conditions of a replay's filter (never a quarantined event), and how to read the table for
 * it: along the seqs, unless a user narrows it to the rows its indexes find.
 */
function replayWhere(filter: ReplayFilter): {where: string; params: unknown[]; scan: string} {
  const match = eventMatch.sql({types: filter.types, events: filter.events, user: filter.user, source: filter.source, since: filter.since, until: filter.until, valid: filter.valid})
  // The destination filter's first term alone: not quarantined.
  const unblocked = destinationMatch.sql({})
  return {
    where: [...unblocked.conditions, ...match.conditions].join(' AND '),
    params: [...unblocked.params, ...match.params],
    scan: filter.user ? '' : 'NOT INDEXED',
  }
}
