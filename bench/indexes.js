// What each part of the events table costs an insert, and what an index buys its query (issue 15):
//
//   node bench/indexes.js [--prefill 200000] [--rounds 3] [--seconds 2] [--tx 8,1000]
//
// Each variant is the events table with some indexes, filled with --prefill events first (a store
// in use, not an empty one: random userIds make random index inserts), then timed inserting the
// 621-byte benchmark event in transactions of --tx rows (8: single events under group commit; 1000:
// batches), as CPU time of this process (user + system: SQLite's WAL writes included), so that
// other tenants of the machine move the figures less than wall time would. Rounds interleave the
// variants. Then each dropped index's query is timed on the full store with and without it.
// WAL, synchronous=NORMAL, a PASSIVE checkpoint every 20,000 rows, as the daemon's checkpoint thread.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {randomUUID} from 'node:crypto'
import {indexUsersSql} from '../dist/store/user-index.js'
import {productAdded} from './payload.js'

const {values: args} = parseArgs({
  options: {
    prefill: {type: 'string', default: '200000'},
    rounds: {type: 'string', default: '3'},
    seconds: {type: 'string', default: '2'},
    tx: {type: 'string', default: '8,1000'},
  },
})
const prefill = Number(args.prefill)
const rounds = Number(args.rounds)
const seconds = Number(args.seconds)
const txSizes = args.tx.split(',').map(Number)

const indexSql = {
  unique: 'CREATE UNIQUE INDEX events_source_message_id ON events (source, message_id)',
  timestamp: 'CREATE INDEX events_timestamp ON events (timestamp)',
  type: 'CREATE INDEX events_type ON events (type)',
  event: 'CREATE INDEX events_event ON events (event) WHERE event IS NOT NULL',
  userId: 'CREATE INDEX events_user_id ON events (user_id) WHERE user_id IS NOT NULL',
  anonymousId: 'CREATE INDEX events_anonymous_id ON events (anonymous_id) WHERE anonymous_id IS NOT NULL',
  unplanned: 'CREATE INDEX events_unplanned ON events (seq) WHERE unplanned = 1',
}
const schema7 = ['unique', 'type', 'event', 'unplanned']
const variants = {
  'schema 6 (two copies, 6 indexes, a violations row per unplanned event)': {copies: 2, indexes: ['unique', 'timestamp', 'type', 'event', 'userId', 'anonymousId'], violationsRow: true},
  'schema 6, one copy': {copies: 1, indexes: ['unique', 'timestamp', 'type', 'event', 'userId', 'anonymousId'], violationsRow: true},
  'schema 7 (one copy, 4 indexes, an unplanned flag, users indexed behind in sorted slices)': {copies: 1, indexes: schema7, deferredUsers: true},
  'schema 7 with the user indexes on events instead': {copies: 1, indexes: [...schema7, 'userId', 'anonymousId']},
  'schema 7 − type index': {copies: 1, indexes: schema7.filter((i) => i !== 'type'), deferredUsers: true},
  'schema 7 + timestamp index': {copies: 1, indexes: [...schema7, 'timestamp'], deferredUsers: true},
  'schema 7 − event index': {copies: 1, indexes: schema7.filter((i) => i !== 'event'), deferredUsers: true},
  'schema 7, users not indexed at all': {copies: 1, indexes: schema7},
  'lean (one copy, unique message id only)': {copies: 1, indexes: ['unique']},
}

const event = productAdded('__ID__')
const body = JSON.stringify(event)
const message = JSON.stringify({...event, integrations: {}, originalTimestamp: event.timestamp, receivedAt: new Date().toISOString()})
const users = Array.from({length: 20000}, (_, i) => `user-${(i * 2654435761) % 1e9}-${i}`)
const names = Array.from({length: 60}, (_, i) => `Event Name ${i}`)
const types = ['track', 'track', 'track', 'track', 'page', 'identify', 'screen', 'group']

