import type Database from 'better-sqlite3'
import {destinationMatch} from './filter-spec.js'
import type {
  DeliveryCounts,
  DeliveryOutcome,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  DestinationFilter,
  DestinationState,
  OpenDelivery,
  QueuedEvent,
} from './types.js'

type Prepare = (sql: string) => Database.Statement

/** Queued events are counted up to this many: a count runs on the daemon's thread, and a backlog can be millions. */
const pendingCountCap = 10_000

const queuedColumns = `e.seq, e.message_id AS messageId, e.source, e.type, e.event, e.user_id AS userId, e.anonymous_id AS anonymousId,
  e.received_at AS receivedAt, e.message`

/** The WHERE terms of a destination's filter over the events table (alias e). */
function filterSql(filter: DestinationFilter): {sql: string; params: unknown[]} {
  const {conditions, params} = destinationMatch.sql(filter, 'e')
  return {sql: conditions.join(' AND '), params}
}

interface DeliveryRowColumns {
  status: OpenDelivery['status']
  attempts: number
  nextAttemptAt: number
  lastStatus: number | null
  lastError: string | null
  history: string
}

function parseHistory<T extends DeliveryRowColumns>(row: T): Omit<T, 'history'> & {history: OpenDelivery['history']} {
  return {...row, history: JSON.parse(row.history)}
}

/** Delivery bookkeeping in SQLite; shares the event store's connection and transactions. */
export class SqliteDeliveries implements DeliveryStore {
  private readonly record: (outcome: DeliveryOutcome) => void

  constructor(
    private readonly db: Database.Database,
    private readonly prepare: Prepare,
  ) {
    this.record = db.transaction((outcome: DeliveryOutcome) => {
      const now = new Date().toISOString()
      const insert = this.prepare(
        `INSERT INTO deliveries (destination, event_seq, user_key, status, attempts, next_attempt_at, last_status, last_error, history, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (destination, event_seq) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
           next_attempt_at = excluded.next_attempt_at, last_status = excluded.last_status, last_error = excluded.last_error,
           history = excluded.history, updated_at = excluded.updated_at`,
      )
      for (const row of outcome.inserted) {
        insert.run(outcome.destination, row.seq, row.userKey, row.status, row.attempts, row.nextAttemptAt, row.lastStatus, row.lastError, JSON.stringify(row.history), now, now)
      }
      const update = this.prepare(
        `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, history = ?, updated_at = ? WHERE id = ?`,
      )
      for (const row of outcome.updated) {
        update.run(row.status, row.attempts, row.nextAttemptAt, row.lastStatus, row.lastError, JSON.stringify(row.history), now, row.id)
      }
      this.prepare(
        `UPDATE destinations SET cursor = coalesce(?, cursor), delivered = delivered + ?, failed_attempts = failed_attempts + ?, latency = ?,
           last_delivered_at = CASE WHEN ? > 0 THEN ? ELSE last_delivered_at END
         WHERE name = ?`,
      ).run(outcome.cursor ?? null, outcome.delivered, outcome.failedAttempts, outcome.latency, outcome.delivered, now, outcome.destination)
    })
  }

  destinationState(name: string): DestinationState | undefined {
    return this.prepare(
      `SELECT name, cursor, first_seq AS firstSeq, delivered, failed_attempts AS failedAttempts, latency, last_delivered_at AS lastDeliveredAt FROM destinations WHERE name = ?`,
    ).get(name) as DestinationState | undefined
  }

  openDestination(name: string): DestinationState {
    // New destinations take events from now on; history is what `cdp replay` is for.
    this.prepare(`INSERT INTO destinations (name, cursor, first_seq) SELECT ?, coalesce(max(seq), 0), coalesce(max(seq), 0) FROM events WHERE true ON CONFLICT (name) DO NOTHING`).run(name)
    return this.destinationState(name) as DestinationState
  }

  queuedEvents(after: number, filter: DestinationFilter, limit: number): {events: QueuedEvent[]; cursor: number; complete: boolean} {
    const newest = (this.prepare('SELECT coalesce(max(seq), 0) AS seq FROM events').get() as {seq: number}).seq
    if (newest === after) return {events: [], cursor: after, complete: true}
    // The events were deleted (DELETE /api/events) and numbering started again: so does the cursor.
    if (newest < after) after = 0
    const where = filterSql(filter)
    const events = this.prepare(
      `SELECT ${queuedColumns} FROM events e WHERE e.seq > ? AND e.seq <= ? AND ${where.sql} ORDER BY e.seq LIMIT ?`,
    ).all(after, newest, ...where.params, limit) as QueuedEvent[]
    // Fewer than asked: every event up to the newest was looked at, matched or not.
    const complete = events.length < limit
    return {events, cursor: complete ? newest : events[events.length - 1].seq, complete}
  }

