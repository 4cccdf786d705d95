// The storage ceiling, run in its own process by bench/run.js:
//
//   node bench/storage.js --variant store|store-no-checkpoint|unique|bare|lean [--warmup 0.5] [--duration 3] [--tx 1000]
//
// Inserts the benchmark event into a fresh SQLite file (WAL, synchronous=NORMAL, as the daemon
// does) in transactions of --tx rows, and prints one JSON line with rows/s.
//   store:  SqliteStore.appendEvents from dist/: the daemon's own schema and INSERT (schema 7: the
//           message alone, 4 indexes; the users index is filled behind ingest and not timed here).
//   unique: the same events table with only the (source, message_id) unique index.
//   bare:   the same table with no index at all (only the rowid).
//   lean:   the leanest durable table (issue 15): seq INTEGER PRIMARY KEY, message_id TEXT UNIQUE,
//           body TEXT (the event's JSON as received); WAL, synchronous=NORMAL, auto-checkpoint on
//           (SQLite's default, 1,000 pages). The batch ceiling of issue 15.
// Only the insert calls are timed; building the rows (string concatenation) is not.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {performance} from 'node:perf_hooks'
import Database from 'better-sqlite3'
import {SqliteStore} from '../dist/store/sqlite-store.js'
import {productAdded, messageIds} from './payload.js'

const {values: args} = parseArgs({
  options: {
    variant: {type: 'string', default: 'store'},
    warmup: {type: 'string', default: '0.5'},
    duration: {type: 'string', default: '3'},
    tx: {type: 'string', default: '1000'},
  },
})
const txRows = Number(args.tx)
const warmupMs = Number(args.warmup) * 1000
const durationMs = Number(args.duration) * 1000

// The raw column is the event as received; the message column is what the daemon stores after
// normalising (integrations, originalTimestamp, a corrected timestamp and receivedAt added).
const PLACEHOLDER = '__MESSAGE_ID__'
function splitAt(text) {
  const at = text.indexOf(PLACEHOLDER)
  return [text.slice(0, at), text.slice(at + PLACEHOLDER.length)]
}
const event = productAdded(PLACEHOLDER)
const receivedAt = new Date().toISOString()
const [rawHead, rawTail] = splitAt(JSON.stringify(event))
const [msgHead, msgTail] = splitAt(
  JSON.stringify({...event, integrations: {}, originalTimestamp: event.timestamp, timestamp: event.timestamp, receivedAt}),
)
const nextId = messageIds()

function rows() {
  const out = new Array(txRows)
  for (let i = 0; i < txRows; i++) {
    const messageId = nextId()
    out[i] = {
      messageId,
      source: 'default',
      type: 'track',
      event: event.event,
      userId: event.userId,
      anonymousId: event.anonymousId,
      timestamp: event.timestamp,
      receivedAt,
      // As the daemon stores an event no function or policy changed (schema 7): the message alone.
      raw: null,
      // The event as received: the lean table's one JSON column.
      body: rawHead + messageId + rawTail,
      message: msgHead + messageId + msgTail,
      valid: null, // no tracking plan, as in the daemon's benchmark workspace: no violations rows
      violations: [],
    }
  }
  return out
}

const dir = mkdtempSync(path.join(tmpdir(), 'cdp-bench-storage-'))
const file = path.join(dir, 'cdp.sqlite')

/** Opens the variant and answers its append function and its closer. */
function open(variant) {
  if (variant === 'store' || variant === 'store-no-checkpoint') {
    // store: SQLite's defaults (auto-checkpoint inside commits). store-no-checkpoint: as the daemon
    // opens it, with checkpoints left to another thread (none run here: the pure insert rate).
    const store = new SqliteStore(file, {autoCheckpoint: variant === 'store'})
    return {append: (batch) => store.appendEvents(batch), close: () => store.close()}
  }
  if (variant === 'lean') {
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)')
    const insert = db.prepare('INSERT OR IGNORE INTO events (message_id, body) VALUES (?, ?)')
    const append = db.transaction((batch) => {
      for (const e of batch) insert.run(e.messageId, e.body)
    })
    return {append, close: () => db.close()}
  }
  if (variant !== 'unique' && variant !== 'bare') throw new Error(`unknown variant ${variant}`)
  // The store's own schema (its migrations), less the indexes this variant leaves out.
  new SqliteStore(file).close()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  const keep = variant === 'unique' ? new Set(['events_source_message_id']) : new Set()
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL").all()
  for (const {name} of indexes) if (!keep.has(name)) db.exec(`DROP INDEX ${name}`)
  const insert = db.prepare(
    `INSERT OR IGNORE INTO events (message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, raw, message, valid)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const append = db.transaction((batch) => {
    for (const e of batch) insert.run(e.messageId, e.source, e.type, e.event, e.userId, e.anonymousId, e.timestamp, e.receivedAt, e.raw, e.message, e.valid)
  })
  return {append, close: () => db.close()}
}

const target = open(args.variant)
let rowsMeasured = 0
let insertMs = 0
let transactions = 0
const begin = performance.now()
const measureFrom = begin + warmupMs
const stopAt = measureFrom + durationMs
for (;;) {
  const now = performance.now()
  if (now >= stopAt) break
  const batch = rows()
  const t0 = performance.now()
  target.append(batch)
  const t1 = performance.now()
  if (t0 >= measureFrom) {
    rowsMeasured += batch.length
    insertMs += t1 - t0
    transactions++
  }
}
target.close()
rmSync(dir, {recursive: true, force: true})

process.stdout.write(
  JSON.stringify({
    variant: args.variant,
    rowsPerTransaction: txRows,
    rowBytes: Buffer.byteLength(rawHead + nextId() + rawTail),
    transactions,
    rows: rowsMeasured,
    insertSeconds: insertMs / 1000,
    rowsPerSec: rowsMeasured / (insertMs / 1000),
  }) + '\n',
)
