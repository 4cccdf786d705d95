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
// Both ratios depend on the client's concurrency (the do-nothing server is bound by the load
// generator and slows down with more connections; the daemon's group commit gets bigger groups),
// so every round sweeps it: single events, daemon and do-nothing server back to back, at 32, 64
// and 128 connections; batches at 8 and 32 connections. The headline ratios (the targets) stay at
// 32 connections for single events and 8 for batches, under their old keys in latest.json
// (ratios.singleVsCeiling, ratios.batchVsStorage, medians.cdpSingle, ...); the sweep is under
// `sweep` and `ratiosByConnections`.
//
// The destination benchmark (bench/delivery.js, issue 5) runs at the end of every round: ingest
// with three destinations configured vs none (target ≥ 80%), and how fast each destination type
// drains a backlog; its results are the `delivery` section of latest.json.
//
// Options: --rounds 3 --warmup 1 --duration 5 --storage-duration 3 (seconds);
// --drain-events 50000 --drain-users 1,1000 (bench/delivery.js); --skip-delivery.
// Writes bench/results/latest.json.

import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {eventBytes} from './payload.js'
import {runJson, startServer} from './processes.js'
import {createDeliveryBench} from './delivery.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bench = path.join(root, 'bench')

const {values: args} = parseArgs({
  options: {
    rounds: {type: 'string', default: '3'},
    warmup: {type: 'string', default: '1'},
    duration: {type: 'string', default: '5'},
    'storage-duration': {type: 'string', default: '3'},
    'drain-events': {type: 'string', default: '50000'},
    'drain-users': {type: 'string', default: '1,1000'},
    'skip-delivery': {type: 'boolean', default: false},
  },
})
const rounds = Number(args.rounds)
const warmup = Number(args.warmup)
const duration = Number(args.duration)
const storageDuration = Number(args['storage-duration'])

// The headline concurrency of each kind comes first in its sweep.
const SINGLE_CONNECTIONS = 32
const BATCH_CONNECTIONS = 8
const SINGLE_SWEEP = [SINGLE_CONNECTIONS, 64, 128]
const BATCH_SWEEP = [BATCH_CONNECTIONS, 32]
const BATCH_SIZE = 100
const STORAGE_TX_ROWS = 1000

