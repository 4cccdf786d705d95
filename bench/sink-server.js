// The delivery sink, run in its own process by bench/delivery.js: a node:http server that answers
// 200 to everything and counts the events it receives, per path. A body is parsed as JSON and
// counted as a JSON array of messages (a batched webhook), {"batch":[...]} (Segment's /v1/batch),
// or a single message (anything else that parses).
//
//   node bench/sink-server.js [--latency-ms 0]
//
// GET /stats answers the counts: {total, paths: {"/webhook": {...}, "/v1/batch": {...}}, cpuSeconds},
// each with requests, events, bytes, parseErrors and the epoch ms (fractional) of the first and
// last request that carried events (when its body had arrived) and the events of the first one, so
// that the driver can compute a delivery rate: (events − firstRequestEvents) ÷ (last − first).
// DELETE /stats resets them. --latency-ms delays every answer (a sink that is far away).
// Prints {"event":"ready","url":...} on stdout; SIGTERM stops it.

import {createServer} from 'node:http'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

const {values: args} = parseArgs({options: {'latency-ms': {type: 'string', default: '0'}}})
const latencyMs = Number(args['latency-ms'])

const ok = Buffer.from('{"success":true}')
const now = () => performance.timeOrigin + performance.now()

function emptyCounts() {
  return {requests: 0, events: 0, bytes: 0, parseErrors: 0, firstEventAt: null, firstRequestEvents: 0, lastEventAt: null}
}
let total = emptyCounts()
let paths = new Map()

function countEvents(text) {
  const body = JSON.parse(text)
  if (Array.isArray(body)) return body.length
  if (body && typeof body === 'object' && Array.isArray(body.batch)) return body.batch.length
  return 1
}

function add(counts, events, bytes, at, parseError) {
  counts.requests++
  counts.bytes += bytes
  if (parseError) counts.parseErrors++
  if (events === 0) return
  counts.events += events
  if (counts.firstEventAt === null) {
    counts.firstEventAt = at
    counts.firstRequestEvents = events
  }
  counts.lastEventAt = at
}

function answer(res, status, body) {
  res.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': body.length})
  res.end(body)
}

const server = createServer({keepAlive: true, requestTimeout: 120_000}, (req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const pathname = (req.url ?? '/').split('?')[0]
    if (pathname === '/stats' && req.method === 'GET') {
      const cpu = process.cpuUsage()
      return answer(res, 200, Buffer.from(JSON.stringify({total, paths: Object.fromEntries(paths), cpuSeconds: (cpu.user + cpu.system) / 1e6, now: now()})))
    }
    if (pathname === '/stats' && req.method === 'DELETE') {
      total = emptyCounts()
      paths = new Map()
      return answer(res, 200, ok)
    }
    const at = now()
    const body = Buffer.concat(chunks)
    let events = 0
    let parseError = false
    if (body.length > 0) {
      try {
        events = countEvents(body.toString('utf8'))
      } catch {
        parseError = true
      }
    }
    let counts = paths.get(pathname)
    if (!counts) paths.set(pathname, (counts = emptyCounts()))
    add(counts, events, body.length, at, parseError)
    add(total, events, body.length, at, parseError)
    if (latencyMs > 0) setTimeout(() => answer(res, 200, ok), latencyMs)
    else answer(res, 200, ok)
  })
})
server.keepAliveTimeout = 5_000

server.listen(0, '127.0.0.1', () => {
  const {port} = server.address()
  process.stdout.write(JSON.stringify({event: 'ready', url: `http://127.0.0.1:${port}`, port, sources: [{name: 'sink', writeKey: 'sink'}]}) + '\n')
})

process.on('SIGTERM', () => {
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
