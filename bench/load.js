// The load generator, run in its own process by bench/run.js:
//
//   node bench/load.js --url http://127.0.0.1:PORT --path /v1/track --key WRITEKEY \
//     [--batch 0|N] [--connections 32] [--warmup 1] [--duration 5]
//
// Keeps `connections` requests in flight on a keep-alive Agent (one socket each) for
// warmup + duration seconds, then stops by itself, waits for the requests in flight and prints
// one JSON line on stdout: requests/s, events/s, p50/p99 latency (ms) over the measured window,
// non-2xx and error counts, and how many events were acknowledged in total (warm-up included).
// --batch 0 posts one event per request; --batch N posts {"batch":[N events]}.

import http from 'node:http'
import {performance} from 'node:perf_hooks'
import {requestBodies} from './payload.js'
import {loadResultLine, readLoadArgs} from './load-args.js'
import {cpuSecondsOf} from './processes.js'

const {args, target} = readLoadArgs('load.js', {connections: 32})
const batchSize = Number(args.batch)
const connections = Number(args.connections)
const warmupMs = Number(args.warmup) * 1000
const durationMs = Number(args.duration) * 1000
const eventsPerRequest = batchSize > 0 ? batchSize : 1

// Bounded in time even if the server stops answering: give up 15 s after the planned end.
const watchdog = setTimeout(() => {
  process.stdout.write(JSON.stringify({error: 'timed out waiting for the server'}) + '\n')
  process.exit(3)
}, warmupMs + durationMs + 15_000)
watchdog.unref()

const body = requestBodies(batchSize)

const agent = new http.Agent({keepAlive: true, maxSockets: connections, maxFreeSockets: connections})
const authorization = 'Basic ' + Buffer.from(`${args.key}:`).toString('base64')

/** CPU seconds (user + system) the server process and its children have used so far, from /proc (Linux); null elsewhere. */
function serverCpuSeconds() {
  return args['server-pid'] ? cpuSecondsOf(Number(args['server-pid'])) : null
}

// CPU use of both processes over the measured window: 100% = one core busy.
let cpuMark
setTimeout(() => (cpuMark = {at: performance.now(), self: process.cpuUsage(), server: serverCpuSeconds()}), warmupMs)
let cpu = {selfPercent: null, serverPercent: null}
function closeCpuWindow() {
  if (!cpuMark || cpu.selfPercent !== null) return
  const wall = (performance.now() - cpuMark.at) / 1000
  const self = process.cpuUsage(cpuMark.self)
  const server = serverCpuSeconds()
  cpu = {
    selfPercent: (100 * (self.user + self.system)) / 1e6 / wall,
    serverPercent: server === null || cpuMark.server === null ? null : (100 * (server - cpuMark.server)) / wall,
  }
}

const start = performance.now()
const measureFrom = start + warmupMs
const stopAt = measureFrom + durationMs

let measured = 0 // requests completed inside the measured window
let non2xx = 0
let errors = 0
let acknowledgedEvents = 0 // events in 2xx answers, warm-up and tail included
let firstNon2xx
const latencies = [] // ms, requests completed inside the measured window

function send() {
  return new Promise((resolve) => {
    const payload = body()
    const sentAt = performance.now()
    const req = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: args.path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization,
        },
      },
      (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () => {
          const doneAt = performance.now()
          const ok = res.statusCode >= 200 && res.statusCode < 300
          if (ok) acknowledgedEvents += eventsPerRequest
          if (doneAt >= measureFrom && doneAt <= stopAt) {
            measured++
            latencies.push(doneAt - sentAt)
            if (!ok) non2xx++
          }
          if (!ok && firstNon2xx === undefined) firstNon2xx = `${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`
          resolve()
        })
      },
    )
    req.on('error', (error) => {
      errors++
      if (firstNon2xx === undefined) firstNon2xx = `error ${error.message}`
      resolve()
    })
    req.end(payload)
  })
}

async function connection() {
  while (performance.now() < stopAt) await send()
  closeCpuWindow() // the first connection to stop closes the window, before the tail drains
}

await Promise.all(Array.from({length: connections}, connection))
agent.destroy()

latencies.sort((a, b) => a - b)
const pick = (q) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))])
const seconds = durationMs / 1000
clearTimeout(watchdog)
process.stdout.write(
  loadResultLine({
    path: args.path,
    connections,
    eventsPerRequest,
    bodyBytes: Buffer.byteLength(body()),
    seconds,
    requests: measured,
    p50Ms: pick(0.5),
    p99Ms: pick(0.99),
    non2xx,
    errors,
    loadCpuPercent: cpu.selfPercent,
    serverCpuPercent: cpu.serverPercent,
    acknowledgedEvents,
    firstProblem: firstNon2xx ?? null,
  }),
)