if (!existsSync(path.join(root, 'dist', 'services', 'dev.js'))) {
  console.error('dist/ is missing: run `npm run build` first (or `npm run bench`, which builds).')
  process.exit(1)
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

// The tracking plan the "validation on" runs check every event against (the payload follows it).
const ecommercePlan = path.join(root, 'test', 'fixtures', 'ecommerce', 'plan')

async function daemon({batch, connections, plan = false}) {
  const dir = freshDir(batch > 0 ? 'batch' : 'single')
  // With no cdp.json the default source uses <dir>/plan.
  if (plan) cpSync(ecommercePlan, path.join(dir, 'plan'), {recursive: true})
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
  if (plan) {
    result.violations = db.prepare('SELECT count(*) AS n FROM violations').get().n
    result.validEvents = db.prepare('SELECT count(*) AS n FROM events WHERE valid = 1').get().n
  }
  result.storedRawBytes = Math.round(sizes.raw)
  result.storedMessageBytes = Math.round(sizes.message)
  db.close()
  rmSync(dir, {recursive: true, force: true})
  return result
}

function storage(variant) {
  return runJson(path.join(bench, 'storage.js'), ['--variant', variant, '--duration', String(storageDuration), '--tx', String(STORAGE_TX_ROWS)])
}

/** Scenario id: the old id at the headline concurrency (so readers of latest.json keep working), suffixed otherwise. */
const httpId = (base, connections, headline) => (connections === headline ? base : `${base}${connections}`)

const scenarios = [
  // Each daemon run right after the do-nothing run at the same concurrency: the ratio's pair.
  ...SINGLE_SWEEP.flatMap((connections) => [
    {id: httpId('ceilingSingle', connections, SINGLE_CONNECTIONS), label: 'do-nothing server, 1 event/request', kind: 'http', connections, run: () => ceiling({batch: 0, connections})},
    {id: httpId('cdpSingle', connections, SINGLE_CONNECTIONS), label: 'cdp dev POST /v1/track, 1 event/request', kind: 'http', connections, run: () => daemon({batch: 0, connections})},
    // Validation on, right after validation off at the headline concurrency: the plan's cost.
    ...(connections === SINGLE_CONNECTIONS
      ? [{id: 'cdpSinglePlan', label: 'cdp dev POST /v1/track, E-commerce plan on', kind: 'http', connections, run: () => daemon({batch: 0, connections, plan: true})}]
      : []),
  ]),
  ...BATCH_SWEEP.flatMap((connections) => [
    {id: httpId('ceilingBatch', connections, BATCH_CONNECTIONS), label: `do-nothing server, ${BATCH_SIZE} events/request`, kind: 'http', connections, run: () => ceiling({batch: BATCH_SIZE, connections})},
    {id: httpId('cdpBatch', connections, BATCH_CONNECTIONS), label: `cdp dev POST /v1/batch, ${BATCH_SIZE} events/request`, kind: 'http', connections, run: () => daemon({batch: BATCH_SIZE, connections})},
    ...(connections === BATCH_CONNECTIONS
      ? [{id: 'cdpBatchPlan', label: `cdp dev POST /v1/batch, E-commerce plan on`, kind: 'http', connections, run: () => daemon({batch: BATCH_SIZE, connections, plan: true})}]
      : []),
  ]),
  {id: 'validation', label: 'CompiledPlan.check, E-commerce plan (checks/s)', kind: 'validation', run: () => runJson(path.join(bench, 'validation.js'), ['--duration', '1'])},
  {id: 'storeInsert', label: 'SqliteStore.appendEvents (store schema, 6 indexes)', kind: 'storage', run: () => storage('store')},
  {id: 'storeInsertNoCheckpoint', label: 'same, auto-checkpoint off (as the daemon; no checkpoint)', kind: 'storage', run: () => storage('store-no-checkpoint')},
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
  `${rounds} rounds, interleaved; HTTP: ${warmup} s warm-up + ${duration} s measured, ${SINGLE_SWEEP.join('/')} connections (single) / ${BATCH_SWEEP.join('/')} (batch of ${BATCH_SIZE}); ` +
    `storage: ${storageDuration} s in ${STORAGE_TX_ROWS}-row transactions; event ${eventBytes()} bytes of JSON\n`,
)

// Same concurrencies and batch size as the ingest scenarios above.
const delivery = args['skip-delivery']
  ? null
  : createDeliveryBench({
      warmup,
      duration,
      drainEvents: Number(args['drain-events']),
      drainUsers: args['drain-users'].split(',').map(Number),
      singleConnections: SINGLE_CONNECTIONS,
      batchConnections: BATCH_CONNECTIONS,
      batchSize: BATCH_SIZE,
    })
const deliveryPerRound = []

const perRound = []
for (let round = 1; round <= rounds; round++) {
  const results = {}
  for (const scenario of scenarios) {
    const conns = scenario.kind === 'http' ? `${String(scenario.connections).padStart(3)} conns` : ''.padEnd(9)
    process.stdout.write(`round ${round}/${rounds}  ${scenario.label.padEnd(56)} ${conns} `)
    const result = await scenario.run()
    results[scenario.id] = result
    if (scenario.kind === 'http') {
      const problems = result.non2xx + result.errors > 0 ? `  ${result.non2xx} non-2xx, ${result.errors} errors: ${result.firstProblem}` : ''
      const stored = result.storedEvents !== undefined && result.storedEvents < result.acknowledgedEvents ? `  STORED ${result.storedEvents} < ACKNOWLEDGED ${result.acknowledgedEvents}` : ''
      // The plan runs must check and pass every event, or they measure something else.
      const planned = result.violations > 0 || (result.validEvents !== undefined && result.validEvents !== result.storedEvents) ? `  PLAN: ${result.violations} violations, ${result.validEvents} of ${result.storedEvents} valid` : ''
      console.log(`${Math.round(result.requestsPerSec).toLocaleString('en-US').padStart(8)} req/s ${Math.round(result.eventsPerSec).toLocaleString('en-US').padStart(9)} events/s${problems}${stored}${planned}`)
    } else if (scenario.kind === 'validation') {
      console.log(`${Math.round(result.validPerSec).toLocaleString('en-US').padStart(24)} valid/s ${Math.round(result.invalidPerSec).toLocaleString('en-US')} invalid/s`)
    } else {
      console.log(`${Math.round(result.rowsPerSec).toLocaleString('en-US').padStart(24)} rows/s`)
    }
  }
  perRound.push(results)
  if (!delivery) continue
  const deliveryResults = {}
  for (const scenario of delivery.scenarios(round)) {
    const conns = scenario.connections ? `${String(scenario.connections).padStart(3)} conns` : ''.padEnd(9)
    process.stdout.write(`round ${round}/${rounds}  ${scenario.label.padEnd(56)} ${conns} `)
    deliveryResults[scenario.id] = await delivery.run(scenario)
    console.log(delivery.describe(scenario, deliveryResults[scenario.id]))
  }
  deliveryPerRound.push(deliveryResults)
}

const medians = {}
for (const scenario of scenarios) {
  const all = perRound.map((r) => r[scenario.id])
  if (scenario.kind === 'http') {
    medians[scenario.id] = {
      connections: scenario.connections,
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
    medians[scenario.id] =
      scenario.kind === 'validation'
        ? {validPerSec: median(all.map((r) => r.validPerSec)), invalidPerSec: median(all.map((r) => r.invalidPerSec)), unplannedPerSec: median(all.map((r) => r.unplannedPerSec))}
        : {rowsPerSec: median(all.map((r) => r.rowsPerSec))}
  }
}

// The ratios at every concurrency of the sweep. The ratio is of the medians; the median of the
// per-round ratios (each pair measured back to back, rounds minutes apart) is a cross-check on how
// firmly the target is met or missed.
function singleRatio(connections) {
  const cdp = httpId('cdpSingle', connections, SINGLE_CONNECTIONS)
  const ceil = httpId('ceilingSingle', connections, SINGLE_CONNECTIONS)
  const perRoundValues = perRound.map((r) => r[cdp].requestsPerSec / r[ceil].requestsPerSec)
  const value = medians[cdp].requestsPerSec / medians[ceil].requestsPerSec
  return {
    description: 'single-event ingest requests/s ÷ do-nothing server requests/s',
    connections,
    target: 0.6,
    value,
    perRound: perRoundValues,
    medianOfRounds: median(perRoundValues),
    met: value >= 0.6,
  }
}
/** Batch ingest ÷ a storage ceiling: SQLite's defaults (storeInsert), or no checkpoint at all (the harder one). */
function batchRatio(connections, ceiling = 'storeInsert') {
  const cdp = httpId('cdpBatch', connections, BATCH_CONNECTIONS)
  const perRoundValues = perRound.map((r) => r[cdp].eventsPerSec / r[ceiling].rowsPerSec)
  const value = medians[cdp].eventsPerSec / medians[ceiling].rowsPerSec
  return {
    description:
      ceiling === 'storeInsert'
        ? 'batch ingest events/s ÷ raw insert rows/s into the same schema (SqliteStore.appendEvents)'
        : 'batch ingest events/s ÷ raw insert rows/s into the same schema with no checkpoint (the harder ceiling)',
    connections,
    target: 0.5,
    value,
    perRound: perRoundValues,
    medianOfRounds: median(perRoundValues),
    met: value >= 0.5,
  }
}
/** Throughput lost to checking every event against the plan, pairs measured back to back. */
function planCost(onId, offId, field) {
  const perRoundValues = perRound.map((r) => 1 - r[onId][field] / r[offId][field])
  const value = 1 - medians[onId][field] / medians[offId][field]
  return {
    description: `ingest ${field === 'eventsPerSec' ? 'events' : 'requests'}/s lost with the E-commerce plan on (${onId} vs ${offId})`,
    connections: medians[onId].connections,
    target: 0.1,
    value,
    perRound: perRoundValues,
    medianOfRounds: median(perRoundValues),
    met: value <= 0.1,
  }
}
const validationCost = {
  single: planCost('cdpSinglePlan', 'cdpSingle', 'requestsPerSec'),
  batch: planCost('cdpBatchPlan', 'cdpBatch', 'eventsPerSec'),
}

const ratiosByConnections = {
  singleVsCeiling: Object.fromEntries(SINGLE_SWEEP.map((c) => [c, singleRatio(c)])),
  batchVsStorage: Object.fromEntries(BATCH_SWEEP.map((c) => [c, batchRatio(c)])),
  batchVsStorageNoCheckpoint: Object.fromEntries(BATCH_SWEEP.map((c) => [c, batchRatio(c, 'storeInsertNoCheckpoint')])),
}
// The headline ratios, the ones the targets are judged on: single events at 32 connections,
// batches at 8 (the keys and fields they always had, plus `connections`).
const ratios = {
  singleVsCeiling: ratiosByConnections.singleVsCeiling[SINGLE_CONNECTIONS],
  batchVsStorage: ratiosByConnections.batchVsStorage[BATCH_CONNECTIONS],
}

// The sweep, one entry per concurrency: the pair's medians and their ratio.
const sweep = {
  single: SINGLE_SWEEP.map((connections) => ({
    connections,
    cdp: medians[httpId('cdpSingle', connections, SINGLE_CONNECTIONS)],
    ceiling: medians[httpId('ceilingSingle', connections, SINGLE_CONNECTIONS)],
    singleVsCeiling: ratiosByConnections.singleVsCeiling[connections],
  })),
  batch: BATCH_SWEEP.map((connections) => ({
    connections,
    cdp: medians[httpId('cdpBatch', connections, BATCH_CONNECTIONS)],
    ceiling: medians[httpId('ceilingBatch', connections, BATCH_CONNECTIONS)],
    storeInsertRowsPerSec: medians.storeInsert.rowsPerSec,
    batchVsStorage: ratiosByConnections.batchVsStorage[connections],
  })),
}

// Every acknowledged event must be in the store.
const daemonIds = scenarios.filter((s) => s.id.startsWith('cdp')).map((s) => s.id)
const lost = perRound.flatMap((r, i) =>
  daemonIds.filter((id) => r[id].storedEvents < r[id].acknowledgedEvents).map((id) => `round ${i + 1} ${id}: stored ${r[id].storedEvents} < acknowledged ${r[id].acknowledgedEvents}`),
)

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n, digits = 0) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}))
const pct = (x) => `${(100 * x).toFixed(1)}%`
// A cost as the change it makes: −5.0% slower, +0.3% (noise: faster with the plan on).
const signedCost = (x) => `${x >= 0 ? '−' : '+'}${pct(Math.abs(x))}`

