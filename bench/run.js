// The ingest benchmark (`npm run bench`, after `npm run build`).
//
// Every part runs in its own process: this driver, the server under test (the real `cdp dev` CLI,
// or a do-nothing node:http server), the load generator (bench/load.js) and the storage ceiling
// (bench/storage.js). The machine is small and shared, so the scenarios are interleaved, repeated
// (3 rounds by default) and reported as medians, and the targets are ratios against baselines
// measured in the same run:
//   single-event ingest requests/s ÷ do-nothing server requests/s   (target ≥ 60%)
//   batch ingest events/s ÷ raw insert rows/s into the same schema  (target ≥ 50%)
//
// Options: --rounds 3 --warmup 1 --duration 5 --storage-duration 3 (seconds).
// Writes bench/results/latest.json.

import {spawn, execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {eventBytes} from './payload.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bench = path.join(root, 'bench')

const {values: args} = parseArgs({
  options: {
    rounds: {type: 'string', default: '3'},
    warmup: {type: 'string', default: '1'},
    duration: {type: 'string', default: '5'},
    'storage-duration': {type: 'string', default: '3'},
  },
})
const rounds = Number(args.rounds)
const warmup = Number(args.warmup)
const duration = Number(args.duration)
const storageDuration = Number(args['storage-duration'])

const SINGLE_CONNECTIONS = 32
const BATCH_CONNECTIONS = 8
const BATCH_SIZE = 100
const STORAGE_TX_ROWS = 1000

if (!existsSync(path.join(root, 'dist', 'services', 'dev.js'))) {
  console.error('dist/ is missing: run `npm run build` first (or `npm run bench`, which builds).')
  process.exit(1)
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** Runs `node file args`, answers the JSON of its last stdout line. */
function runJson(file, argv, {timeoutMs = 120_000} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...argv], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      const last = out.trim().split('\n').pop() ?? ''
      try {
        const result = JSON.parse(last)
        if (code !== 0 || result.error) reject(new Error(`${path.basename(file)} exited ${code}: ${result.error ?? ''}\n${err}`))
        else resolve(result)
      } catch {
        reject(new Error(`${path.basename(file)} exited ${code} without a JSON result\n${out}\n${err}`))
      }
    })
  })
}

/** Starts a server process that prints a {"event":"ready"} JSON line; answers {url, sources, pid, stop()}. */
function startServer(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}})
    let out = ''
    let err = ''
    let ready = false
    const exited = new Promise((settle) => child.on('close', (code, signal) => settle({code, signal})))
    const timer = setTimeout(() => {
      if (!ready) {
        child.kill('SIGKILL')
        reject(new Error(`server did not start within 20 s: ${argv.join(' ')}\n${err}`))
      }
    }, 20_000)
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      if (ready) return
      const line = out.split('\n').find((l) => l.includes('"event":"ready"'))
      if (!line) return
      ready = true
      clearTimeout(timer)
      const info = JSON.parse(line)
      resolve({
        url: info.url,
        sources: info.sources,
        database: info.database,
        pid: child.pid,
        stderr: () => err,
        async stop() {
          child.kill('SIGTERM')
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000)
          const result = await exited
          clearTimeout(force)
          return result
        },
      })
    })
    exited.then(({code}) => {
      if (!ready) {
        clearTimeout(timer)
        reject(new Error(`server exited ${code} before it was ready: ${argv.join(' ')}\n${err}`))
      }
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const workDirs = []
function freshDir(label) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `cdp-bench-${label}-`))
  workDirs.push(dir)
  return dir
}

async function loadAgainst(server, {pathname, batch, connections}) {
  return runJson(path.join(bench, 'load.js'), [
    '--url', server.url,
    '--path', pathname,
    `--key=${server.sources[0].writeKey}`, // = form: a write key may start with "-"
    '--batch', String(batch),
    '--connections', String(connections),
    '--warmup', String(warmup),
    '--duration', String(duration),
    '--server-pid', String(server.pid),
  ])
}

async function ceiling({batch, connections}) {
  const server = await startServer([path.join(bench, 'noop-server.js')])
  try {
    return await loadAgainst(server, {pathname: batch > 0 ? '/v1/batch' : '/v1/track', batch, connections})
  } finally {
    await server.stop()
  }
}

