// Ingest of this checkout against another build of cdp, in the same run (the machine is shared and
// noisy, so only ratios measured side by side mean anything):
//
//   node bench/compare.js --before /path/to/other/checkout [--rounds 3] [--duration 5] [--plan | --init] [--generator cannon|load]
//
// The other checkout must be built (`npm ci` or `npm run build` there). Each round runs, for each
// scenario, the other build then this one, back to back, on fresh workspaces with the real
// `cdp dev` CLI and autocannon (bench/cannon.js; bench/load.js with --generator load) as the load
// generator (its CPU is reported beside each figure: a client near 100% measures the client).
// --init makes each workspace with this checkout's `cdp init --yes` (a plan the event is not in). Prints one JSON line: medians per scenario and build,
// and this ÷ before.

import {execFileSync} from 'node:child_process'
import {cpSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {runJson, startServer} from './processes.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({
  options: {
    before: {type: 'string'},
    rounds: {type: 'string', default: '3'},
    warmup: {type: 'string', default: '1'},
    duration: {type: 'string', default: '5'},
    // The E-commerce plan in each workspace, so every event is checked (the payload follows it).
    plan: {type: 'boolean', default: false},
    // A workspace made by `cdp init --yes`: a plan that does not have the event (every event unplanned).
    init: {type: 'boolean', default: false},
    generator: {type: 'string', default: 'cannon'},
  },
})
if (!args.before) {
  console.error('Give the checkout to compare with: --before DIR (built, with node_modules).')
  process.exit(2)
}
const builds = {before: path.resolve(args.before), after: root}
const scenarios = [
  {id: 'single32', batch: 0, connections: 32, pathname: '/v1/track'},
  {id: 'batch100x8', batch: 100, connections: 8, pathname: '/v1/batch'},
]

async function measure(checkout, scenario) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-compare-'))
  if (args.plan) cpSync(path.join(root, 'test', 'fixtures', 'ecommerce', 'plan'), path.join(dir, 'plan'), {recursive: true})
  if (args.init) execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'init', dir, '--yes'], {stdio: 'ignore', env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  const server = await startServer([path.join(checkout, 'bin', 'run.js'), 'dev', '--port', '0', '--host', '127.0.0.1', '--json', '--dir', dir], {
    CDP_LOG: 'warn',
    OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
  })
  try {
    return await runJson(path.join(root, 'bench', args.generator === 'load' ? 'load.js' : 'cannon.js'), [
      '--url', server.url,
      '--path', scenario.pathname,
      `--key=${server.sources[0].writeKey}`,
      '--batch', String(scenario.batch),
      '--connections', String(scenario.connections),
      '--warmup', args.warmup,
      '--duration', args.duration,
      '--server-pid', String(server.pid),
    ])
  } finally {
    await server.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const runs = {}
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const scenario of scenarios) {
    for (const [name, checkout] of Object.entries(builds)) {
      const result = await measure(checkout, scenario)
      const key = `${scenario.id}.${name}`
      ;(runs[key] ??= []).push(result)
      console.error(`round ${round} ${key}: ${Math.round(result.eventsPerSec)} events/s, load generator CPU ${Math.round(result.loadCpuPercent)}%, server CPU ${Math.round(result.serverCpuPercent ?? NaN)}%, non-2xx ${result.non2xx}, errors ${result.errors}`)
    }
  }
}

const summary = {}
for (const scenario of scenarios) {
  const of = (name) => runs[`${scenario.id}.${name}`]
  const eventsPerSecond = (name) => median(of(name).map((r) => r.eventsPerSec))
  // The server's CPU per event (µs): steadier than the rate when other tenants take the cores.
  const cpuPerEvent = (r) => (r.serverCpuPercent * 10_000) / r.eventsPerSec
  const side = (name) => ({
    eventsPerSecond: Math.round(eventsPerSecond(name)),
    loadCpuPercent: Math.round(median(of(name).map((r) => r.loadCpuPercent))),
    serverCpuMicrosPerEvent: Number(median(of(name).map(cpuPerEvent)).toFixed(1)),
  })
  summary[scenario.id] = {
    before: side('before'),
    after: side('after'),
    afterOverBefore: Number((eventsPerSecond('after') / eventsPerSecond('before')).toFixed(3)),
    roundRatios: of('after').map((r, i) => Number((r.eventsPerSec / of('before')[i].eventsPerSec).toFixed(3))),
    cpuPerEventRatios: of('after').map((r, i) => Number((cpuPerEvent(r) / cpuPerEvent(of('before')[i])).toFixed(3))),
  }
}
console.log(JSON.stringify({before: builds.before, plan: args.plan, init: args.init, rounds: Number(args.rounds), duration: Number(args.duration), summary}))
