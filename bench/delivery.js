// The destination benchmark (issue 5): a section of `npm run bench` (bench/run.js runs its
// scenarios at the end of every round), or alone after `npm run build`:
//
//   node bench/delivery.js [--rounds 3] [--warmup 1] [--duration 5] [--drain-events 50000] [--drain-users 1,1000]
//                          [--live webhook,file,segment] [--only ingest,drain] [--drain-types webhook,file]
//
// As in bench/run.js every part is its own process: the daemon (`cdp dev` on a fresh folder with a
// cdp.json), the load generator (bench/load.js), the sink (bench/sink-server.js, which counts the
// events it receives) and PostgreSQL (bench/postgres.js, started only around its scenario; the
// scenario is skipped, with a note, when PostgreSQL is not installed). Scenarios, in every round:
//
// 1. Ingest with no destinations vs with three: a batched webhook (batchSize 100) to the sink, a
//    file destination, and a segment destination forwarding to the same sink (its /v1/batch). The
//    existing headline concurrencies: single events at 32 connections, batches of 100 at 8. The
//    pair runs back to back, in alternating order from round to round; target: ingest with
//    destinations ≥ 80% of ingest without (ratio of medians; per-round ratios beside it).
//    "Keeps up": at the end of the ingest window the driver reads what each destination has
//    received (the sink's counts, the file's size) against the events acknowledged: the backlog
//    then, and how long after ingest stops each destination has every event (target: ≤ 1 s).
//    --live picks other destinations for the "with" runs (e.g. --live file), to see what each costs.
// 2. Drain: a workspace preloaded with --drain-events events (ingested once through a daemon with
//    no destinations, then copied for every run) whose destination's cursor is set to 0 in the
//    store, as if the destination had been down since before the first event. The daemon starts
//    and delivers the backlog; the rate is the destination's own count over time: the sink's
//    first/last request, the file's size, PostgreSQL's uuid_ts (the load time of each batch). One
//    destination per run: webhook (batchSize 100) and segment to the sink, file, postgres
//    (batchSize 500, the default; PostgreSQL with its durable defaults). The benchmark event has
//    one userId and the workers put one user's events in one lane, so a destination's
//    `concurrency` never comes into play; --drain-users 1,1000 adds a webhook drain of events
//    spread over 1,000 users (four lanes).
//
// The driver does not poll the daemon while it measures: GET /api/deliveries counts the backlog
// row by row on the daemon's only thread (hundreds of ms at 50,000 pending). It asks once every
// destination has all the events, for the daemon's own view (delivered, pending 0, no failures).
// The file destination's maxBytes is set past what a run writes: its progress is read from the
// size of one file (every line has the same length).
// Writes the `delivery` section of bench/results/latest.json (alone: into the existing file).

import {closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {eventBytes, eventSerializer, messageIds} from './payload.js'
import {cpuSecondsOf, runJson, startServer} from './processes.js'
import {createPostgres} from './postgres.js'
import {destinationDefaults} from '../dist/config/destinations.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bench = path.join(root, 'bench')

const SOURCE = 'bench'
const WRITE_KEY = 'bench-write-key'
const FORWARD_KEY = 'bench-forward-key'
const FILE_PATH = 'out/events.ndjson'
const WEBHOOK_PATH = '/webhook'
const SEGMENT_PATH = '/v1/batch'
const KEEP_UP_LAG_SECONDS = 1

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

function getJson(url, {method = 'GET'} = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method}, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        } catch (error) {
          reject(error)
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** Newlines in a file, read in chunks. */
function countLines(file) {
  if (!existsSync(file)) return 0
  const fd = openSync(file, 'r')
  const buffer = Buffer.allocUnsafe(1 << 20)
  let lines = 0
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) break
      for (let at = buffer.indexOf(10, 0); at !== -1 && at < n; at = buffer.indexOf(10, at + 1)) lines++
    }
  } finally {
    closeSync(fd)
  }
  return lines
}

/**
 * Events in the file destination's output, from its size: every line of the benchmark's event has
 * the same length (fixed-width ids and timestamps), read once from the first line. Checked
 * against the real line count at the end of each run.
 */
function fileCounter(file) {
  let lineBytes = 0
  return () => {
    if (!existsSync(file)) return 0
    const size = statSync(file).size
    if (lineBytes === 0) {
      if (size === 0) return 0
      const head = readFileSync(file).subarray(0, 64 * 1024)
      const at = head.indexOf(10)
      if (at === -1) return 0
      lineBytes = at + 1
    }
    return Math.floor(size / lineBytes)
  }
}

