import {randomBytes} from 'node:crypto'
import type Database from 'better-sqlite3'
import type {ReplaySelection, ReplayStatus} from '../replay/types.js'
import type {ReplayOutcome, ReplayStore, StoredReplay} from './replays.js'
import type {DeliveryStatus, OpenDelivery} from './types.js'

type Prepare = (sql: string) => Database.Statement

interface ReplayRow {
  id: string
  destination: string
  selection: string
  status: ReplayStatus
  through: number | null
  selected: number | null
  sent: number
  failed: number
  skipped: number
  corrupt: number
  checkpoint: number
  createdAt: string
  updatedAt: string
  finishedAt: string | null
  lastError: string | null
  latency: string
}

const replayColumns = `id, destination, selection, status, through_seq AS through, selected, sent, failed, skipped, corrupt, checkpoint,
  created_at AS createdAt, updated_at AS updatedAt, finished_at AS finishedAt, last_error AS lastError, latency`

function toReplay(row: ReplayRow): StoredReplay {
  return {
    id: row.id,
    destination: row.destination,
    selection: JSON.parse(row.selection) as ReplaySelection,
    status: row.status,
    counts: {selected: row.selected, sent: row.sent, failed: row.failed, skipped: row.skipped, corrupt: row.corrupt},
    checkpoint: row.checkpoint,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
    lastError: row.lastError,
    through: row.through,
    latency: row.latency,
  }
}

/** r-20261201-030512-ab12: the creation time to the second (UTC), then 4 random hex digits. */
function newReplayId(now: Date): string {
  const iso = now.toISOString()
  return `r-${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${randomBytes(2).toString('hex')}`
}

/** Replays' records in SQLite; shares the event store's connection (a store replay's bound is read from its events). */
export class SqliteReplays implements ReplayStore {
  private readonly record: (outcome: ReplayOutcome) => void

  constructor(
    private readonly db: Database.Database,
    private readonly prepare: Prepare,
  ) {
    this.record = db.transaction((outcome: ReplayOutcome) => {
      const now = new Date().toISOString()
      if (outcome.inserted.length > 0) {
        const insert = this.prepare(
          `INSERT INTO replay_deliveries (replay_id, seq, message_id, source, type, event, user_id, anonymous_id, message, user_key, status, attempts,
             next_attempt_at, last_status, last_error, history, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (replay_id, seq) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
             last_status = excluded.last_status, last_error = excluded.last_error, history = excluded.history, updated_at = excluded.updated_at`,
        )
        for (const row of outcome.inserted) {
          const e = row.event
          insert.run(
            outcome.replayId,
            e.seq,
            e.messageId,
            e.source,
            e.type,
            e.event,
            e.userId,
            e.anonymousId,
            e.message,
            row.userKey,
            row.status,
            row.attempts,
            row.nextAttemptAt,
            row.lastStatus,
            row.lastError,
            JSON.stringify(row.history),
            now,
            now,
          )
        }
      }
      if (outcome.updated.length > 0) {
        const update = this.prepare(
          `UPDATE replay_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, history = ?, updated_at = ?
           WHERE id = ? AND replay_id = ?`,
        )
        for (const row of outcome.updated) {
          update.run(row.status, row.attempts, row.nextAttemptAt, row.lastStatus, row.lastError, JSON.stringify(row.history), now, row.id, outcome.replayId)
        }
      }
      const changed = this.prepare(
        `UPDATE replays SET checkpoint = coalesce(?, checkpoint), sent = sent + ?, failed = failed + ?, skipped = skipped + ?, corrupt = corrupt + ?,
           latency = ?, updated_at = ? WHERE id = ?`,
      ).run(outcome.checkpoint ?? null, outcome.sent, outcome.failed, outcome.skipped, outcome.corrupt, outcome.latency, now, outcome.replayId).changes
      if (changed === 0) throw new Error(`no replay ${outcome.replayId} in the store`)
    })
  }

