// Ordinary valid track calls over keep-alive connections, to catch requests that end with no
// answer at all (ECONNRESET, "socket hang up") and say on which socket and after how long idle:
//
//   npx tsx test/fuzz/keep-alive-load.ts --connections 50 --requests 200000 --seconds 120
//   npx tsx test/fuzz/keep-alive-load.ts --pause-every 5000 --pause-ms 5000 --agent-timeout 0
//   npx tsx test/fuzz/keep-alive-load.ts --url http://127.0.0.1:8237 --key WRITEKEY
//
// Without --url it starts a `cdp dev` from dist/. Bounded by --requests and --seconds, whichever
// comes first. Prints one JSON line: counts, the errors with their timeline, and the server's
// Keep-Alive header.
import http from 'node:http'
import type {Socket} from 'node:net'
import {parseArgs} from 'node:util'
import {startFuzzDaemon, type FuzzDaemon} from './daemon.js'
import {realisticMessage} from './messages.js'
import {Rng} from './prng.js'

const {values: args} = parseArgs({
  options: {
    url: {type: 'string'},
    key: {type: 'string'},
    connections: {type: 'string', default: '50'},
    requests: {type: 'string', default: '200000'},
    seconds: {type: 'string', default: '120'},
    // A client that goes quiet now and then lets sockets sit idle in its pool: the idle race.
    'pause-every': {type: 'string', default: '0'},
    'pause-ms': {type: 'string', default: '0'},
    // 0: Node's Agent default (no idle timeout of its own; it then ignores the server's hint).
    'agent-timeout': {type: 'string', default: '0'},
    scheduling: {type: 'string', default: 'lifo'},
    // node: node:http with a keep-alive Agent; fetch: Node's fetch (undici), as analytics-node sends.
    client: {type: 'string', default: 'node'},
    // "A-B": each request waits a random A to B ms after the previous answer (sockets idle that long).
    'idle-ms': {type: 'string'},
    // Connections sending 100-event batches nonstop beside the measured ones: a busy daemon.
    background: {type: 'string', default: '0'},
  },
})

const connections = Number(args.connections)
const total = Number(args.requests)
const deadline = Date.now() + Number(args.seconds) * 1000
const pauseEvery = Number(args['pause-every'])
const pauseMs = Number(args['pause-ms'])

let daemon: FuzzDaemon | undefined
let url = args.url
let key = args.key
if (!url) {
  daemon = await startFuzzDaemon()
  url = daemon.url
  key = daemon.sources[0].writeKey
}
const base = new URL(url)
// One agent of one socket per connection, so that a connection's idle time is its worker's wait.
const agentOptions: http.AgentOptions = {keepAlive: true, maxSockets: 1, scheduling: args.scheduling as 'lifo' | 'fifo'}
if (Number(args['agent-timeout']) > 0) agentOptions.timeout = Number(args['agent-timeout'])
const agents = Array.from({length: connections}, () => new http.Agent(agentOptions))
const authorization = 'Basic ' + Buffer.from(`${key}:`).toString('base64')
const rng = new Rng(1)

/** When each socket last finished an answer, and how many it served. */
const lastAnswer = new WeakMap<Socket, {at: number; served: number}>()
const started = Date.now()
const counts = {ok: 0, non200: 0, failed: 0, reusedErrors: 0, newSocketErrors: 0, sockets: 0}
const errors: {at: number; code: string; reused: boolean; idleMs?: number; served?: number; message: string}[] = []
let keepAliveHeader: string | undefined
let sent = 0

async function onceWithFetch(n: number): Promise<void> {
  const body = JSON.stringify(realisticMessage(rng, 'track', `ka-${started.toString(36)}-${n}`))
  try {
    const response = await fetch(new URL('/v1/track', base), {method: 'POST', headers: {authorization, 'content-type': 'application/json'}, body})
    keepAliveHeader ??= response.headers.get('keep-alive') ?? undefined
    await response.arrayBuffer()
    if (response.status === 200) counts.ok++
    else counts.non200++
  } catch (error) {
    const cause = (error as {cause?: NodeJS.ErrnoException}).cause
    counts.failed++
    errors.push({at: Date.now() - started, code: cause?.code ?? 'error', reused: false, message: `${(error as Error).message}: ${cause?.message ?? ''}`})
  }
}

