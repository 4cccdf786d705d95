// The long fuzz run: `npm run fuzz` (100,000 requests), or with flags after `--`:
//
//   npm run fuzz -- --seed 7 --requests 20000 --connections 8
//   npm run fuzz -- --seed 7 --first 1234 --requests 1 --show   (one request again, printed whole)
//
// CDP_FUZZ_SEED and CDP_FUZZ_REQUESTS stand in for --seed and --requests. It starts a real
// `cdp dev` from dist/ (npm run fuzz builds first), prints progress to stderr and the summary to
// stdout, and exits 1 when anything failed.
import {writeFileSync} from 'node:fs'
import {parseArgs} from 'node:util'
import {describeRequest} from './client.js'
import {startFuzzDaemon} from './daemon.js'
import {formatReport, runFuzz} from './fuzzer.js'
import {generateCase} from './mutator.js'

const {values: args} = parseArgs({
  options: {
    seed: {type: 'string', default: process.env.CDP_FUZZ_SEED ?? String(Date.now() % 1_000_000)},
    requests: {type: 'string', default: process.env.CDP_FUZZ_REQUESTS ?? '100000'},
    first: {type: 'string', default: '0'},
    connections: {type: 'string', default: '8'},
    timeout: {type: 'string', default: '15000'},
    show: {type: 'boolean', default: false},
    report: {type: 'string'},
    keep: {type: 'boolean', default: false},
  },
})

const seed = Number(args.seed)
const requests = Number(args.requests)
const first = Number(args.first)
if (!Number.isInteger(seed) || !Number.isInteger(requests) || requests < 1 || !Number.isInteger(first) || first < 0) {
  process.stderr.write('usage: npm run fuzz -- [--seed N] [--requests N] [--first INDEX] [--connections N] [--timeout MS] [--show] [--report FILE] [--keep]\n')
  process.exit(2)
}

const daemon = await startFuzzDaemon({keep: args.keep})
if (args.show) {
  for (let index = first; index < first + requests; index++) {
    const c = generateCase(seed, index, daemon.sources)
    process.stdout.write(`#${index} ${c.kind}${c.detail ? ` (${c.detail})` : ''}\n  ${describeRequest(c, Number.MAX_SAFE_INTEGER)}\n`)
  }
}
process.stderr.write(`cdp dev at ${daemon.url} (workspace ${daemon.dir}); seed ${seed}, ${requests} requests from index ${first}\n`)
let report
try {
  report = await runFuzz({
    url: daemon.url,
    database: daemon.database,
    sources: daemon.sources,
    seed,
    first,
    requests,
    connections: Number(args.connections),
    timeoutMs: Number(args.timeout),
    daemonGone: daemon.gone,
    progressEvery: 5000,
    onProgress: (partial) => {
      const failures = Object.values(partial.failureClasses).reduce((n, c) => n + c.count, 0)
      process.stderr.write(`  ${partial.done}/${requests} in ${(partial.ms / 1000).toFixed(0)} s: ${partial.byOutcome['2xx']} 2xx, ${partial.byOutcome['4xx']} 4xx, ${partial.byOutcome['5xx']} 5xx, ${partial.byOutcome['no-answer']} no answer, ${partial.byOutcome.hang} hangs; ${failures} failures\n`)
    },
  })
} finally {
  const logged = daemon.errorLines()
  await daemon.stop()
  if (logged.length > 0) process.stderr.write(`the daemon logged ${logged.length} error lines; the first: ${logged.slice(0, 5).join('\n  ')}\n`)
}
process.stdout.write(formatReport(report) + '\n')
if (args.report) writeFileSync(args.report, JSON.stringify(report, null, 2))
const failed = Object.keys(report.failureClasses).length > 0 || report.daemonProblem !== undefined
process.exit(failed ? 1 : 0)
