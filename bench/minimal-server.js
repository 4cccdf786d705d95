// The leanest correct ingest server, for the honest ceilings (issue 15): what any server that keeps
// cdp's promise (an answer of 200 means the event is durably stored, once per messageId) must do,
// and nothing more. node:http with the daemon's keep-alive settings; each body parsed (JSON.parse,
// to find the messageIds and refuse what is not JSON); one row per event: seq, a unique messageId,
// the message's bytes as received (a batch item's own text, sliced from the body by cdp's scanner,
// src/message/batch-spans.ts); everything submitted in one event-loop turn committed in one
// transaction before any of it is answered (WAL, synchronous=NORMAL, as cdp dev); WAL checkpoints
// in their own thread. No auth, no normalisation, no plan, no other index.
//
//   node bench/minimal-server.js [--dir DIR]     (after `npx tsc -p tsconfig.build.json`: uses dist/)
//
// Prints {"event":"ready","url":...,"database":...} on stdout; SIGTERM commits what is queued and stops it.

import {randomUUID} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {Worker} from 'node:worker_threads'
import Database from 'better-sqlite3'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {batchItemSpans} = await import(path.join(root, 'dist', 'message', 'batch-spans.js'))
const {values: args} = parseArgs({options: {dir: {type: 'string'}}})
const dir = args.dir ?? mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-minimal-'))
const file = path.join(dir, 'minimal.sqlite')

const db = new Database(file)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.pragma('wal_autocheckpoint = 0')
db.pragma(`journal_size_limit = ${32 * 1024 * 1024}`)
db.pragma('cache_size = -65536')
db.exec('CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, message TEXT NOT NULL)')
const insert = db.prepare('INSERT OR IGNORE INTO events (message_id, message) VALUES (?, ?)')
const commit = db.transaction((rows) => {
  for (let i = 0; i < rows.length; i += 2) insert.run(rows[i], rows[i + 1])
})

// PASSIVE checkpoints every 200 ms on a connection of their own, as cdp dev's checkpoint thread.
const checkpointer = new Worker(
  `const Database = require(${JSON.stringify(path.join(root, 'node_modules', 'better-sqlite3'))});
   const db = new Database(${JSON.stringify(file)}); db.pragma('busy_timeout = 5000')
   setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)') } catch {} }, 200)`,
  {eval: true},
)
checkpointer.unref()

let queued = []
let answers = []
let scheduled = false
function flush() {
  scheduled = false
  const rows = queued
  const waiting = answers
  queued = []
  answers = []
  try {
    commit(rows)
  } catch (error) {
    for (const res of waiting) answer(res, 500, Buffer.from(JSON.stringify({success: false, error: String(error)})))
    return
  }
  for (const res of waiting) answer(res, 200, success)
}

const success = Buffer.from('{"success":true}')
function answer(res, status, body) {
  res.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': body.length})
  res.end(body)
}

function idOf(item) {
  const id = item !== null && typeof item === 'object' ? item.messageId : undefined
  return typeof id === 'string' && id !== '' ? id : randomUUID()
}

const server = createServer({keepAlive: true, requestTimeout: 120_000}, (req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8')
    let body
    try {
      body = JSON.parse(text)
    } catch {
      return answer(res, 400, Buffer.from('{"success":false,"error":"not JSON"}'))
    }
    if (Array.isArray(body?.batch)) {
      const spans = batchItemSpans(text)
      const items = body.batch
      for (let i = 0; i < items.length; i++) {
        queued.push(idOf(items[i]), spans && spans.length === items.length ? text.slice(spans[i][0], spans[i][1]) : JSON.stringify(items[i]))
      }
    } else {
      queued.push(idOf(body), text)
    }
    answers.push(res)
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  })
})
server.keepAliveTimeout = 5_000

server.listen(0, '127.0.0.1', () => {
  const {port} = server.address()
  process.stdout.write(JSON.stringify({event: 'ready', url: `http://127.0.0.1:${port}`, port, database: file, sources: [{name: 'minimal', writeKey: 'minimal'}]}) + '\n')
})

process.on('SIGTERM', () => {
  server.close(() => {
    if (queued.length > 0) flush()
    db.close()
    process.exit(0)
  })
  server.closeIdleConnections()
})
