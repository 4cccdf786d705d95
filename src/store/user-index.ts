/**
 * The events of a user, found without an index maintained by every insert (issue 15). userId and
 * anonymousId are random keys: kept in B-tree indexes, each insert dirtied two random pages that
 * every commit wrote out again, the dearest part of storing an event. Instead `event_users` holds
 * (user, seq) for every event up to a mark kept in meta, filled behind ingest in sorted slices
 * (each page written once a slice), and a query reads it up to the mark and scans the few rows
 * after it. Correct whether or not anything has indexed lately: the mark only moves forward with
 * what is indexed, in the same transaction.
 */

/** The meta key of the highest seq whose users are in event_users. */
export const usersIndexedThroughKey = 'event_users_through'

/** The mark, as SQL (0 before anything is indexed). */
const indexedThrough = `(SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${usersIndexedThroughKey}'), 0))`

/**
 * The condition "userId or anonymousId is the user", for a filter: `column` names a column of the
 * query's events table. Parameters: the user, three times.
 */
export function userCondition(column: (name: string) => string): string {
  // One list of seqs, so the outer query looks its rows up by rowid (an OR of the two parts made
  // SQLite scan the whole table).
  return `${column('seq')} IN (SELECT seq FROM event_users WHERE user = ? UNION ALL SELECT seq FROM events WHERE seq > ${indexedThrough} AND (user_id = ? OR anonymous_id = ?))`
}

/** Indexes the events after the mark up to @upTo, in key order, and moves the mark: one transaction. */
export const indexUsersSql = [
  `INSERT OR IGNORE INTO event_users (user, seq)
   SELECT user, seq FROM (
     SELECT user_id AS user, seq FROM events WHERE seq > @after AND seq <= @upTo AND user_id IS NOT NULL
     UNION ALL
     SELECT anonymous_id, seq FROM events WHERE seq > @after AND seq <= @upTo AND anonymous_id IS NOT NULL
   ) ORDER BY user, seq`,
  `INSERT INTO meta (key, value) VALUES ('${usersIndexedThroughKey}', CAST(@upTo AS TEXT)) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
] as const

export const usersIndexedThroughSql = `SELECT ${indexedThrough} AS seq`