function once(n: number, agent: http.Agent): Promise<void> {
  if (args.client === 'fetch') return onceWithFetch(n)
  const body = JSON.stringify(realisticMessage(rng, 'track', `ka-${started.toString(36)}-${n}`))
  return new Promise((resolve) => {
    let socketInfo: {idleMs?: number; served?: number} = {}
    const req = http.request(
      {host: base.hostname, port: base.port, method: 'POST', path: '/v1/track', agent, headers: {authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}},
      (res) => {
        keepAliveHeader ??= String(res.headers['keep-alive'])
        res.resume()
        res.on('end', () => {
          if (res.statusCode === 200) counts.ok++
          else counts.non200++
          const socket = req.socket as Socket
          const previous = lastAnswer.get(socket)
          lastAnswer.set(socket, {at: Date.now(), served: (previous?.served ?? 0) + 1})
          resolve()
        })
      },
    )
    req.on('socket', (socket: Socket) => {
      const previous = lastAnswer.get(socket)
      if (!previous) counts.sockets++
      socketInfo = previous ? {idleMs: Date.now() - previous.at, served: previous.served} : {}
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      counts.failed++
      if (req.reusedSocket) counts.reusedErrors++
      else counts.newSocketErrors++
      errors.push({at: Date.now() - started, code: error.code ?? 'error', reused: req.reusedSocket, ...socketInfo, message: error.message})
      resolve()
    })
    req.end(body)
  })
}

/** Until when every worker waits: a pause of the whole client, ±20% so idle times spread around pause-ms. */
let pausedUntil = 0

const [idleFrom, idleTo] = (args['idle-ms'] ?? '0-0').split('-').map(Number)

async function worker(agent: http.Agent): Promise<void> {
  while (sent < total && Date.now() < deadline) {
    const n = sent++
    if (pauseEvery > 0 && n > 0 && n % pauseEvery === 0) pausedUntil = Date.now() + pauseMs * (0.8 + 0.4 * Math.random())
    const wait = Math.max(pausedUntil - Date.now(), idleTo > 0 ? idleFrom + Math.random() * (idleTo - idleFrom) : 0)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    await once(n, agent)
  }
}

let measuredDone = false
const backgroundAgent = new http.Agent({keepAlive: true, maxSockets: Number(args.background)})
const batchBody = JSON.stringify({batch: Array.from({length: 100}, (_, i) => realisticMessage(rng, 'track', `bg-${started.toString(36)}-${i}`))})
let backgroundRequests = 0
async function backgroundWorker(): Promise<void> {
  while (!measuredDone) {
    await new Promise<void>((resolve) => {
      const req = http.request({host: base.hostname, port: base.port, method: 'POST', path: '/v1/batch', agent: backgroundAgent, headers: {authorization, 'content-length': Buffer.byteLength(batchBody)}}, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', () => resolve())
      req.end(batchBody)
    })
    backgroundRequests++
  }
}

try {
  const background = Array.from({length: Number(args.background)}, backgroundWorker)
  await Promise.all(agents.map(worker))
  measuredDone = true
  await Promise.all(background)
} finally {
  backgroundAgent.destroy()
  for (const agent of agents) agent.destroy()
  await daemon?.stop()
}
const ms = Date.now() - started
process.stdout.write(
  JSON.stringify({
    requests: sent,
    seconds: ms / 1000,
    perSecond: Math.round((sent / ms) * 1000),
    connections,
    client: args.client,
    agent: args.client === 'fetch' ? null : {timeout: agentOptions.timeout ?? 0, scheduling: args.scheduling},
    pause: pauseEvery > 0 ? {every: pauseEvery, ms: pauseMs} : null,
    idleMs: args['idle-ms'] ?? null,
    backgroundRequests,
    serverKeepAlive: keepAliveHeader,
    ...counts,
    failedPer10k: Number(((counts.failed / Math.max(sent, 1)) * 10_000).toFixed(2)),
    errors: errors.slice(0, 50),
  }) + '\n',
)
