// The replay benchmark (issue 13), after `npm run build`:
//
//   node bench/replay.js [--sizes 100000,1000000] [--rounds 1] [--batch 500]
//
// For each size, a store of that many stored ~600-byte events (bench/payload.js, written through
// the store's own writer, as the daemon stores them) is replayed by the real CLI, as a user runs
// it (`node bin/run.js replay --destination hook --json`, so through the --no-node-snapshot
// relaunch), into bench/sink-server.js as a batching webhook (batchSize 500). Beside it, in the
// same run, the sink's own ceiling: the same events, read from the same store by a plain loop
// (one SELECT page after another, the JSON joined into arrays of 500) and POSTed to the same sink
// one request at a time, as the replay's single lane does: what the sink and the machine allow.
//
// Measured: events/s from the sink's first to its last event (its own clock), the replay
// process's peak RSS (VmHWM of the launcher and its child, summed: the child does the work) and
// CPU, the sink's CPU. Both sizes show whether memory grows with the number of events.
// Floor (issue 13): ≥ 50,000 events/s and peak RSS < 250 MB at 1M; aim 100,000 events/s, 150 MB.
// Writes bench/results/replay.json.

import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {eventSerializer, messageIds} from './payload.js'
import {cpuSecondsOf, startServer} from './processes.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({
  options: {
    sizes: {type: 'string', default: '100000,1000000'},
    rounds: {type: 'string', default: '1'},
    batch: {type: 'string', default: '500'},
  },
})
const sizes = args.sizes.split(',').map(Number)
const batchSize = Number(args.batch)
const WRITE_KEY = 'bench-write-key'

if (!existsSync(path.join(root, 'dist', 'store', 'sqlite-store.js'))) {
  console.error('dist/ is missing: run `npm run build` first.')
  process.exit(1)
}
const {SqliteStore} = await import('../dist/store/sqlite-store.js')
const {toNewEvent} = await import('../dist/pipeline/pipeline.js')

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b)
  return sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)]
}
const fmt = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'))

/** A workspace whose store holds `count` events, and a cdp.json with the webhook destination (filled in per run). */
function makeWorkspace(count) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `cdp-bench-replay-${count}-`))
  mkdirSync(path.join(dir, '.cdp'), {recursive: true})
  const store = new SqliteStore(path.join(dir, '.cdp', 'cdp.sqlite'))
  const serialize = eventSerializer()
  const ids = messageIds('replay')
  const receivedAt = new Date().toISOString()
  let written = 0
  while (written < count) {
    const rows = []
    for (let i = 0; i < 5000 && written < count; i++, written++) {
      const message = JSON.parse(serialize(ids()))
      message.receivedAt = receivedAt
      message.context ??= {}
      message.integrations ??= {}
      rows.push(toNewEvent('bench', message, JSON.stringify(message)))
    }
    store.appendEvents(rows)
  }
  store.close()
  return dir
}

function writeConfig(dir, sinkUrl) {
  writeFileSync(
    path.join(dir, 'cdp.json'),
    JSON.stringify({sources: [{name: 'bench', writeKey: WRITE_KEY}], destinations: [{name: 'hook', type: 'webhook', url: `${sinkUrl}/webhook`, batchSize, enabled: false}]}, null, 2),
  )
}

/** A request to the sink; once more on a kept-alive socket the sink closed while the store was being made. */
async function ask(url, init) {
  try {
    return await fetch(url, init)
  } catch {
    return fetch(url, init)
  }
}
const sinkStats = async (sink) => (await ask(`${sink.url}/stats`)).json()
const resetSink = (sink) => ask(`${sink.url}/stats`, {method: 'DELETE'})

/** Peak RSS (VmHWM) in MB of a process and its descendants. */
function peakRssMb(pid) {
  let kb = 0
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    kb += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) kb += peakRssMb(Number(child)) * 1024
  } catch {}
  return kb / 1024
}

/** `cdp replay` of the whole store into the sink; the sink's clock gives the rate. */
async function replay(dir, sink, count) {
  await resetSink(sink)
  const child = spawn(process.execPath, [path.join(root, 'bin', 'run.js'), 'replay', '--destination', 'hook', '--json', '--dir', dir], {
    cwd: root,
    env: {...process.env, CDP_LOG: 'warn', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  let peak = 0
  let cpu = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRssMb(child.pid))
    // Cumulative: a reading after the relaunched child has gone counts only the launcher, so keep the most.
    cpu = Math.max(cpu, cpuSecondsOf(child.pid) ?? 0)
  }, 100)
  const started = performance.now()
  const code = await new Promise((resolve) => child.on('close', resolve))
  clearInterval(sampler)
  const wall = (performance.now() - started) / 1000
  const stats = (await sinkStats(sink)).paths['/webhook'] ?? {events: 0}
  let summary = null
  try {
    summary = JSON.parse(out)
  } catch {}
  if (code !== 0 || stats.events < count) throw new Error(`cdp replay exited ${code}, the sink has ${stats.events} of ${count} events\n${out}\n${err.slice(-2000)}`)
  const seconds = (stats.lastEventAt - stats.firstEventAt) / 1000
  return {
    eventsPerSec: (stats.events - stats.firstRequestEvents) / seconds,
    firstToLastSeconds: seconds,
    wallSeconds: wall,
    peakRssMb: peak,
    cpuPercent: (100 * cpu) / wall,
    sinkCpuSeconds: (await sinkStats(sink)).cpuSeconds,
    summary,
  }
}

