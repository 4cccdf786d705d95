// Diagnostics behind docs/PERFORMANCE.md (after `npm run build`); not part of `npm run bench`.
//
//   node bench/diagnose.js commit-sizes [--batch 0|100]   events per group commit and time per commit
//   node bench/diagnose.js no-store     [--batch 0|100]   the daemon with and without the SQLite write
//   node bench/diagnose.js commit-cost                    rows/s of the store schema by transaction
//                                                         size, and with checkpoints/fsync taken away
//
// commit-sizes and no-store run the daemon in this process (startDev from dist/) on a storage
// passed in: the workspace's SQLite storage with its writer's appendEvents wrapped (timed) or
// replaced (a no-op), group commit unchanged. The load generator is still its own process.
// Nothing under src/ or dist/ is changed on disk.

import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {SqliteStore} from '../dist/store/sqlite-store.js'
import {GroupCommitter} from '../dist/store/group-commit.js'
import {openStorage} from '../dist/store/open-storage.js'
import {workspacePaths} from '../dist/config/workspace.js'
import {startDev} from '../dist/services/dev.js'
import {silentLogger} from '../dist/log.js'
import {productAdded, messageIds} from './payload.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args, positionals} = parseArgs({
  allowPositionals: true,
  options: {batch: {type: 'string', default: '0'}, duration: {type: 'string', default: '5'}},
})
const batch = Number(args.batch)
const tempDirs = []
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-diagnose-'))
  tempDirs.push(dir)
  return dir
}

/**
 * The daemon's SQLite storage with its writer committing through appendEvents(store, events)
 * instead of the store's own (same group commit). storage.events is the SqliteStore itself.
 */
async function storageAppendingWith(dir, appendEvents) {
  const storage = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger})
  const store = storage.events
  let listeners = {}
  const target = {appendEvents: (events) => appendEvents(store, events), checkpoint: (mode) => store.checkpoint(mode), walBytes: () => store.walBytes()}
  const writer = new GroupCommitter(target, (events, result) => listeners.committed?.(events, result))
  return {
    events: storage.events,
    deliveries: storage.deliveries,
    meta: storage.meta,
    location: storage.location,
    writer,
    listen(given) {
      listeners = given
      storage.listen({unavailable: given.unavailable})
    },
    health: () => storage.health(),
    async close() {
      await writer.close()
      await storage.close()
    },
  }
}

let appendEvents = (store, events) => store.appendEvents(events)

async function loadInProcess() {
  const dir = tempDir()
  const storage = await storageAppendingWith(dir, appendEvents)
  const daemon = await startDev({dir, port: 0, host: '127.0.0.1', log: silentLogger, storage})
  const load = spawn(
    process.execPath,
    [path.join(root, 'bench', 'load.js'), '--url', daemon.url, '--path', batch > 0 ? '/v1/batch' : '/v1/track', `--key=${daemon.sources[0].writeKey}`,
      '--batch', String(batch), '--connections', batch > 0 ? '8' : '32', '--warmup', '1', '--duration', args.duration, '--server-pid', String(process.pid)],
    {stdio: ['ignore', 'pipe', 'inherit']},
  )
  let out = ''
  load.stdout.on('data', (d) => (out += d))
  const started = performance.now()
  await new Promise((resolve) => load.on('close', resolve))
  const wallMs = performance.now() - started
  await daemon.stop()
  return {result: JSON.parse(out.trim().split('\n').pop()), wallMs}
}

const summary = (r) =>
  `${Math.round(r.requestsPerSec)} req/s, ${Math.round(r.eventsPerSec)} events/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ` +
  `CPU server ${Math.round(r.serverCpuPercent)}% load ${Math.round(r.loadCpuPercent)}%`

const command = positionals[0]

if (command === 'commit-sizes') {
  const sizes = []
  let appendMs = 0
  appendEvents = (store, events) => {
    const t0 = performance.now()
    const result = store.appendEvents(events)
    appendMs += performance.now() - t0
    sizes.push(events.length)
    return result
  }
  const {result, wallMs} = await loadInProcess()
  const events = sizes.reduce((a, b) => a + b, 0)
  sizes.sort((a, b) => a - b)
  console.log(summary(result))
  console.log(
    `${sizes.length} commits, ${events} events: ${(events / sizes.length).toFixed(1)} events per commit (p50 ${sizes[sizes.length >> 1]}, p90 ${sizes[Math.floor(0.9 * sizes.length)]}); ` +
      `${(appendMs / sizes.length).toFixed(3)} ms per commit, ${((1000 * appendMs) / events).toFixed(1)} µs per event; appendEvents ${((100 * appendMs) / wallMs).toFixed(0)}% of wall time`,
  )
} else if (command === 'no-store') {
  console.log(`with the SQLite write:    ${summary((await loadInProcess()).result)}`)
  appendEvents = (store, events) => ({inserted: events.length, duplicates: 0, stored: events.map(() => true)})
  console.log(`appendEvents as a no-op:  ${summary((await loadInProcess()).result)}`)
} else if (command === 'commit-cost') {
  const event = productAdded('X'.repeat(36))
  const raw = JSON.stringify(event)
  const message = JSON.stringify({...event, integrations: {}, originalTimestamp: event.timestamp, receivedAt: new Date().toISOString()})
  const nextId = messageIds()
  const run = (txRows, variant) => {
    const file = path.join(tempDir(), 'cdp.sqlite')
    new SqliteStore(file).close() // the store's schema, migrated
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${variant === 'synchronous=OFF' ? 'OFF' : 'NORMAL'}`)
    if (variant === 'no auto-checkpoint') db.pragma('wal_autocheckpoint = 0')
    const insert = db.prepare(
      `INSERT OR IGNORE INTO events (message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, raw, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const append = db.transaction((rows) => {
      for (const id of rows) insert.run(id, 'default', 'track', event.event, event.userId, event.anonymousId, event.timestamp, event.timestamp, raw, message)
    })
    let rows = 0
    let ms = 0
    const stopAt = performance.now() + 2000
    while (performance.now() < stopAt) {
      const ids = Array.from({length: txRows}, nextId)
      const t0 = performance.now()
      append(ids)
      ms += performance.now() - t0
      rows += txRows
    }
    db.close()
    return {rowsPerSec: rows / (ms / 1000), usPerCommit: (1000 * ms) / (rows / txRows)}
  }
  console.log('store schema (6 indexes), WAL; 2 s each')
  for (const variant of ['synchronous=NORMAL (as cdp)', 'synchronous=OFF', 'no auto-checkpoint']) {
    for (const txRows of [1, 5, 16, 100, 1000]) {
      const r = run(txRows, variant)
      console.log(`${variant.padEnd(28)} ${String(txRows).padStart(5)} rows/transaction: ${Math.round(r.rowsPerSec).toLocaleString('en-US').padStart(8)} rows/s, ${Math.round(r.usPerCommit).toLocaleString('en-US').padStart(6)} µs per commit`)
    }
  }
} else {
  console.error('usage: node bench/diagnose.js commit-sizes|no-store|commit-cost [--batch 0|100] [--duration 5]')
  process.exitCode = 2
}
for (const dir of tempDirs) rmSync(dir, {recursive: true, force: true})
