// Where the daemon's time goes under load (after `npm run build`):
//
//   node bench/profile.js [--batch 0|100] [--connections 32|8] [--duration 5] [--top 25]
//                         [--destinations webhook,file,segment,postgres]
//
// Starts `cdp dev` under `node --cpu-prof`, drives it with bench/load.js, stops it with SIGTERM
// (the profile is written on exit) and prints the functions with the most self time, then the
// same grouped by package/file. The .cpuprofile is kept in bench/results/ for Chrome DevTools.
// --destinations configures those destinations in a cdp.json, as bench/delivery.js does (webhook
// with batchSize 100 and segment to bench/sink-server.js, file, postgres to bench/postgres.js), so
// that the profile shows what delivering costs the daemon while it ingests.

import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({
  options: {
    batch: {type: 'string', default: '0'},
    connections: {type: 'string'},
    warmup: {type: 'string', default: '1'},
    duration: {type: 'string', default: '5'},
    top: {type: 'string', default: '25'},
    destinations: {type: 'string', default: ''},
  },
})
const batch = Number(args.batch)
const connections = args.connections ?? (batch > 0 ? '8' : '32')

const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-profile-'))
const profDir = path.join(dir, 'prof')
const wanted = args.destinations.split(',').filter(Boolean)
let sink
let postgres
if (wanted.length > 0) {
  const {startServer} = await import('./processes.js')
  const destinations = []
  if (wanted.includes('webhook') || wanted.includes('segment')) sink = await startServer([path.join(root, 'bench', 'sink-server.js')])
  for (const type of wanted) {
    if (type === 'webhook') destinations.push({name: 'webhook', type, url: `${sink.url}/webhook`, batchSize: 100})
    else if (type === 'segment') destinations.push({name: 'segment', type, writeKey: 'bench-forward-key', url: sink.url})
    else if (type === 'file') destinations.push({name: 'file', type, path: 'out/events.ndjson'})
    else if (type === 'postgres') {
      const {createPostgres} = await import('./postgres.js')
      postgres = await createPostgres()
      await postgres.start()
      await postgres.createDatabase('bench_profile')
      destinations.push({name: 'postgres', type, connectionString: postgres.connectionString('bench_profile'), schema: 'bench'})
    } else throw new Error(`unknown destination type ${type}`)
  }
  mkdirSync(path.join(dir, 'ws'), {recursive: true})
  writeFileSync(path.join(dir, 'ws', 'cdp.json'), JSON.stringify({sources: [{name: 'bench', writeKey: 'bench-write-key'}], destinations}))
}
const daemon = spawn(
  process.execPath,
  // --no-node-snapshot as the relaunch would add it: without it bin/run.js starts cdp dev again in a
  // child, and the profile would be the launcher's.
  ['--no-node-snapshot', '--cpu-prof', '--cpu-prof-dir', profDir, path.join(root, 'bin', 'run.js'), 'dev', '--port', '0', '--host', '127.0.0.1', '--json', '--dir', path.join(dir, 'ws')],
  {cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, CDP_LOG: 'warn', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}},
)
const exited = new Promise((resolve) => daemon.on('close', resolve))
const ready = await new Promise((resolve, reject) => {
  let out = ''
  daemon.stdout.on('data', (d) => {
    out += d
    const line = out.split('\n').find((l) => l.includes('"event":"ready"'))
    if (line) resolve(JSON.parse(line))
  })
  exited.then((code) => reject(new Error(`cdp dev exited ${code} before it was ready`)))
})

const load = spawn(
  process.execPath,
  [path.join(root, 'bench', 'load.js'), '--url', ready.url, '--path', batch > 0 ? '/v1/batch' : '/v1/track', `--key=${ready.sources[0].writeKey}`, '--batch', String(batch), '--connections', connections, '--warmup', args.warmup, '--duration', args.duration, '--server-pid', String(daemon.pid)],
  {cwd: root, stdio: ['ignore', 'pipe', 'inherit']},
)
let loadOut = ''
load.stdout.on('data', (d) => (loadOut += d))
await new Promise((resolve) => load.on('close', resolve))
daemon.kill('SIGTERM')
await exited
await sink?.stop()
await postgres?.remove()
let result
try {
  result = JSON.parse(loadOut.trim().split('\n').pop())
} catch {
  rmSync(dir, {recursive: true, force: true})
  console.error(`the load generator gave no result:\n${loadOut}`)
  process.exit(1)
}
console.log(`load under --cpu-prof: ${Math.round(result.requestsPerSec)} req/s, ${Math.round(result.eventsPerSec)} events/s, p50 ${result.p50Ms?.toFixed(2)} ms, p99 ${result.p99Ms?.toFixed(2)} ms, server CPU ${Math.round(result.serverCpuPercent)}%\n`)

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
const profile = JSON.parse(readFileSync(path.join(profDir, file), 'utf8'))
const keep = path.join(root, 'bench', 'results', `daemon-${batch > 0 ? 'batch' : 'single'}${wanted.length > 0 ? `-${wanted.join('-')}` : ''}.cpuprofile`)
mkdirSync(path.dirname(keep), {recursive: true})
renameSync(path.join(profDir, file), keep)
rmSync(dir, {recursive: true, force: true})

// Self time per node = its share of samples × the time between samples.
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

function where(frame) {
  const url = frame.url || ''
  if (!url) return ''
  const short = url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, 'node_modules/')
  return `${short}:${frame.lineNumber + 1}`
}
function group(frame) {
  const url = frame.url || ''
  if (frame.functionName === '(idle)' || frame.functionName === '(program)' || frame.functionName === '(garbage collector)') return frame.functionName
  if (!url) return '(native / builtin)'
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/').replace(/^node:internal\/?/, 'node:internal/')
  if (url.includes('node_modules/')) return 'node_modules/' + url.split('node_modules/')[1].split('/')[0]
  return url.replace(`file://${root}/`, '')
}

const functions = new Map()
const groups = new Map()
for (const [id, us] of selfUs) {
  const frame = byId.get(id).callFrame
  const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}`
  functions.set(key, (functions.get(key) ?? 0) + us)
  const g = group(frame)
  groups.set(g, (groups.get(g) ?? 0) + us)
}

const show = (map, n) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
    .join('\n')

console.log(`top ${args.top} functions by self time (of ${(total / 1e6).toFixed(1)} s sampled, start-up and shutdown included):`)
console.log(show(functions, Number(args.top)))
console.log('\nself time by file / package:')
console.log(show(groups, 20))
console.log(`\nprofile kept in ${path.relative(root, keep)}`)