// One table, grouped by kind and concurrency: each daemon row right under its do-nothing pair,
// with the pair's ratio in the last column.
const header = ['scenario (medians of ' + rounds + ')', 'conns', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'CPU server', 'CPU load', 'non-2xx', 'ratio']
const cpu = (x) => (x === null ? '—' : `${Math.round(x)}%`)
const httpRow = (id, label, ratio) => {
  const m = medians[id]
  return [label, String(m.connections), fmt(m.requestsPerSec), fmt(m.eventsPerSec), fmt(m.p50Ms, 2), fmt(m.p99Ms, 2), cpu(m.serverCpuPercent), cpu(m.loadCpuPercent), String(m.non2xx + m.errors), ratio]
}
const blank = () => header.map(() => '')
const rows = []
rows.push(['single events (1 event/request); ratio = cdp req/s ÷ do-nothing req/s', ...blank().slice(1)])
for (const c of SINGLE_SWEEP) {
  const r = ratiosByConnections.singleVsCeiling[c]
  rows.push(httpRow(httpId('ceilingSingle', c, SINGLE_CONNECTIONS), '  do-nothing server', ''))
  rows.push(httpRow(httpId('cdpSingle', c, SINGLE_CONNECTIONS), '  cdp dev POST /v1/track', `${pct(r.value)}${c === SINGLE_CONNECTIONS ? ' *' : ''}`))
  if (c === SINGLE_CONNECTIONS) rows.push(httpRow('cdpSinglePlan', '  cdp dev POST /v1/track, plan on', signedCost(validationCost.single.value)))
}
rows.push(blank())
rows.push([`batches (${BATCH_SIZE} events/request); ratio = cdp events/s ÷ store-schema rows/s`, ...blank().slice(1)])
for (const c of BATCH_SWEEP) {
  const r = ratiosByConnections.batchVsStorage[c]
  rows.push(httpRow(httpId('ceilingBatch', c, BATCH_CONNECTIONS), '  do-nothing server (reference)', ''))
  rows.push(httpRow(httpId('cdpBatch', c, BATCH_CONNECTIONS), '  cdp dev POST /v1/batch', `${pct(r.value)}${c === BATCH_CONNECTIONS ? ' *' : ''}`))
  if (c === BATCH_CONNECTIONS) rows.push(httpRow('cdpBatchPlan', '  cdp dev POST /v1/batch, plan on', signedCost(validationCost.batch.value)))
}
rows.push(blank())
rows.push([`storage ceiling (${STORAGE_TX_ROWS}-row transactions, no HTTP)`, ...blank().slice(1)])
for (const s of scenarios.filter((x) => x.kind === 'storage')) {
  rows.push([`  ${s.label}`, '', '', fmt(medians[s.id].rowsPerSec) + ' rows/s', '', '', '', '', '', ''])
}
// Section titles (first cell only) may overflow into the empty cells beside them.
const isTitle = (r) => r[0] !== '' && r.slice(1).every((c) => c === '') && !r[0].startsWith('  ')
const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => !isTitle(r)).map((r) => r[i].length)))
const line = (cells) => (isTitle(cells) ? cells[0] : cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd())
console.log('\n' + line(header))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of rows) console.log(line(r))
console.log(`* headline concurrency (the one the target is judged on). −x%: throughput lost with the plan on. CPU: 100% = one core busy over the measured window.`)
const v = medians.validation
console.log(`\nValidation alone (CompiledPlan.check, E-commerce plan): ${fmt(v.validPerSec)} valid events/s, ${fmt(v.invalidPerSec)} with 2 violations/s, ${fmt(v.unplannedPerSec)} unplanned/s`)
console.log('Validation cost (target ≤ 10.0%):')
for (const cost of Object.values(validationCost)) {
  console.log(`  ${cost.description}: ${pct(cost.value)} ${cost.met ? 'MET' : 'MISSED'}; per round ${cost.perRound.map(pct).join(', ')} (median ${pct(cost.medianOfRounds)})`)
}

