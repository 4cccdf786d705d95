// The functions runtime benchmark (issue 12): calls per second of a trivial insert function
// (`async function onTrack(event) { return event }`) on the bench's ~600-byte track event, through
// the real runtime (dist/functions/runtime/load.js), next to a bare isolated-vm loop doing the
// leanest correct equivalent in the same process and run: same isolate settings, the event as JSON
// text in, the handler called, its result serialised and compared with the input (an unchanged
// event comes back as a mark, as the runtime does), the answer parsed on the host, same concurrency. The bare
// loop is the ceiling; the runtime's extra work is its dispatcher, outcomes, console capture,
// time limits and per-call bookkeeping.
//
// Scenarios: one event per call with 1 and with 64 calls in flight; batches of 100 per call.
// Each round runs both sides in 5 alternating slices per scenario (the machine is small and shared:
// a change of load then hits both alike); rounds are reported as medians; the process's
// own CPU (user + system, all threads: the isolate's thread included) is reported beside each.
//
// Run: npx tsc -p tsconfig.build.json && node --no-node-snapshot bench/functions.js [--rounds 3] [--duration 2]
// Writes bench/results/functions.json.

import {createRequire} from 'node:module'
import {mkdirSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {eventBytes, messageIds, productAdded} from './payload.js'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const require = createRequire(import.meta.url)
const ivm = require('isolated-vm')
const {loadFunctionSource} = await import(path.join(root, 'dist/functions/runtime/load.js'))

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const rounds = option('rounds', 3)
const duration = option('duration', 2) * 1000

const code = 'async function onTrack(event) { return event }'
const definition = {
  name: 'bench',
  kind: 'insert',
  file: path.join(root, 'functions/bench.js'),
  settings: {},
  timeoutMs: 5000,
  memoryMb: 128,
  allowedHosts: [],
}

const nextId = messageIds('fnbench')
const events = (n) => Array.from({length: n}, () => productAdded(nextId()))

/** The ceiling: the same work with nothing around it. */
async function bareRunner() {
  const isolate = new ivm.Isolate({memoryLimit: definition.memoryMb})
  const context = await isolate.createContext()
  await context.eval(code)
  const run = await context.eval(
    // As the runtime answers: an unchanged event comes back as a mark, a changed one as its JSON.
    `(async function run(...texts) {
      const out = []
      for (const text of texts) {
        const result = JSON.stringify(await onTrack(JSON.parse(text)))
        out.push(result === text ? '0' : result)
      }
      return '[' + out.join(',') + ']'
    })`,
    {reference: true},
  )
  return {
    call: async (batch) => {
      const texts = batch.map((event) => JSON.stringify(event))
      const text = await run.apply(undefined, texts, {result: {promise: true}, timeout: definition.timeoutMs})
      const out = JSON.parse(text)
      if (out.length !== batch.length) throw new Error('bare: wrong answer')
    },
    dispose: () => isolate.dispose(),
  }
}

async function runtimeRunner() {
  const fn = await loadFunctionSource(definition, code)
  return {
    call: async (batch) => {
      const run = await fn.runInsert(batch)
      if (run.outcomes.length !== batch.length || run.outcomes[0].result === 'error') throw new Error(`runtime: ${JSON.stringify(run.outcomes[0])}`)
    },
    dispose: () => fn.dispose(),
  }
}

/** Calls for `duration` ms with `inFlight` calls at once; each call carries `batchSize` events. */
async function measure(runner, {inFlight, batchSize}, ms = duration) {
  const pool = Array.from({length: 64}, () => events(batchSize))
  let calls = 0
  const deadline = performance.now() + ms
  const cpu = process.cpuUsage()
  const started = performance.now()
  const worker = async (w) => {
    let i = w
    while (performance.now() < deadline) {
      await runner.call(pool[i++ % pool.length])
      calls++
    }
  }
  await Promise.all(Array.from({length: inFlight}, (_, w) => worker(w)))
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return {calls, events: calls * batchSize, seconds, cpuSeconds: (used.user + used.system) / 1e6}
}

/** Both sides in alternating slices, so a change in the shared machine's load hits both alike. */
async function measurePair(scenario, round) {
  const slices = 5
  const totals = {runtime: {calls: 0, events: 0, seconds: 0, cpuSeconds: 0}, bare: {calls: 0, events: 0, seconds: 0, cpuSeconds: 0}}
  for (let slice = 0; slice < slices; slice++) {
    const order = (round + slice) % 2 === 0 ? ['runtime', 'bare'] : ['bare', 'runtime']
    for (const who of order) {
      const m = await measure(who === 'runtime' ? runtime : bare, scenario, duration / slices)
      for (const key of Object.keys(m)) totals[who][key] += m[key]
    }
  }
  const rate = (t) => ({callsPerSecond: t.calls / t.seconds, eventsPerSecond: t.events / t.seconds, cpuPercent: (t.cpuSeconds / t.seconds) * 100})
  return {runtime: rate(totals.runtime), bare: rate(totals.bare)}
}

const scenarios = [
  {name: 'single, 1 in flight', inFlight: 1, batchSize: 1},
  {name: 'single, 64 in flight', inFlight: 64, batchSize: 1},
  {name: 'batches of 100, 1 in flight', inFlight: 1, batchSize: 100},
  {name: 'batches of 100, 4 in flight', inFlight: 4, batchSize: 100},
]

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const runtime = await runtimeRunner()
const bare = await bareRunner()
// Warm both up (JIT, isolate heaps).
await measure(runtime, {inFlight: 8, batchSize: 10}, 1000)
await measure(bare, {inFlight: 8, batchSize: 10}, 1000)

const samples = scenarios.map(() => ({runtime: [], bare: []}))
for (let round = 0; round < rounds; round++) {
  for (const [i, scenario] of scenarios.entries()) {
    const pair = await measurePair(scenario, round)
    samples[i].runtime.push(pair.runtime)
    samples[i].bare.push(pair.bare)
  }
  process.stderr.write(`round ${round + 1}/${rounds} done\n`)
}
runtime.dispose()
bare.dispose()

const pick = (list, key) => median(list.map((s) => s[key]))
const results = scenarios.map((scenario, i) => {
  const r = samples[i].runtime
  const b = samples[i].bare
  const row = {
    scenario: scenario.name,
    inFlight: scenario.inFlight,
    batchSize: scenario.batchSize,
    runtime: {callsPerSecond: pick(r, 'callsPerSecond'), eventsPerSecond: pick(r, 'eventsPerSecond'), cpuPercent: pick(r, 'cpuPercent')},
    bare: {callsPerSecond: pick(b, 'callsPerSecond'), eventsPerSecond: pick(b, 'eventsPerSecond'), cpuPercent: pick(b, 'cpuPercent')},
    ratiosByRound: r.map((s, k) => s.callsPerSecond / b[k].callsPerSecond),
  }
  // Each round's two sides ran in alternating slices, so a round's ratio is a paired comparison:
  // the headline is the median of those; the ratio of the medians is kept beside it.
  row.ratio = median(row.ratiosByRound)
  row.ratioOfMedians = row.runtime.callsPerSecond / row.bare.callsPerSecond
  return row
})

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  eventBytes: eventBytes(),
  rounds,
  durationSeconds: duration / 1000,
  function: code,
  results,
}
const out = path.join(root, 'bench/results/functions.json')
mkdirSync(path.dirname(out), {recursive: true})
writeFileSync(out, JSON.stringify(report, null, 2) + '\n')

const fmt = (n) => Math.round(n).toLocaleString('en-US')
console.log(`functions runtime: ${code} on a ${report.eventBytes}-byte event; medians of ${rounds} rounds of ${duration / 1000} s`)
for (const row of results) {
  console.log(
    `${row.scenario.padEnd(30)} runtime ${fmt(row.runtime.callsPerSecond).padStart(8)} calls/s ${fmt(row.runtime.eventsPerSecond).padStart(9)} events/s cpu ${Math.round(row.runtime.cpuPercent)}%` +
      `  | bare ${fmt(row.bare.callsPerSecond).padStart(8)} calls/s ${fmt(row.bare.eventsPerSecond).padStart(9)} events/s cpu ${Math.round(row.bare.cpuPercent)}%` +
      `  | ratio ${row.ratio.toFixed(2)} (median of rounds ${row.ratiosByRound.map((x) => x.toFixed(2)).join(', ')})`,
  )
}
console.log(`written to ${path.relative(process.cwd(), out)}`)
