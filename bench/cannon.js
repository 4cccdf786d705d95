// The load generator of the honest ceilings (issue 15), run in its own process by bench/run.js and
// bench/delivery.js; same arguments and the same JSON line as bench/load.js, which it replaces:
//
//   node bench/cannon.js --url http://127.0.0.1:PORT --path /v1/track --key WRITEKEY \
//     [--batch 0|N] [--connections 50] [--warmup 1] [--duration 5] [--server-pid PID]
//
// bench/load.js (node:http client, one request in flight per keep-alive socket) saturated its own
// core at about 16k requests/s on this machine: the do-nothing "ceiling" measured the client, not
// the server. This one drives autocannon (its own HTTP/1.1 writer and http-parser-js, no node:http
// client) through its programmatic API: a warm-up run, then a measured run, each on fresh
// connections. Every request gets its own messageId (autocannon's `requests` with `setupRequest`,
// the body built by concatenation around a pre-serialised template, bench/payload.js).
//
// CPU over the measured run, from /proc as bench/processes.js cpuSecondsOf reads it: this process
// (all its threads) and the server's process tree; 100% = one core busy. A generator near 100%
// is saturated, and its row measures the generator: check loadCpuPercent on every row.

import autocannon from 'autocannon'
import {readFileSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {requestBodies} from './payload.js'
import {loadResultLine, readLoadArgs} from './load-args.js'
import {cpuSecondsOf} from './processes.js'

const {args, target} = readLoadArgs('cannon.js', {connections: 50})
const batchSize = Number(args.batch)
const connections = Number(args.connections)
const warmup = Number(args.warmup)
const duration = Number(args.duration)
const eventsPerRequest = batchSize > 0 ? batchSize : 1

const watchdog = setTimeout(() => {
  process.stdout.write(JSON.stringify({error: 'timed out waiting for the server'}) + '\n')
  process.exit(3)
}, (warmup + duration + 30) * 1000)
watchdog.unref()

const body = requestBodies(batchSize)

const authorization = 'Basic ' + Buffer.from(`${args.key}:`).toString('base64')
let acknowledgedEvents = 0 // events in 2xx answers, warm-up included
let firstProblem = null

function run(seconds) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${target.port}`,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 30,
        method: 'POST',
        headers: {'content-type': 'application/json', authorization},
        // One request template whose body is rebuilt for every request: a fresh messageId each time.
        requests: [{method: 'POST', path: args.path, setupRequest: (req) => ({...req, body: body()})}],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    )
    instance.on('response', (_client, statusCode) => {
      if (statusCode >= 200 && statusCode < 300) acknowledgedEvents += eventsPerRequest
      else if (firstProblem === null) firstProblem = `status ${statusCode}`
    })
    instance.on('reqError', (error) => {
      if (firstProblem === null) firstProblem = `error ${error.message}`
    })
  })
}

/** CPU seconds the whole machine has been busy (all cores, /proc/stat; Linux), null elsewhere: shows other load. */
function machineCpuSeconds() {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number)
    const idle = ticks[3] + ticks[4] // idle + iowait
    return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / 100
  } catch {
    return null
  }
}

const serverCpu = () => (args['server-pid'] ? cpuSecondsOf(Number(args['server-pid'])) : null)

if (warmup > 0) await run(warmup)
const mark = {at: performance.now(), self: cpuSecondsOf(process.pid), server: serverCpu(), machine: machineCpuSeconds()}
const result = await run(duration)
const wall = (performance.now() - mark.at) / 1000
const self = cpuSecondsOf(process.pid)
const server = serverCpu()
const machine = machineCpuSeconds()
clearTimeout(watchdog)

const completed = result.requests.total // responses received in the measured run
const seconds = result.duration
const non2xx = result.non2xx
const errors = result.errors + result.timeouts
process.stdout.write(
  loadResultLine({
    generator: 'autocannon',
    path: args.path,
    connections,
    eventsPerRequest,
    bodyBytes: Buffer.byteLength(body()),
    seconds,
    requests: completed,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx,
    errors,
    loadCpuPercent: self === null || mark.self === null ? null : (100 * (self - mark.self)) / wall,
    serverCpuPercent: server === null || mark.server === null ? null : (100 * (server - mark.server)) / wall,
    // Every process on the machine (200% = both cores): well above generator + server = other load.
    machineCpuPercent: machine === null || mark.machine === null ? null : (100 * (machine - mark.machine)) / wall,
    acknowledgedEvents,
    firstProblem,
  }),
)