console.log('\nRatios by client concurrency (ratio of medians; per round; median of the per-round ratios):')
for (const [name, byConnections] of Object.entries(ratiosByConnections)) {
  const first = Object.values(byConnections)[0]
  console.log(`  ${first.description} (target ≥ ${pct(first.target)})`)
  for (const ratio of Object.values(byConnections)) {
    const headline = ratio === ratios[name] ? '  <- headline' : ''
    console.log(
      `    ${String(ratio.connections).padStart(3)} connections: ${pct(ratio.value).padStart(6)}  ${ratio.met ? 'passes' : 'short '}  ` +
        `per round ${ratio.perRound.map(pct).join(', ')} (median ${pct(ratio.medianOfRounds)})${headline}`,
    )
  }
}

console.log('\nHeadline (targets):')
for (const ratio of Object.values(ratios)) {
  console.log(
    `  ${ratio.description}, ${ratio.connections} connections: ${pct(ratio.value)} (target ≥ ${pct(ratio.target)}) ${ratio.met ? 'MET' : 'MISSED'}; ` +
      `per round ${ratio.perRound.map(pct).join(', ')} (median ${pct(ratio.medianOfRounds)})`,
  )
}
if (lost.length > 0) console.log(`\nWARNING: acknowledged events missing from the store:\n  ${lost.join('\n  ')}`)