function open(dir, variant) {
  const db = new Database(path.join(dir, `${Object.keys(variants).indexOf(variant)}.sqlite`))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('cache_size = -65536')
  db.pragma('wal_autocheckpoint = 0')
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, event TEXT,
    user_id TEXT, anonymous_id TEXT, timestamp TEXT NOT NULL, received_at TEXT NOT NULL, message TEXT NOT NULL, raw TEXT, valid INTEGER, policy TEXT, unplanned INTEGER) STRICT`)
  db.exec(`CREATE TABLE violations (id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, message_id TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL, event TEXT,
    kind TEXT NOT NULL, path TEXT NOT NULL, expected TEXT NOT NULL, actual TEXT NOT NULL, message TEXT NOT NULL, received_at TEXT NOT NULL) STRICT;
    CREATE INDEX violations_event_seq ON violations (event_seq); CREATE INDEX violations_kind ON violations (kind); CREATE INDEX violations_event ON violations (event) WHERE event IS NOT NULL;`)
  db.exec('CREATE TABLE event_users (user TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (user, seq)) STRICT, WITHOUT ROWID')
  const spec = variants[variant]
  for (const name of spec.indexes) db.exec(indexSql[name])
  // The daemon's own statement (src/store/user-index.ts), every 4,000 rows (the daemon: every 250 ms, in slices of 4,000).
  const indexUsers = db.prepare(indexUsersSql[0])
  let usersThrough = 0
  /** The users of every event not indexed yet: for the queries on the full store. */
  const indexRemainingUsers = () => {
    db.transaction(() => indexUsers.run({after: usersThrough, upTo: n}))()
    usersThrough = n
  }
  const insert = db.prepare(
    'INSERT OR IGNORE INTO events (message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, message, raw, valid, policy, unplanned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)',
  )
  const violation = db.prepare(
    `INSERT INTO violations (event_seq, message_id, source, type, event, kind, path, expected, actual, message, received_at) VALUES (?, ?, 'default', 'track', ?, 'unplanned_event', 'event', 'an event in the tracking plan', ?, ?, ?)`,
  )
  let n = 0
  // Every event unplanned, as in a workspace made by `cdp init`: the case the flag is for.
  const append = db.transaction((count) => {
    for (let i = 0; i < count; i++) {
      n++
      // Random, as SDKs make them (a UUID v4): the unique index's inserts land anywhere.
      const id = randomUUID()
      const user = users[(n * 7919) % users.length]
      const type = types[n % types.length]
      const name = type === 'track' || type === 'page' || type === 'screen' ? names[(n * 31) % names.length] : null
      const at = new Date(1.7e12 + n * 1000).toISOString()
      const info = insert.run(id, 'default', type, name, user, `anon-${user}`, at, at, message.replace('__ID__', id), spec.copies === 2 ? body.replace('__ID__', id) : null, spec.violationsRow ? null : 1)
      if (spec.violationsRow) violation.run(info.lastInsertRowid, id, name, JSON.stringify(name), `"${name}" is not in the tracking plan.`, at)
    }
  })
  let sinceCheckpoint = 0
  const insertRows = (count) => {
    append(count)
    if (spec.deferredUsers && n - usersThrough >= 4000) {
      db.transaction(() => indexUsers.run({after: usersThrough, upTo: n}))()
      usersThrough = n
    }
    sinceCheckpoint += count
    if (sinceCheckpoint >= 20000) {
      sinceCheckpoint = 0
      db.pragma('wal_checkpoint(PASSIVE)')
    }
  }
  return {db, insertRows, indexRemainingUsers}
}

function cpuMicros() {
  const {user, system} = process.cpuUsage()
  return user + system
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const dir = mkdtempSync(path.join(tmpdir(), 'cdp-bench-indexes-'))
try {
  const opened = new Map()
  for (const variant of Object.keys(variants)) {
    const store = open(dir, variant)
    for (let done = 0; done < prefill; done += 1000) store.insertRows(1000)
    store.db.pragma('wal_checkpoint(TRUNCATE)')
    opened.set(variant, store)
  }
  const results = new Map()
  for (let round = 0; round < rounds; round++) {
    for (const tx of txSizes) {
      for (const [variant, store] of opened) {
        const cpuStart = cpuMicros()
        const wallStart = performance.now()
        let rows = 0
        while (performance.now() - wallStart < seconds * 1000) {
          store.insertRows(tx)
          rows += tx
        }
        const key = `${variant}|${tx}`
        results.set(key, [...(results.get(key) ?? []), (cpuMicros() - cpuStart) / rows])
      }
    }
  }
  console.log(`CPU µs an inserted row (user + system), medians of ${rounds} rounds; stores prefilled with ${prefill.toLocaleString('en-US')} events`)
  console.log(`| variant | ${txSizes.map((tx) => `${tx}-row transactions`).join(' | ')} |`)
  console.log(`| --- | ${txSizes.map(() => '---:').join(' | ')} |`)
  for (const variant of Object.keys(variants)) {
    console.log(`| ${variant} | ${txSizes.map((tx) => median(results.get(`${variant}|${tx}`)).toFixed(2)).join(' | ')} |`)
  }

  // What the dropped indexes served, on the full store: timed with the index (schema 6) and without (schema 7).
  const queries = [
    ['cdp events --type alias (no match: a full scan without its index)', "SELECT seq FROM events WHERE type = 'alias' ORDER BY seq DESC LIMIT 50"],
    ['cdp events --type identify', "SELECT seq FROM events WHERE type = 'identify' ORDER BY seq DESC LIMIT 50"],
    ['cdp events --since (the last hour: newest events)', `SELECT seq FROM events WHERE timestamp >= '${new Date(1.7e12 + (prefill - 3600) * 1000).toISOString()}' ORDER BY seq DESC LIMIT 50`],
    ['cdp events --since, nothing that recent (a quiet week)', `SELECT seq FROM events WHERE timestamp >= '${new Date(1.7e12 + (prefill + 86_400 * 365) * 1000).toISOString()}' ORDER BY seq DESC LIMIT 50`],
    ['cdp events --event (a name)', `SELECT seq FROM events WHERE event = '${names[7]}' ORDER BY seq DESC LIMIT 50`],
    [
      'cdp events --user (schema 7: event_users to the mark, then the seqs after it)',
      `SELECT seq FROM events WHERE (user_id = '${users[11]}' OR anonymous_id = '${users[11]}') ORDER BY seq DESC LIMIT 50`,
      `SELECT seq FROM events WHERE seq IN (SELECT seq FROM event_users WHERE user = '${users[11]}' UNION ALL SELECT seq FROM events WHERE seq > (SELECT max(seq) - 2000 FROM events) AND (user_id = '${users[11]}' OR anonymous_id = '${users[11]}')) ORDER BY seq DESC LIMIT 50`,
    ],
  ]
  const time = (db, sql) => {
    const statement = db.prepare(sql)
    statement.all()
    const times = []
    for (let i = 0; i < 5; i++) {
      const start = performance.now()
      statement.all()
      times.push(performance.now() - start)
    }
    return median(times)
  }
  const withAll = opened.get(Object.keys(variants)[0]).db
  const schema7Store = opened.get(Object.keys(variants)[2])
  // The queries also on a store without the type index (schema 7 has no timestamp index): what dropping it would cost.
  const noTypeStore = opened.get(Object.keys(variants)[4])
  for (const store of [schema7Store, noTypeStore]) store.indexRemainingUsers()
  console.log('\n| query (LIMIT 50, newest first) | schema 6 (ms) | schema 7 (ms) | schema 7 without the type index (ms) |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const [label, sql, sql7 = sql] of queries) console.log(`| ${label} | ${time(withAll, sql).toFixed(2)} | ${time(schema7Store.db, sql7).toFixed(2)} | ${time(noTypeStore.db, sql7).toFixed(2)} |`)
  for (const store of opened.values()) store.db.close()
} finally {
  rmSync(dir, {recursive: true, force: true})
}
