import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface SinkRequest {
  /** 1 for the first request the sink received. */
  n: number
  /** Epoch ms it arrived. */
  at: number
  path: string
  headers: IncomingMessage['headers']
  body: string
  /** What the sink answered: its status, or 'hang' when it never did. */
  answered: number | 'hang'
}

/** How the sink answers a request: a status (with optional headers and body), or 'hang' to never answer. */
export type SinkAnswer = {status: number; headers?: Record<string, string>; body?: string} | 'hang'

export interface Sink {
  url: string
  requests: SinkRequest[]
  /** Bodies of the requests answered 2xx, parsed; arrays (batches) flattened to their messages. */
  accepted(): Record<string, any>[]
  /** Changes how later requests are answered. */
  answerWith(answer: (request: Omit<SinkRequest, 'answered'>) => SinkAnswer): void
  close(): Promise<void>
}

/** A real HTTP endpoint on 127.0.0.1 that records what it receives and answers as scripted (200 by default). */
export async function startSink(answer: (request: Omit<SinkRequest, 'answered'>) => SinkAnswer = () => ({status: 200})): Promise<Sink> {
  let script = answer
  const requests: SinkRequest[] = []
  const hanging = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = {n: requests.length + 1, at: Date.now(), path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8')}
      const reply = script(request)
      requests.push({...request, answered: reply === 'hang' ? 'hang' : reply.status})
      if (reply === 'hang') {
        hanging.add(res)
        return
      }
      res.writeHead(reply.status, {'content-type': 'text/plain', ...reply.headers})
      res.end(reply.body ?? (reply.status < 300 ? 'ok' : `status ${reply.status}`))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted: () =>
      requests
        .filter((r) => typeof r.answered === 'number' && r.answered < 300)
        .flatMap((r) => {
          const body = JSON.parse(r.body)
          return Array.isArray(body) ? body : Array.isArray(body.batch) ? body.batch : [body]
        }),
    answerWith(next) {
      script = next
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