  create(selection: ReplaySelection, options: {selected?: number | null} = {}): StoredReplay {
    const now = new Date()
    const at = now.toISOString()
    const fromStore = selection.files === undefined || selection.files.length === 0
    const insert = this.prepare(
      `INSERT INTO replays (id, destination, selection, status, through_seq, selected, created_at, updated_at)
       SELECT ?, ?, ?, 'running', CASE WHEN ? THEN (SELECT coalesce(max(seq), 0) FROM events) END, ?, ?, ?`,
    )
    // Two replays begun in the same second: the random part differs, or another is drawn.
    for (let attempt = 0; ; attempt++) {
      const id = newReplayId(now)
      try {
        insert.run(id, selection.destination, JSON.stringify(selection), fromStore ? 1 : 0, options.selected ?? null, at, at)
        return this.get(id) as StoredReplay
      } catch (error) {
        if (attempt < 20 && (error as {code?: string}).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') continue
        throw error
      }
    }
  }

  get(id: string): StoredReplay | undefined {
    const row = this.prepare(`SELECT ${replayColumns} FROM replays WHERE id = ?`).get(id) as ReplayRow | undefined
    return row && toReplay(row)
  }

  list(): StoredReplay[] {
    return (this.prepare(`SELECT ${replayColumns} FROM replays ORDER BY created_at, rowid`).all() as ReplayRow[]).map(toReplay)
  }

  setStatus(id: string, status: ReplayStatus, lastError?: string | null): void {
    const now = new Date().toISOString()
    const changed = this.prepare(
      `UPDATE replays SET status = ?, updated_at = ?, finished_at = CASE WHEN ? = 'running' THEN NULL ELSE ? END,
         last_error = CASE WHEN ? THEN ? ELSE last_error END WHERE id = ?`,
    ).run(status, now, status, now, lastError === undefined ? 0 : 1, lastError ?? null, id).changes
    if (changed === 0) throw new Error(`no replay ${id} in the store`)
  }

  setSelected(id: string, selected: number | null): void {
    this.prepare(`UPDATE replays SET selected = ?, updated_at = ? WHERE id = ?`).run(selected, new Date().toISOString(), id)
  }

  openDeliveries(replayId: string, limit: number): OpenDelivery[] {
    return this.rows(`WHERE replay_id = ? AND status IN ('pending', 'retrying') ORDER BY seq LIMIT ?`, replayId, limit)
  }

  records(replayId: string, query: {status?: DeliveryStatus; limit: number}): OpenDelivery[] {
    if (query.status === undefined) return this.rows(`WHERE replay_id = ? ORDER BY seq LIMIT ?`, replayId, query.limit)
    return this.rows(`WHERE replay_id = ? AND status = ? ORDER BY seq LIMIT ?`, replayId, query.status, query.limit)
  }

  private rows(where: string, ...params: unknown[]): OpenDelivery[] {
    const rows = this.prepare(
      `SELECT id, seq, message_id AS messageId, source, type, event, user_id AS userId, anonymous_id AS anonymousId, created_at AS receivedAt, message,
         user_key AS userKey, status, attempts, next_attempt_at AS nextAttemptAt, last_status AS lastStatus, last_error AS lastError, history
       FROM replay_deliveries ${where}`,
    ).all(...params) as (Omit<OpenDelivery, 'history'> & {history: string})[]
    return rows.map((row) => ({...row, history: JSON.parse(row.history)}))
  }

  heldUsers(replayId: string): Set<string> {
    const keys = this.prepare(`SELECT DISTINCT user_key FROM replay_deliveries WHERE replay_id = ? AND status IN ('pending', 'retrying')`).pluck().all(replayId) as string[]
    return new Set(keys)
  }

  nextRetryAt(replayId: string): number | undefined {
    const at = this.prepare(`SELECT min(next_attempt_at) FROM replay_deliveries WHERE replay_id = ? AND status IN ('pending', 'retrying')`).pluck().get(replayId) as
      | number
      | null
    return at ?? undefined
  }

  countOpen(replayId: string): number {
    return this.prepare(`SELECT count(*) FROM replay_deliveries WHERE replay_id = ? AND status IN ('pending', 'retrying')`).pluck().get(replayId) as number
  }

  recordOutcome(outcome: ReplayOutcome): void {
    this.record(outcome)
  }
}