// Codegen for a 300-event plan, through the real CLI (issue: under 3 s, --check under 2 s).
const codegen = await runJson(path.join(bench, 'codegen.js'), ['--events', '300', '--repeat', '3'])
console.log(
  `\nCodegen, 300-event plan (median of 3, CLI start included): generate ${codegen.generateSeconds.toFixed(2)} s (target < 3 s) ${codegen.generateSeconds < 3 ? 'MET' : 'MISSED'}; ` +
    `--check ${codegen.checkSeconds.toFixed(2)} s (target < 2 s) ${codegen.checkSeconds < 2 ? 'MET' : 'MISSED'}; bare CLI start ${codegen.cliStartSeconds.toFixed(2)} s`,
)

let deliverySummary = null
if (delivery) {
  deliverySummary = delivery.summarize(deliveryPerRound)
  delivery.print(deliverySummary)
  await delivery.close()
}

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
    singleConnectionsSweep: SINGLE_SWEEP,
    batchConnectionsSweep: BATCH_SWEEP,
    batchSize: BATCH_SIZE,
    storageSeconds: storageDuration,
    storageTransactionRows: STORAGE_TX_ROWS,
    eventBytes: eventBytes(),
  },
  scenarios: Object.fromEntries(scenarios.map((s) => [s.id, s.kind === 'http' ? `${s.label}, ${s.connections} connections` : s.label])),
  medians,
  ratios,
  ratiosByConnections,
  validationCost,
  codegen,
  sweep,
  lostEvents: lost,
  rounds: perRound,
  delivery: deliverySummary,
}
mkdirSync(path.join(bench, 'results'), {recursive: true})
writeFileSync(path.join(bench, 'results', 'latest.json'), JSON.stringify(report, null, 2) + '\n')
console.log(`\nwrote bench/results/latest.json (${report.seconds.toFixed(0)} s)`)
for (const dir of workDirs) rmSync(dir, {recursive: true, force: true})