async function daemon({batch, connections}) {
  const dir = freshDir(batch > 0 ? 'batch' : 'single')
  const server = await startServer([path.join(root, 'bin', 'run.js'), 'dev', '--port', '0', '--host', '127.0.0.1', '--json', '--dir', dir], {
    CDP_LOG: 'warn',
    OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
  })
  let result
  try {
    result = await loadAgainst(server, {pathname: batch > 0 ? '/v1/batch' : '/v1/track', batch, connections})
  } finally {
    const {code, signal} = await server.stop()
    if (code !== 0) console.error(`  cdp dev exited ${code ?? signal}\n${server.stderr()}`)
  }
  // Every 2xx must mean a stored event: count the rows once the daemon has closed the store.
  const db = new Database(server.database ?? path.join(dir, '.cdp', 'cdp.sqlite'), {readonly: true})
  result.storedEvents = db.prepare('SELECT count(*) AS n FROM events').get().n
  const sizes = db.prepare('SELECT avg(length(raw)) AS raw, avg(length(message)) AS message FROM (SELECT raw, message FROM events LIMIT 100)').get()
  result.storedRawBytes = Math.round(sizes.raw)
  result.storedMessageBytes = Math.round(sizes.message)
  db.close()
  rmSync(dir, {recursive: true, force: true})
  return result
}

function storage(variant) {
  return runJson(path.join(bench, 'storage.js'), ['--variant', variant, '--duration', String(storageDuration), '--tx', String(STORAGE_TX_ROWS)])
}

const scenarios = [
  {id: 'ceilingSingle', label: 'do-nothing server, 1 event/request', kind: 'http', run: () => ceiling({batch: 0, connections: SINGLE_CONNECTIONS})},
  {id: 'cdpSingle', label: 'cdp dev POST /v1/track, 1 event/request', kind: 'http', run: () => daemon({batch: 0, connections: SINGLE_CONNECTIONS})},
  {id: 'ceilingBatch', label: `do-nothing server, ${BATCH_SIZE} events/request`, kind: 'http', run: () => ceiling({batch: BATCH_SIZE, connections: BATCH_CONNECTIONS})},
  {id: 'cdpBatch', label: `cdp dev POST /v1/batch, ${BATCH_SIZE} events/request`, kind: 'http', run: () => daemon({batch: BATCH_SIZE, connections: BATCH_CONNECTIONS})},
  {id: 'storeInsert', label: 'SqliteStore.appendEvents (store schema, 6 indexes)', kind: 'storage', run: () => storage('store')},
  {id: 'uniqueInsert', label: 'same table, only the unique (source, message_id) index', kind: 'storage', run: () => storage('unique')},
  {id: 'bareInsert', label: 'same table, no index', kind: 'storage', run: () => storage('bare')},
]

// ---------------------------------------------------------------------------------------------
// Run

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: root, encoding: 'utf8'}).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {cwd: root, encoding: 'utf8'}).trim() !== ''
    return dirty ? `${head} (src/ modified)` : head
  } catch {
    return null
  }
}