export function createDeliveryBench({
  warmup = 1,
  duration = 5,
  drainEvents = 50_000,
  drainUsers = [1, 1000],
  singleConnections = 32,
  batchConnections = 8,
  batchSize = 100,
  timeoutSeconds = 180,
  live = ['webhook', 'file', 'segment'],
  sections = ['ingest', 'drain'],
  /** Only these destination types' drains (default: every type). */
  drainOnly,
  /** The load generator script (same arguments and JSON): bench/load.js, or bench/cannon.js (issue 15). */
  loadScript = path.join(bench, 'load.js'),
  /** Target of ingest with destinations ÷ without: 80% (issue 5); 85% in issue 15. */
  destinationsTarget = 0.8,
} = {}) {
  const workDirs = []
  const freshDir = (label) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `cdp-bench-delivery-${label}-`))
    workDirs.push(dir)
    return dir
  }
  const removeDir = (dir) => rmSync(dir, {recursive: true, force: true})

  function writeWorkspace(dir, destinations, functions) {
    writeFileSync(path.join(dir, 'cdp.json'), JSON.stringify({sources: [{name: SOURCE, writeKey: WRITE_KEY}], destinations, ...(functions ? {functions} : {})}, null, 2) + '\n')
  }

  function startDaemon(dir) {
    return startServer([path.join(root, 'bin', 'run.js'), 'dev', '--port', '0', '--host', '127.0.0.1', '--json', '--dir', dir], {
      CDP_LOG: 'warn',
      OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
    })
  }

  async function stopDaemon(daemon) {
    const {code, signal} = await daemon.stop()
    if (code !== 0) console.error(`  cdp dev exited ${code ?? signal}\n${daemon.stderr()}`)
    return daemon.stderr().trim()
  }

  const startSink = () => startServer([path.join(bench, 'sink-server.js')])
  const sinkStats = (sink) => getJson(`${sink.url}/stats`)
  const destinationsReport = async (daemon) => (await getJson(`${daemon.url}/api/deliveries`)).destinations

  /** Until every destination has reached `expected` events (or the timeout): when each did. */
  async function waitForAll(counters, expected, {pollMs = 50} = {}) {
    const reachedAt = {}
    const last = {}
    const deadline = now() + timeoutSeconds * 1000
    for (;;) {
      for (const [name, count] of Object.entries(counters)) {
        if (reachedAt[name] !== undefined) continue
        last[name] = await count()
        if (last[name] >= expected) reachedAt[name] = now()
      }
      if (Object.keys(reachedAt).length === Object.keys(counters).length || now() > deadline) return {reachedAt, last}
      await sleep(pollMs)
    }
  }

  /** The daemon's own view, once its counters are saved (every 250 ms): pending and retrying 0. */
  async function settledReport(daemon, names) {
    const deadline = now() + 10_000
    for (;;) {
      const report = await destinationsReport(daemon)
      const chosen = report.filter((d) => names.includes(d.name))
      if (chosen.every((d) => d.pending === 0 && d.retrying === 0) || now() > deadline) return chosen
      await sleep(300)
    }
  }

  const daemonView = (report) =>
    Object.fromEntries(report.map((d) => [d.name, {delivered: d.delivered, pending: d.pending, retrying: d.retrying, dead: d.dead, failedAttempts: d.failedAttempts, latencyMs: d.latencyMs}]))

  // -------------------------------------------------------------------------------------------
  // Ingest with and without destinations

  /** The destinations of the "with" runs: the three of the issue, or those of --live. */
  function liveDestinations(sinkUrl) {
    const all = {
      webhook: {name: 'webhook', type: 'webhook', url: `${sinkUrl}${WEBHOOK_PATH}`, batchSize: 100},
      // maxBytes past what a run writes: the counter reads one file's size (rotation is not measured).
      file: {name: 'file', type: 'file', path: FILE_PATH, maxBytes: 2 ** 40},
      segment: {name: 'segment', type: 'segment', writeKey: FORWARD_KEY, url: sinkUrl},
    }
    return live.map((type) => all[type])
  }

  async function ingest({batch, connections, withDestinations}) {
    const dir = freshDir(withDestinations ? 'with' : 'none')
    const sink = withDestinations && live.some((type) => type !== 'file') ? await startSink() : undefined
    writeWorkspace(dir, withDestinations ? liveDestinations(sink?.url) : [])
    const daemon = await startDaemon(dir)
    const file = path.join(dir, FILE_PATH)
    const allCounters = {
      webhook: async () => (await sinkStats(sink)).paths[WEBHOOK_PATH]?.events ?? 0,
      file: fileCounter(file),
      segment: async () => (await sinkStats(sink)).paths[SEGMENT_PATH]?.events ?? 0,
    }
    const counters = withDestinations ? Object.fromEntries(live.map((type) => [type, allCounters[type]])) : {}
    let result
    try {
      const sinkCpu = sink ? cpuSecondsOf(sink.pid) : null
      const startedAt = now()
      result = await runJson(loadScript, [
        '--url', daemon.url,
        '--path', batch > 0 ? '/v1/batch' : '/v1/track',
        `--key=${WRITE_KEY}`,
        '--batch', String(batch),
        '--connections', String(connections),
        '--warmup', String(warmup),
        '--duration', String(duration),
        '--server-pid', String(daemon.pid),
      ])
      const endedAt = now()
      if (withDestinations) {
        const ingestSeconds = (endedAt - startedAt) / 1000
        result.ingestWindowSeconds = ingestSeconds
        result.sinkCpuPercent = sink ? (100 * (cpuSecondsOf(sink.pid) - sinkCpu)) / ingestSeconds : null
        const expected = result.acknowledgedEvents
        const atEnd = {}
        for (const [name, count] of Object.entries(counters)) atEnd[name] = await count()
        // Not GET /api/deliveries now: with a backlog it counts every pending row on the daemon's thread.
        const {reachedAt, last} = await waitForAll(counters, expected)
        const daemonAfter = daemonView(await settledReport(daemon, Object.keys(counters)))
        const stats = sink ? await sinkStats(sink) : {paths: {}, total: {parseErrors: 0}}
        result.destinations = {}
        for (const name of Object.keys(counters)) {
          const backlog = Math.max(0, expected - atEnd[name])
          result.destinations[name] = {
            deliveredAtIngestEnd: atEnd[name],
            backlogAtIngestEnd: backlog,
            // The backlog in seconds of this run's ingest: how far behind the destination was.
            lagSeconds: backlog / (expected / ingestSeconds),
            deliveredPerSecDuringIngest: atEnd[name] / ingestSeconds,
            drainedSecondsAfterIngest: reachedAt[name] === undefined ? null : Math.max(0, reachedAt[name] - endedAt) / 1000,
            complete: reachedAt[name] !== undefined,
            delivered: last[name],
            // Sends: how many events each round carried (the webhook's batch is at most 100).
            requests: name === 'file' ? null : (stats.paths[name === 'webhook' ? WEBHOOK_PATH : SEGMENT_PATH]?.requests ?? 0),
            daemonAfter: daemonAfter[name],
          }
        }
        result.sinkParseErrors = stats.total.parseErrors
      }
    } finally {
      result ??= {}
      result.daemonStderr = (await stopDaemon(daemon)).slice(0, 2000) || undefined
      if (sink) await sink.stop()
    }
    const db = new Database(daemon.database ?? path.join(dir, '.cdp', 'cdp.sqlite'), {readonly: true})
    result.storedEvents = db.prepare('SELECT count(*) AS n FROM events').get().n
    db.close()
    if (withDestinations && result.destinations.file) result.destinations.file.lines = countLines(file)
    removeDir(dir)
    return result
  }

  // -------------------------------------------------------------------------------------------
  // Drain a preloaded backlog

  const templates = new Map() // users -> {dir, database, events}

  /** A store with `drainEvents` events ingested through the daemon (batches of 100), cursors at 0. */
  async function template(users) {
    const known = templates.get(users)
    if (known) return known
    const dir = freshDir(`template-${users}`)
    writeWorkspace(dir, [])
    const daemon = await startDaemon(dir)
    const serialize = eventSerializer()
    const nextId = messageIds(`d${users}${Date.now().toString(36)}`)
    const agent = new http.Agent({keepAlive: true, maxSockets: 4})
    const authorization = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64')
    let made = 0
    const body = () => {
      const items = []
      for (let i = 0; i < 100 && made < drainEvents; i++, made++) {
        const json = serialize(nextId())
        // The same width as the event's own userId (u_4821), so every line has the same size.
        items.push(users > 1 ? json.replace('"userId":"u_4821"', `"userId":"u_${String(made % users).padStart(4, '0')}"`) : json)
      }
      return `{"batch":[${items.join(',')}]}`
    }
    const post = (payload) =>
      new Promise((resolve, reject) => {
        const req = http.request(`${daemon.url}/v1/batch`, {method: 'POST', agent, headers: {'content-type': 'application/json', authorization}}, (res) => {
          res.resume()
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`preload: HTTP ${res.statusCode}`))))
        })
        req.on('error', reject)
        req.end(payload)
      })
    try {
      await Promise.all(Array.from({length: 4}, async () => {
        while (made < drainEvents) await post(body())
      }))
    } finally {
      agent.destroy()
      await stopDaemon(daemon)
    }
    const database = daemon.database ?? path.join(dir, '.cdp', 'cdp.sqlite')
    const db = new Database(database)
    const events = db.prepare('SELECT count(*) AS n FROM events').get().n
    // Every destination of the drain runs starts at the first event (a new one would start after the
    // last). first_seq (where the destination began) is in the schema since 0972831.
    const firstSeq = db.prepare('SELECT name FROM pragma_table_info(?)').all('destinations').some((c) => c.name === 'first_seq')
    const cursor = db.prepare(
      firstSeq
        ? 'INSERT INTO destinations (name, cursor, first_seq) VALUES (?, 0, 0) ON CONFLICT (name) DO UPDATE SET cursor = 0, first_seq = 0'
        : 'INSERT INTO destinations (name, cursor) VALUES (?, 0) ON CONFLICT (name) DO UPDATE SET cursor = 0',
    )
    for (const name of ['webhook', 'segment', 'file', 'postgres']) cursor.run(name)
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.close()
    if (events !== drainEvents) throw new Error(`preload stored ${events} events, not ${drainEvents}`)
    const preloaded = {dir, database, events, users}
    templates.set(users, preloaded)
    return preloaded
  }

  let postgres // undefined: not tried; null: absent; else the server
  let postgresNote = null
  let databases = 0
  async function postgresServer() {
    if (postgres !== undefined) return postgres
    try {
      postgres = await createPostgres()
    } catch (error) {
      postgres = null
      postgresNote = error.message.split('\n')[0]
    }
    return postgres
  }

  /** A trivial insert function (issue 12's benchmark): `return event`, on the webhook drain. */
  function writeInsertFunction(dir) {
    mkdirSync(path.join(dir, 'functions'), {recursive: true})
    writeFileSync(path.join(dir, 'functions', 'noop.js'), 'async function onTrack(event, settings) {\n  return event\n}\n')
  }

  async function drain(type, users, insert = false) {
    const source = await template(users)
    const dir = freshDir(`drain-${type}`)
    mkdirSync(path.join(dir, '.cdp'), {recursive: true})
    copyFileSync(source.database, path.join(dir, '.cdp', 'cdp.sqlite'))
    const expected = source.events
    let sink
    let database
    let config
    let count
    if (type === 'webhook' || type === 'segment') {
      sink = await startSink()
      config = type === 'webhook' ? {name: 'webhook', type, url: `${sink.url}${WEBHOOK_PATH}`, batchSize: 100} : {name: 'segment', type, writeKey: FORWARD_KEY, url: sink.url}
      const at = type === 'webhook' ? WEBHOOK_PATH : SEGMENT_PATH
      count = async () => (await sinkStats(sink)).paths[at]?.events ?? 0
    } else if (type === 'file') {
      config = {name: 'file', type, path: FILE_PATH, maxBytes: 2 ** 40}
      count = fileCounter(path.join(dir, FILE_PATH))
    } else {
      await postgres.start()
      database = `bench_drain_${++databases}`
      await postgres.createDatabase(database)
      config = {name: 'postgres', type, connectionString: postgres.connectionString(database), schema: 'bench'}
      count = async () => {
        try {
          return Number((await postgres.query(database, 'SELECT count(*) AS n FROM bench.tracks'))[0].n)
        } catch {
          return 0 // the table does not exist yet
        }
      }
    }
    if (insert) {
      config.insert = 'noop'
      writeInsertFunction(dir)
    }
    writeWorkspace(dir, [config], insert ? [{name: 'noop', kind: 'insert'}] : undefined)
    const result = {destination: type, users, insert, events: expected, batchSize: config.batchSize ?? destinationDefaults[type].batchSize}
    let daemon
    const samples = [] // [ms, count]: the file's progress
    try {
      const spawnedAt = now()
      daemon = await startDaemon(dir)
      const readyAt = now()
      const cpuAtReady = cpuSecondsOf(daemon.pid)
      const countAtReady = await count()
      const counter = type === 'file' ? async () => {
        const n = await count()
        samples.push([now(), n])
        return n
      } : count
      const {reachedAt, last} = await waitForAll({[type]: counter}, expected, {pollMs: type === 'postgres' ? 200 : 50})
      const doneAt = reachedAt[type]
      const cpuAtDone = cpuSecondsOf(daemon.pid)
      result.complete = doneAt !== undefined
      result.delivered = last[type]
      result.startupSeconds = (readyAt - spawnedAt) / 1000
      result.deliveredBeforeReady = countAtReady
      result.secondsFromSpawn = doneAt === undefined ? null : (doneAt - spawnedAt) / 1000
      // From the daemon's ready line to the last event: the events delivered in between, the CPU it used.
      const window = doneAt === undefined ? null : (doneAt - readyAt) / 1000
      result.daemonCpuPercent = window ? (100 * (cpuAtDone - cpuAtReady)) / window : null
      result.daemonCpuMicrosPerEvent = window && expected > countAtReady ? (1e6 * (cpuAtDone - cpuAtReady)) / (expected - countAtReady) : null
      // The destination's own clock: first to last delivery.
      if (sink) {
        const stats = (await sinkStats(sink)).paths[config.name === 'webhook' ? WEBHOOK_PATH : SEGMENT_PATH]
        result.requests = stats.requests
        result.firstToLastSeconds = (stats.lastEventAt - stats.firstEventAt) / 1000
        result.eventsPerSec = (stats.events - stats.firstRequestEvents) / result.firstToLastSeconds
        result.sinkCpuSeconds = (await sinkStats(sink)).cpuSeconds
      } else if (type === 'file') {
        const first = samples.find(([, n]) => n > 0)
        const lastSample = samples[samples.length - 1]
        result.firstToLastSeconds = first ? (lastSample[0] - first[0]) / 1000 : null
        result.eventsPerSec = first && lastSample[0] > first[0] ? (lastSample[1] - first[1]) / result.firstToLastSeconds : null
      } else {
        const [row] = await postgres.query(
          database,
          `SELECT count(*) AS n, extract(epoch FROM min(uuid_ts)) * 1000 AS first, extract(epoch FROM max(uuid_ts)) * 1000 AS last,
             count(*) FILTER (WHERE uuid_ts < (SELECT max(uuid_ts) FROM bench.tracks)) AS before_last,
             count(DISTINCT uuid_ts) AS batches
           FROM bench.tracks`,
        )
        result.rows = Number(row.n)
        result.batches = Number(row.batches)
        result.firstToLastSeconds = (Number(row.last) - Number(row.first)) / 1000
        // uuid_ts is when a batch was planned, just before its transaction: the events of every
        // batch before the last one, over the time from the first batch to the last.
        result.eventsPerSec = Number(row.before_last) / result.firstToLastSeconds
        const tables = await postgres.query(database, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'bench' ORDER BY 1`)
        result.tables = tables.map((t) => t.table_name)
      }
      result.daemon = daemonView(await settledReport(daemon, [config.name]))[config.name]
    } finally {
      if (daemon) result.daemonStderr = (await stopDaemon(daemon)).slice(0, 2000) || undefined
      if (sink) await sink.stop()
      if (database) {
        await postgres.dropDatabase(database).catch(() => undefined)
        await postgres.stop()
      }
    }
    if (type === 'file') result.lines = countLines(path.join(dir, FILE_PATH))
    removeDir(dir)
    return result
  }

  // -------------------------------------------------------------------------------------------
  // Scenarios, summary, report

  const ingestPairs = [
    {kind: 'single', batch: 0, connections: singleConnections},
    {kind: 'batch', batch: batchSize, connections: batchConnections},
  ]
  const pairLabel = (pair, withDestinations) =>
    `${withDestinations ? `with ${live.join('+')}` : 'no destinations'}, ${pair.batch > 0 ? `${pair.batch} events/request` : '1 event/request'}`
  const ingestId = (pair, withDestinations) => `${pair.kind}${withDestinations ? 'With' : 'None'}`
  const drainTypes = ['webhook', 'segment', 'file', 'postgres']
  const drainId = (type, users, insert = false) => `drain${type[0].toUpperCase()}${type.slice(1)}${users > 1 ? `Users${users}` : ''}${insert ? 'Insert' : ''}`
  // The many-users variant only for the webhook (concurrency 4: four lanes when there are users to
  // fill them); the webhook again with a trivial insert function (issue 12: ≥ 70% of without).
  const drainCases = [
    ...drainTypes.filter((type) => drainOnly === undefined || drainOnly.includes(type)).flatMap((type) => drainUsers.filter((users) => users === 1 || type === 'webhook').map((users) => ({type, users, insert: false}))),
    ...(drainOnly === undefined || drainOnly.includes('webhook') ? drainUsers.map((users) => ({type: 'webhook', users, insert: true})) : []),
  ]

  /** The scenarios of one round: each ingest pair back to back (order alternating by round), then the drains. */
  function scenarios(round) {
    const list = []
    for (const pair of sections.includes('ingest') ? ingestPairs : []) {
      const order = round % 2 === 1 ? [false, true] : [true, false]
      for (const withDestinations of order) {
        list.push({
          id: ingestId(pair, withDestinations),
          label: `cdp dev ingest, ${pairLabel(pair, withDestinations)}`,
          kind: 'ingest',
          connections: pair.connections,
          run: () => ingest({batch: pair.batch, connections: pair.connections, withDestinations}),
        })
      }
    }
    for (const {type, users, insert} of sections.includes('drain') ? drainCases : []) {
      list.push({
        id: drainId(type, users, insert),
        label: `drain ${drainEvents.toLocaleString('en-US')} events to ${type}${users > 1 ? `, ${users} users` : ''}${insert ? ', with an insert function (return event)' : ''}`,
        kind: 'drain',
        connections: null,
        run: async () => {
          if (type === 'postgres' && !(await postgresServer())) return {skipped: postgresNote}
          return drain(type, users, insert)
        },
      })
    }
    return list
  }

  const fmt = (n, digits = 0) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}))
  const pct = (x) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`)
  const secs = (x) => (x === null || x === undefined ? '—' : x === Infinity ? 'never' : `${x.toFixed(2)} s`)

  /** Runs a scenario; a failure is recorded as {error} so that the other scenarios' results are kept. */
  async function run(scenario) {
    try {
      return await scenario.run()
    } catch (error) {
      return {error: error.message}
    }
  }

  /** One line for a scenario's result, printed after its label. */
  function describe(scenario, result) {
    if (result.skipped) return `skipped (${result.skipped})`
    if (result.error) return `FAILED: ${result.error}`
    if (scenario.kind === 'ingest') {
      const problems = result.non2xx + result.errors > 0 ? `  ${result.non2xx} non-2xx, ${result.errors} errors: ${result.firstProblem}` : ''
      const lost = result.storedEvents < result.acknowledgedEvents ? `  STORED ${result.storedEvents} < ACKNOWLEDGED ${result.acknowledgedEvents}` : ''
      let line = `${fmt(result.requestsPerSec).padStart(8)} req/s ${fmt(result.eventsPerSec).padStart(9)} events/s${problems}${lost}`
      if (result.destinations) {
        const parts = Object.entries(result.destinations).map(([name, d]) => `${name} lag ${secs(d.lagSeconds)}, all in +${secs(d.drainedSecondsAfterIngest)}${d.complete ? '' : ' INCOMPLETE'}`)
        line += `  [${parts.join('; ')}]`
        if (result.destinations.file?.lines < result.storedEvents) line += `  FILE HAS ${result.destinations.file.lines} LINES`
      }
      return line
    }
    const incomplete = result.complete ? '' : `  INCOMPLETE: ${result.delivered} of ${result.events}`
    return `${fmt(result.eventsPerSec).padStart(8)} events/s  (${secs(result.firstToLastSeconds)} first→last, ${secs(result.secondsFromSpawn)} from spawn, daemon CPU ${fmt(result.daemonCpuPercent)}%, ${fmt(result.daemonCpuMicrosPerEvent, 1)} µs/event)${incomplete}`
  }

  /** Medians and ratios over the rounds (perRound: one {id: result} per round). */
  function summarize(perRound) {
    const all = (id) => perRound.map((r) => r[id]).filter((r) => r && !r.skipped && !r.error)
    const failures = perRound.flatMap((r, i) => Object.entries(r).filter(([, x]) => x?.error).map(([id, x]) => `round ${i + 1} ${id}: ${x.error.split('\n')[0]}`))
    const ingestMedians = {}
    const pairs = sections.includes('ingest') ? ingestPairs : []
    for (const pair of pairs) {
      for (const withDestinations of [false, true]) {
        const id = ingestId(pair, withDestinations)
        const runs = all(id)
        const m = {
          connections: pair.connections,
          eventsPerRequest: pair.batch > 0 ? pair.batch : 1,
          requestsPerSec: median(runs.map((r) => r.requestsPerSec)),
          eventsPerSec: median(runs.map((r) => r.eventsPerSec)),
          p50Ms: median(runs.map((r) => r.p50Ms)),
          p99Ms: median(runs.map((r) => r.p99Ms)),
          serverCpuPercent: median(runs.map((r) => r.serverCpuPercent)),
          loadCpuPercent: median(runs.map((r) => r.loadCpuPercent)),
          non2xx: runs.reduce((n, r) => n + r.non2xx + r.errors, 0),
          lost: runs.reduce((n, r) => n + Math.max(0, r.acknowledgedEvents - r.storedEvents), 0),
        }
        if (withDestinations) {
          m.sinkCpuPercent = median(runs.map((r) => r.sinkCpuPercent))
          m.destinations = {}
          for (const name of live) {
            const ds = runs.map((r) => r.destinations?.[name]).filter(Boolean)
            m.destinations[name] = {
              lagSeconds: median(ds.map((d) => d.lagSeconds)),
              backlogAtIngestEnd: median(ds.map((d) => d.backlogAtIngestEnd)),
              deliveredPerSecDuringIngest: median(ds.map((d) => d.deliveredPerSecDuringIngest)),
              drainedSecondsAfterIngest: median(ds.map((d) => d.drainedSecondsAfterIngest)),
              eventsPerRequest: name === 'file' ? null : median(ds.map((d) => d.delivered / d.requests)),
              incompleteRuns: ds.filter((d) => !d.complete).length,
              deadOrRetrying: ds.reduce((n, d) => n + (d.daemonAfter?.dead ?? 0) + (d.daemonAfter?.retrying ?? 0), 0),
              failedAttempts: ds.reduce((n, d) => n + (d.daemonAfter?.failedAttempts ?? 0), 0),
            }
            const worst = ds.length === 0 ? null : Math.max(...ds.map((d) => (d.complete ? d.drainedSecondsAfterIngest : Infinity)))
            m.destinations[name].keepsUp = m.destinations[name].drainedSecondsAfterIngest !== null && m.destinations[name].drainedSecondsAfterIngest <= KEEP_UP_LAG_SECONDS
            m.destinations[name].worstDrainedSecondsAfterIngest = worst
          }
        }
        ingestMedians[id] = m
      }
    }
    const ratios = {}
    for (const pair of pairs) {
      const field = pair.batch > 0 ? 'eventsPerSec' : 'requestsPerSec'
      const none = ingestId(pair, false)
      const withId = ingestId(pair, true)
      const perRoundValues = perRound.map((r) => (r[withId]?.[field] && r[none]?.[field] ? r[withId][field] / r[none][field] : null))
      const value = ingestMedians[withId][field] && ingestMedians[none][field] ? ingestMedians[withId][field] / ingestMedians[none][field] : null
      ratios[pair.kind] = {
        description: `ingest ${field === 'eventsPerSec' ? 'events' : 'requests'}/s with ${live.join('+')} ÷ without (${pair.batch > 0 ? `batches of ${pair.batch}` : 'single events'}, ${pair.connections} connections)`,
        connections: pair.connections,
        target: destinationsTarget,
        value,
        perRound: perRoundValues,
        medianOfRounds: median(perRoundValues),
        met: value >= destinationsTarget,
      }
    }
    const drains = {}
    for (const {type, users, insert} of sections.includes('drain') ? drainCases : []) {
      const id = drainId(type, users, insert)
      const runs = all(id)
      const skipped = perRound.map((r) => r[id]).find((r) => r?.skipped)
      if (runs.length === 0) {
        drains[id] = {destination: type, users, insert, skipped: skipped?.skipped ?? 'no runs'}
        continue
      }
      drains[id] = {
        destination: type,
        users,
        insert,
        events: drainEvents,
        batchSize: runs[0].batchSize,
        eventsPerSec: median(runs.map((r) => r.eventsPerSec)),
        eventsPerSecByRound: runs.map((r) => r.eventsPerSec),
        firstToLastSeconds: median(runs.map((r) => r.firstToLastSeconds)),
        secondsFromSpawn: median(runs.map((r) => r.secondsFromSpawn)),
        startupSeconds: median(runs.map((r) => r.startupSeconds)),
        daemonCpuPercent: median(runs.map((r) => r.daemonCpuPercent)),
        daemonCpuMicrosPerEvent: median(runs.map((r) => r.daemonCpuMicrosPerEvent)),
        incompleteRuns: runs.filter((r) => !r.complete).length,
      }
    }
    // Issue 12: delivery with a trivial insert function on, against off (per round: the pair ran in the same round).
    for (const users of sections.includes('drain') ? drainUsers : []) {
      const on = drainId('webhook', users, true)
      const off = drainId('webhook', users)
      const insertPerRound = perRound.map((r) => (r[on]?.eventsPerSec && r[off]?.eventsPerSec ? r[on].eventsPerSec / r[off].eventsPerSec : null))
      const insertValue = drains[on]?.eventsPerSec && drains[off]?.eventsPerSec ? drains[on].eventsPerSec / drains[off].eventsPerSec : null
      ratios[users === 1 ? 'insertFunction' : `insertFunctionUsers${users}`] = {
        description: `webhook drain (batchSize 100${users > 1 ? `, ${users} users` : ''}) with a trivial insert function (return event) ÷ without`,
        target: 0.7,
        value: insertValue,
        perRound: insertPerRound,
        medianOfRounds: median(insertPerRound.filter((x) => x !== null)),
        met: insertValue !== null && insertValue >= 0.7,
      }
    }
    // Does the batched webhook keep up with ingest? Its drain rate against ingest's, and its lag in the live runs.
    const webhookDrain = drains.drainWebhook?.eventsPerSec ?? null
    const keepsUp = pairs.length === 0 || !live.includes('webhook') ? null : {
      description: `the batched webhook (batchSize 100) keeps up with ingest: all events delivered within ${KEEP_UP_LAG_SECONDS} s of the end of ingest (median of rounds)`,
      single: ingestMedians.singleWith.destinations.webhook.drainedSecondsAfterIngest,
      batch: ingestMedians.batchWith.destinations.webhook.drainedSecondsAfterIngest,
      webhookDrainVsBatchIngest: webhookDrain === null ? null : webhookDrain / ingestMedians.batchNone.eventsPerSec,
      met: ingestMedians.singleWith.destinations.webhook.keepsUp && ingestMedians.batchWith.destinations.webhook.keepsUp,
    }
    return {
      config: {warmupSeconds: warmup, durationSeconds: duration, drainEvents, drainUsers, singleConnections, batchConnections, batchSize, eventBytes: eventBytes(), keepUpLagSeconds: KEEP_UP_LAG_SECONDS},
      destinations: {live: liveDestinations('http://sink'), webhookDrain: {batchSize: 100}, postgres: postgres ? {version: postgres.version, durable: true} : null},
      notes: [...(postgresNote ? [`the postgres drain was skipped (not a failure): ${postgresNote}`] : []), ...failures.map((f) => `FAILED ${f}`)],
      ingest: ingestMedians,
      ratios,
      keepsUp,
      drains,
      rounds: perRound,
    }
  }

  /** The section's printed summary. */
  function print(summary, log = console.log) {
    const rounds = summary.rounds.length
    log(`\nDestinations (issue 5), medians of ${rounds} round${rounds === 1 ? '' : 's'}:`)
    if (Object.keys(summary.ingest).length > 0) {
      log(`  Ingest with no destinations vs with ${live.join(', ')} (webhook batchSize 100 and segment to the sink):`)
    }
    for (const pair of Object.keys(summary.ingest).length > 0 ? ingestPairs : []) {
      const none = summary.ingest[ingestId(pair, false)]
      const withD = summary.ingest[ingestId(pair, true)]
      const ratio = summary.ratios[pair.kind]
      log(
        `    ${pair.batch > 0 ? `batches of ${pair.batch}, ${pair.connections} conns` : `single events, ${pair.connections} conns`}: ` +
          `${fmt(none.eventsPerSec)} → ${fmt(withD.eventsPerSec)} events/s, p99 ${fmt(none.p99Ms, 2)} → ${fmt(withD.p99Ms, 2)} ms, ` +
          `daemon CPU ${fmt(none.serverCpuPercent)}% → ${fmt(withD.serverCpuPercent)}%, sink CPU ${fmt(withD.sinkCpuPercent)}%`,
      )
      log(`      ratio ${pct(ratio.value)} (target ≥ 80.0%) ${ratio.met ? 'MET' : 'MISSED'}; per round ${ratio.perRound.map(pct).join(', ')} (median ${pct(ratio.medianOfRounds)})`)
      for (const [name, d] of Object.entries(withD.destinations)) {
        log(
          `      ${name.padEnd(8)} ${fmt(d.deliveredPerSecDuringIngest).padStart(7)} events/s during ingest, backlog at end ${fmt(d.backlogAtIngestEnd)} (${secs(d.lagSeconds)} of ingest), ` +
            `all delivered ${secs(d.drainedSecondsAfterIngest)} after ingest stopped (worst ${secs(d.worstDrainedSecondsAfterIngest)})` +
            `${d.eventsPerRequest ? `, ${fmt(d.eventsPerRequest, 1)} events/request` : ''}` +
            `${d.incompleteRuns ? `, ${d.incompleteRuns} runs INCOMPLETE` : ''}${d.deadOrRetrying ? `, ${d.deadOrRetrying} dead/retrying` : ''}${d.failedAttempts ? `, ${d.failedAttempts} failed attempts` : ''}`,
        )
      }
    }
    if (Object.keys(summary.drains).length > 0) {
      log(`  Drain a backlog of ${fmt(summary.config.drainEvents)} events (one destination per daemon; rate = first → last event at the destination):`)
    }
    for (const d of Object.values(summary.drains)) {
      const label = `${d.destination}${d.users > 1 ? `, ${d.users} users` : ''}${d.batchSize ? `, batchSize ${d.batchSize}` : ''}${d.insert ? ', insert fn' : ''}`
      if (d.skipped) {
        log(`    ${label.padEnd(36)} skipped: ${d.skipped}`)
        continue
      }
      log(
        `    ${label.padEnd(36)} ${fmt(d.eventsPerSec).padStart(7)} events/s (rounds ${d.eventsPerSecByRound.map((x) => fmt(x)).join(', ')}), ` +
          `daemon CPU ${fmt(d.daemonCpuPercent)}%, ${fmt(d.daemonCpuMicrosPerEvent, 1)} µs CPU/event; ${secs(d.secondsFromSpawn)} from spawn to the last event` +
          `${d.incompleteRuns ? `, ${d.incompleteRuns} runs INCOMPLETE` : ''}`,
      )
    }
    for (const [id, insert] of Object.entries(summary.ratios).filter(([id]) => id.startsWith('insertFunction'))) {
      if (insert.value === null) continue
      log(`  Insert function (issue 12, ${id}): ${insert.description}: ${pct(insert.value)} (target ≥ 70.0%) ${insert.met ? 'MET' : 'MISSED'}; per round ${insert.perRound.map(pct).join(', ')}`)
    }
    const k = summary.keepsUp
    if (k) {
      log(
        `  Webhook keeps up with ingest (all delivered ≤ ${KEEP_UP_LAG_SECONDS} s after ingest stops): ${k.met ? 'MET' : 'MISSED'} ` +
          `(single ${secs(k.single)}, batches ${secs(k.batch)}; its drain rate is ${pct(k.webhookDrainVsBatchIngest)} of batch ingest without destinations)`,
      )
    }
    for (const note of summary.notes) log(`  NOTE: ${note}`)
  }

  async function close() {
    if (postgres) await postgres.remove()
    for (const dir of workDirs) removeDir(dir)
  }

  return {scenarios, run, describe, summarize, print, close}
}

// ---------------------------------------------------------------------------------------------
// Alone: `node bench/delivery.js`

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values: args} = parseArgs({
    options: {
      rounds: {type: 'string', default: '3'},
      warmup: {type: 'string', default: '1'},
      duration: {type: 'string', default: '5'},
      'drain-events': {type: 'string', default: '50000'},
      'drain-users': {type: 'string', default: '1,1000'},
      live: {type: 'string', default: 'webhook,file,segment'},
      only: {type: 'string', default: 'ingest,drain'},
      'drain-types': {type: 'string'},
    },
  })
  if (!existsSync(path.join(root, 'dist', 'services', 'dev.js'))) {
    console.error('dist/ is missing: run `npm run build` first.')
    process.exit(1)
  }
  const rounds = Number(args.rounds)
  const started = new Date()
  const loadBefore = os.loadavg()
  console.log(`cdp destination benchmark — ${started.toISOString()}`)
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; ${rounds} rounds\n`)
  const delivery = createDeliveryBench({
    warmup: Number(args.warmup),
    duration: Number(args.duration),
    drainEvents: Number(args['drain-events']),
    drainUsers: args['drain-users'].split(',').map(Number),
    live: args.live.split(',').filter(Boolean),
    sections: args.only.split(',').filter(Boolean),
    drainOnly: args['drain-types']?.split(',').filter(Boolean),
  })
  const perRound = []
  try {
    for (let round = 1; round <= rounds; round++) {
      const results = {}
      for (const scenario of delivery.scenarios(round)) {
        const conns = scenario.connections ? `${String(scenario.connections).padStart(3)} conns` : ''.padEnd(9)
        process.stdout.write(`round ${round}/${rounds}  ${scenario.label.padEnd(56)} ${conns} `)
        results[scenario.id] = await delivery.run(scenario)
        console.log(delivery.describe(scenario, results[scenario.id]))
      }
      perRound.push(results)
    }
    const summary = delivery.summarize(perRound)
    delivery.print(summary)
    const file = path.join(bench, 'results', 'latest.json')
    let report = {}
    try {
      report = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      // none yet
    }
    const finished = new Date()
    report.delivery = {
      date: started.toISOString(),
      seconds: (finished - started) / 1000,
      command: `node bench/delivery.js ${process.argv.slice(2).join(' ')}`.trim(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg(),
      rounds,
      ...summary,
    }
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n')
    console.log(`\nwrote the delivery section of bench/results/latest.json (${report.delivery.seconds.toFixed(0)} s)`)
  } finally {
    await delivery.close()
  }
}