/** The ceiling: the same rows, read page by page and POSTed as arrays of batchSize, one request at a time. */
async function plainLoop(dir, sink) {
  await resetSink(sink)
  const db = new Database(path.join(dir, '.cdp', 'cdp.sqlite'), {readonly: true})
  const page = db.prepare('SELECT seq, message FROM events WHERE seq > ? ORDER BY seq LIMIT ?')
  const agent = new http.Agent({keepAlive: true, maxSockets: 1})
  const url = new URL(`${sink.url}/webhook`)
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = http.request({host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}}, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end(body)
    })
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  let after = 0
  for (;;) {
    const rows = page.all(after, batchSize)
    if (rows.length === 0) break
    after = rows[rows.length - 1].seq
    await post(`[${rows.map((row) => row.message).join(',')}]`)
  }
  const wall = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  db.close()
  agent.destroy()
  const stats = (await sinkStats(sink)).paths['/webhook']
  const seconds = (stats.lastEventAt - stats.firstEventAt) / 1000
  return {eventsPerSec: (stats.events - stats.firstRequestEvents) / seconds, wallSeconds: wall, loopCpuPercent: (100 * (cpu.user + cpu.system)) / 1e6 / wall}
}

console.log(`cdp replay benchmark — ${new Date().toISOString()}`)
console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; sizes ${sizes.join(', ')}; batchSize ${batchSize}\n`)
const sink = await startServer([path.join(root, 'bench', 'sink-server.js')])
const results = {}
try {
  for (const size of sizes) {
    const made = performance.now()
    const dir = makeWorkspace(size)
    writeConfig(dir, sink.url)
    console.log(`${fmt(size)} events stored in ${((performance.now() - made) / 1000).toFixed(1)} s (${dir})`)
    const runs = []
    for (let round = 1; round <= Number(args.rounds); round++) {
      // The ceiling and the replay back to back, in alternating order, so a change of load hits both.
      const order = round % 2 === 1 ? ['ceiling', 'replay'] : ['replay', 'ceiling']
      const run = {}
      for (const what of order) {
        if (what === 'ceiling') run.ceiling = await plainLoop(dir, sink)
        else {
          // Each replay starts from nothing: a fresh copy of the replays' bookkeeping is not needed,
          // every replay has its own id and checkpoint.
          run.replay = await replay(dir, sink, size)
        }
      }
      run.ratio = run.replay.eventsPerSec / run.ceiling.eventsPerSec
      runs.push(run)
      console.log(
        `  round ${round}: replay ${fmt(run.replay.eventsPerSec)} events/s (peak RSS ${run.replay.peakRssMb.toFixed(0)} MB, CPU ${fmt(run.replay.cpuPercent)}%, ${run.replay.wallSeconds.toFixed(1)} s wall), ` +
          `plain loop ${fmt(run.ceiling.eventsPerSec)} events/s (its CPU ${fmt(run.ceiling.loopCpuPercent)}%), ratio ${(100 * run.ratio).toFixed(1)}%`,
      )
    }
    results[size] = {
      events: size,
      eventsPerSec: median(runs.map((r) => r.replay.eventsPerSec)),
      peakRssMb: Math.max(...runs.map((r) => r.replay.peakRssMb)),
      replayCpuPercent: median(runs.map((r) => r.replay.cpuPercent)),
      ceilingEventsPerSec: median(runs.map((r) => r.ceiling.eventsPerSec)),
      ceilingCpuPercent: median(runs.map((r) => r.ceiling.loopCpuPercent)),
      ratio: median(runs.map((r) => r.ratio)),
      runs,
    }
    rmSync(dir, {recursive: true, force: true})
  }
} finally {
  await sink.stop()
}
console.log('\nSummary (medians):')
for (const r of Object.values(results)) {
  const floor = r.eventsPerSec >= 50_000 && r.peakRssMb < 250
  console.log(
    `  ${fmt(r.events).padStart(9)} events: ${fmt(r.eventsPerSec)} events/s, peak RSS ${r.peakRssMb.toFixed(0)} MB, replay CPU ${fmt(r.replayCpuPercent)}%; ` +
      `sink ceiling ${fmt(r.ceilingEventsPerSec)} events/s (loop CPU ${fmt(r.ceilingCpuPercent)}%); ${(100 * r.ratio).toFixed(1)}% of it; floor (50k/s, < 250 MB) ${floor ? 'MET' : 'MISSED'}`,
  )
}
mkdirSync(path.join(root, 'bench', 'results'), {recursive: true})
writeFileSync(path.join(root, 'bench', 'results', 'replay.json'), JSON.stringify({at: new Date().toISOString(), batchSize, results}, null, 2) + '\n')
console.log('\nwrote bench/results/replay.json')