const started = new Date()
const loadBefore = os.loadavg()
console.log(`cdp ingest benchmark — ${started.toISOString()}`)
console.log(
  `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
)
console.log(
  `${rounds} rounds, interleaved; HTTP: ${warmup} s warm-up + ${duration} s measured, ${SINGLE_CONNECTIONS} connections (single) / ${BATCH_CONNECTIONS} (batch of ${BATCH_SIZE}); ` +
    `storage: ${storageDuration} s in ${STORAGE_TX_ROWS}-row transactions; event ${eventBytes()} bytes of JSON\n`,
)

const perRound = []
for (let round = 1; round <= rounds; round++) {
  const results = {}
  for (const scenario of scenarios) {
    process.stdout.write(`round ${round}/${rounds}  ${scenario.label.padEnd(56)} `)
    const result = await scenario.run()
    results[scenario.id] = result
    if (scenario.kind === 'http') {
      const problems = result.non2xx + result.errors > 0 ? `  ${result.non2xx} non-2xx, ${result.errors} errors: ${result.firstProblem}` : ''
      const stored = result.storedEvents !== undefined && result.storedEvents < result.acknowledgedEvents ? `  STORED ${result.storedEvents} < ACKNOWLEDGED ${result.acknowledgedEvents}` : ''
      console.log(`${Math.round(result.requestsPerSec).toLocaleString('en-US').padStart(8)} req/s ${Math.round(result.eventsPerSec).toLocaleString('en-US').padStart(9)} events/s${problems}${stored}`)
    } else {
      console.log(`${Math.round(result.rowsPerSec).toLocaleString('en-US').padStart(24)} rows/s`)
    }
  }
  perRound.push(results)
}

const medians = {}
for (const scenario of scenarios) {
  const all = perRound.map((r) => r[scenario.id])
  if (scenario.kind === 'http') {
    medians[scenario.id] = {
      requestsPerSec: median(all.map((r) => r.requestsPerSec)),
      eventsPerSec: median(all.map((r) => r.eventsPerSec)),
      p50Ms: median(all.map((r) => r.p50Ms)),
      p99Ms: median(all.map((r) => r.p99Ms)),
      serverCpuPercent: median(all.map((r) => r.serverCpuPercent)),
      loadCpuPercent: median(all.map((r) => r.loadCpuPercent)),
      non2xx: all.reduce((n, r) => n + r.non2xx, 0),
      errors: all.reduce((n, r) => n + r.errors, 0),
    }
  } else {
    medians[scenario.id] = {rowsPerSec: median(all.map((r) => r.rowsPerSec))}
  }
}

const ratios = {
  singleVsCeiling: {
    description: 'single-event ingest requests/s ÷ do-nothing server requests/s',
    target: 0.6,
    value: medians.cdpSingle.requestsPerSec / medians.ceilingSingle.requestsPerSec,
    perRound: perRound.map((r) => r.cdpSingle.requestsPerSec / r.ceilingSingle.requestsPerSec),
  },
  batchVsStorage: {
    description: 'batch ingest events/s ÷ raw insert rows/s into the same schema (SqliteStore.appendEvents)',
    target: 0.5,
    value: medians.cdpBatch.eventsPerSec / medians.storeInsert.rowsPerSec,
    perRound: perRound.map((r) => r.cdpBatch.eventsPerSec / r.storeInsert.rowsPerSec),
  },
}
for (const ratio of Object.values(ratios)) {
  // The headline is the ratio of the medians; the median of the per-round ratios (each pair
  // measured minutes apart) is a cross-check on how firmly the target is met or missed.
  ratio.medianOfRounds = median(ratio.perRound)
  ratio.met = ratio.value >= ratio.target
}

// Every acknowledged event must be in the store.
const lost = perRound.flatMap((r, i) =>
  ['cdpSingle', 'cdpBatch'].filter((id) => r[id].storedEvents < r[id].acknowledgedEvents).map((id) => `round ${i + 1} ${id}: stored ${r[id].storedEvents} < acknowledged ${r[id].acknowledgedEvents}`),
)

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n, digits = 0) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}))
const pct = (x) => `${(100 * x).toFixed(1)}%`

const header = ['scenario (medians of ' + rounds + ')', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'CPU server', 'CPU load', 'non-2xx']
const rows = scenarios.map((s) => {
  const m = medians[s.id]
  const cpu = (x) => (x === null ? '—' : `${Math.round(x)}%`)
  if (s.kind === 'storage') return [s.label, '', fmt(m.rowsPerSec) + ' rows/s', '', '', '', '', '']
  return [s.label, fmt(m.requestsPerSec), fmt(m.eventsPerSec), fmt(m.p50Ms, 2), fmt(m.p99Ms, 2), cpu(m.serverCpuPercent), cpu(m.loadCpuPercent), String(m.non2xx + m.errors)]
})
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
console.log('\n' + line(header))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of rows) console.log(line(r))

console.log('')
for (const ratio of Object.values(ratios)) {
  console.log(
    `${ratio.description}: ${pct(ratio.value)} (target ≥ ${pct(ratio.target)}) ${ratio.met ? 'MET' : 'MISSED'}; ` +
      `per round ${ratio.perRound.map(pct).join(', ')} (median ${pct(ratio.medianOfRounds)})`,
  )
}
if (lost.length > 0) console.log(`\nWARNING: acknowledged events missing from the store:\n  ${lost.join('\n  ')}`)

const finished = new Date()
const report = {
  date: started.toISOString(),
  seconds: (finished - started) / 1000,
  command: 'npm run bench',
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? null,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadAverageBefore: loadBefore,
    loadAverageAfter: os.loadavg(),
  },
  commit: gitCommit(),
  config: {
    rounds,
    warmupSeconds: warmup,
    durationSeconds: duration,
    singleConnections: SINGLE_CONNECTIONS,
    batchConnections: BATCH_CONNECTIONS,
    batchSize: BATCH_SIZE,
    storageSeconds: storageDuration,
    storageTransactionRows: STORAGE_TX_ROWS,
    eventBytes: eventBytes(),
  },
  scenarios: Object.fromEntries(scenarios.map((s) => [s.id, s.label])),
  medians,
  ratios,
  lostEvents: lost,
  rounds: perRound,
}
mkdirSync(path.join(bench, 'results'), {recursive: true})
writeFileSync(path.join(bench, 'results', 'latest.json'), JSON.stringify(report, null, 2) + '\n')
console.log(`\nwrote bench/results/latest.json (${report.seconds.toFixed(0)} s)`)
for (const dir of workDirs) rmSync(dir, {recursive: true, force: true})