  openDeliveries(destination: string, limit: number): OpenDelivery[] {
    const rows = this.prepare(
      `SELECT d.id, d.user_key AS userKey, d.status, d.attempts, d.next_attempt_at AS nextAttemptAt, d.last_status AS lastStatus,
         d.last_error AS lastError, d.history, ${queuedColumns}
       FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.destination = ? AND d.status IN ('pending', 'retrying') ORDER BY d.event_seq LIMIT ?`,
    ).all(destination, limit) as (Omit<OpenDelivery, 'history'> & {history: string})[]
    return rows.map(parseHistory)
  }

  heldUsers(destination: string): Set<string> {
    const rows = this.prepare(`SELECT DISTINCT user_key AS userKey FROM deliveries WHERE destination = ? AND status IN ('pending', 'retrying')`).all(destination) as {
      userKey: string
    }[]
    return new Set(rows.map((row) => row.userKey))
  }

  nextRetryAt(destination: string): number | undefined {
    const row = this.prepare(`SELECT min(next_attempt_at) AS at FROM deliveries WHERE destination = ? AND status IN ('pending', 'retrying')`).get(destination) as {
      at: number | null
    }
    return row.at ?? undefined
  }

  recordOutcome(outcome: DeliveryOutcome): void {
    this.record(outcome)
  }

  recordsOf(seqs: readonly number[]): {seq: number; destination: string; status: DeliveryStatus; attempts: number}[] {
    if (seqs.length === 0) return []
    return this.db
      .prepare(`SELECT event_seq AS seq, destination, status, attempts FROM deliveries WHERE event_seq IN (${seqs.map(() => '?').join(', ')})`)
      .all(...seqs) as {seq: number; destination: string; status: DeliveryStatus; attempts: number}[]
  }

  retryDead(filter: {destination?: string; ids?: readonly number[]}): number {
    let sql = `UPDATE deliveries SET status = 'retrying', attempts = 0, next_attempt_at = 0, updated_at = ? WHERE status = 'dead'`
    const params: unknown[] = [new Date().toISOString()]
    if (filter.destination !== undefined) {
      sql += ' AND destination = ?'
      params.push(filter.destination)
    }
    if (filter.ids !== undefined) {
      sql += ` AND id IN (${filter.ids.map(() => '?').join(', ')})`
      params.push(...filter.ids)
    }
    return this.prepare(sql).run(...params).changes
  }

  countDeliveries(destination: string, cursor: number, filter: DestinationFilter): DeliveryCounts {
    const where = filterSql(filter)
    const queued = (
      this.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM events e WHERE e.seq > ? AND ${where.sql} LIMIT ?)`).get(cursor, ...where.params, pendingCountCap + 1) as {n: number}
    ).n
    const capped = queued > pendingCountCap
    const counts: DeliveryCounts = {pending: capped ? pendingCountCap : queued, pendingCapped: capped, retrying: 0, dead: 0}
    const rows = this.prepare(`SELECT status, count(*) AS n FROM deliveries WHERE destination = ? AND status <> 'delivered' GROUP BY status`).all(destination) as {
      status: Exclude<DeliveryStatus, 'delivered'>
      n: number
    }[]
    for (const row of rows) counts[row.status] += row.n
    return counts
  }

  queryDeliveries(query: DeliveryQuery): DeliveryRecord[] {
    const where: string[] = []
    const params: unknown[] = []
    for (const [column, value] of [['d.destination', query.destination], ['d.status', query.status]] as const) {
      if (value === undefined) continue
      where.push(`${column} = ?`)
      params.push(value)
    }
    const rows = this.prepare(
      `SELECT d.id, d.destination, d.event_seq AS seq, e.message_id AS messageId, e.type, e.event, d.user_key AS userKey, d.status, d.attempts,
         d.next_attempt_at AS nextAttemptAt, d.last_status AS lastStatus, d.last_error AS lastError, d.history,
         d.created_at AS createdAt, d.updated_at AS updatedAt
       FROM deliveries d JOIN events e ON e.seq = d.event_seq ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY d.id DESC LIMIT ?`,
    ).all(...params, query.limit) as (Omit<DeliveryRecord, 'history'> & {history: string})[]
    return rows.reverse().map(parseHistory)
  }
}
