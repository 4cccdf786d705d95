// CLI start-up: `cdp --help`, `cdp --version` and `cdp events --help` as whole processes, each
// timed in turn with `node -e 0` (node's own start on this machine, the floor), run alone:
//
//   node bench/startup.js [--rounds 9] [--baseline DIR]
//
// Prints one JSON line: per command the median wall seconds, node's median and their ratio
// (the median of the round-by-round ratios, which holds when a shared machine's speed drifts).
// --baseline DIR times a built checkout of an earlier cdp in the same rounds.

import {execFileSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {performance} from 'node:perf_hooks'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({options: {rounds: {type: 'string', default: '9'}, baseline: {type: 'string'}}})
const commands = [['--help'], ['--version'], ['events', '--help']]
const checkouts = {current: root, ...(args.baseline ? {baseline: path.resolve(args.baseline)} : {})}

function time(argv) {
  const start = performance.now()
  execFileSync(process.execPath, argv, {stdio: 'ignore', env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  return (performance.now() - start) / 1000
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const runs = {}
for (let round = -1; round < Number(args.rounds); round++) {
  for (const command of commands) {
    for (const [name, checkout] of Object.entries(checkouts)) {
      const key = `${name}: cdp ${command.join(' ')}`
      const cdp = time([path.join(checkout, 'bin', 'run.js'), ...command])
      const node = time(['-e', '0'])
      // Round -1 warms the file cache and is not counted.
      if (round >= 0) (runs[key] ??= []).push({cdp, node})
    }
  }
}
const result = Object.fromEntries(
  Object.entries(runs).map(([key, pairs]) => [
    key,
    {seconds: median(pairs.map((p) => p.cdp)), nodeSeconds: median(pairs.map((p) => p.node)), ratio: median(pairs.map((p) => p.cdp / p.node))},
  ]),
)
console.log(JSON.stringify({rounds: Number(args.rounds), ...result}))
