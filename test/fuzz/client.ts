import http from 'node:http'
import type {FuzzCase} from './mutator.js'
import type {Outcome} from './oracle.js'

/** Answers past this are cut: the fuzzer reads status and error bodies, not large listings. */
const maxAnswerBytes = 4 * 1024 * 1024

/**
 * Sends one case over the agent's keep-alive sockets and resolves with what came back; never
 * rejects. A request without a complete answer within `timeoutMs` is destroyed and counted as a
 * hang.
 */
export function send(agent: http.Agent, base: URL, c: FuzzCase, timeoutMs: number): Promise<Outcome> {
  const started = performance.now()
  return new Promise((resolve) => {
    let settled = false
    let reusedSocket = false
    const settle = (outcome: Omit<Outcome, 'ms' | 'reusedSocket'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({...outcome, reusedSocket, ms: Math.round(performance.now() - started)})
    }
    const headers: Record<string, string> = {...c.headers}
    if (c.body && !c.chunked) headers['content-length'] = String(c.body.length)
    const req = http.request({host: base.hostname, port: base.port, method: c.method, path: c.path, headers, agent}, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size <= maxAnswerBytes) chunks.push(chunk)
      })
      res.on('end', () => settle({status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), timedOut: false}))
      res.on('error', (error: NodeJS.ErrnoException) => settle({error: {code: error.code ?? 'error', message: error.message}, timedOut: false}))
      res.on('aborted', () => settle({error: {code: 'aborted', message: `the answer (${res.statusCode}) was cut short`}, timedOut: false}))
    })
    req.on('socket', () => {
      reusedSocket = req.reusedSocket
    })
    // After an early answer the daemon may close while the body is still going out: the answer counts.
    req.on('error', (error: NodeJS.ErrnoException) => settle({error: {code: error.code ?? 'error', message: error.message}, timedOut: false}))
    const timer = setTimeout(() => {
      settle({error: {code: 'timeout', message: `no answer within ${timeoutMs} ms`}, timedOut: true})
      req.destroy()
    }, timeoutMs)
    if (c.body && c.chunked) {
      // Two chunks, so that the body really arrives in pieces.
      const half = Math.floor(c.body.length / 2)
      req.write(c.body.subarray(0, half))
      req.end(c.body.subarray(half))
    } else {
      req.end(c.body)
    }
  })
}

/** A description of a request that reproduces it: method, path, headers and the body (JSON, or hex when it is not text). */
export function describeRequest(c: FuzzCase, maxBody = 600): string {
  const lines = [`${c.method} ${c.path.length > 200 ? c.path.slice(0, 200) + '…' : c.path}`]
  for (const [name, value] of Object.entries(c.headers)) lines.push(`${name}: ${value.length > 120 ? value.slice(0, 120) + '…' : value}`)
  if (c.chunked) lines.push('transfer-encoding: chunked')
  if (c.body && c.body.length > 0) {
    const text = c.body.toString('utf8')
    const printable = !c.headers['content-encoding'] && Buffer.from(text, 'utf8').equals(c.body)
    const shown = printable ? JSON.stringify(text.length > maxBody ? text.slice(0, maxBody) : text) : c.body.subarray(0, maxBody / 2).toString('hex')
    lines.push(`body (${c.body.length} bytes${printable ? '' : ', hex'}${c.body.length > maxBody ? ', start' : ''}): ${shown}`)
  }
  return lines.join('\n  ')
}
