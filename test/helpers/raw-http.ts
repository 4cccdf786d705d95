import {connect, type Socket} from 'node:net'

/** An HTTP answer read off a raw socket: header names lowercased. */
export interface RawAnswer {
  status: number
  headers: Record<string, string>
  /** The body as text (JSON parsed into `json` when it is JSON). */
  text: string
  json: any
}

export interface RawRequest {
  method: string
  path: string
  /** Sent exactly as given, in order: no Host is added unless listed (an attacker's browser controls nothing else either). */
  headers?: [string, string][]
  body?: Buffer | string
  /** Send the body with Transfer-Encoding: chunked (in 16 KB chunks) instead of Content-Length. */
  chunked?: boolean
  /** HTTP/1.0 requests may leave out Host. */
  version?: '1.0' | '1.1'
}

/** Host: 127.0.0.1:<port>, as a browser on the daemon's own address sends it. */
export function loopbackHost(port: number): [string, string] {
  return ['Host', `127.0.0.1:${port}`]
}

/** What Chromium sends with fetch() or XHR from a page at `origin` to another site. */
export function crossSiteFetch(origin: string): [string, string][] {
  return [
    ['Origin', origin],
    ['Sec-Fetch-Site', 'cross-site'],
    ['Sec-Fetch-Mode', 'cors'],
    ['Sec-Fetch-Dest', 'empty'],
  ]
}

/** The names of an answer's CORS headers. */
export function corsHeaders(answer: RawAnswer): string[] {
  return Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))
}

function requestBytes(request: RawRequest): Buffer {
  const lines = [`${request.method} ${request.path} HTTP/${request.version ?? '1.1'}`, ...(request.headers ?? []).map(([name, value]) => `${name}: ${value}`)]
  const body = request.body === undefined ? undefined : Buffer.from(request.body)
  if (body && request.chunked) {
    lines.push('Transfer-Encoding: chunked')
    const chunks: Buffer[] = [Buffer.from(lines.join('\r\n') + '\r\n\r\n')]
    for (let at = 0; at < body.length; at += 16_384) {
      const chunk = body.subarray(at, at + 16_384)
      chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
    }
    chunks.push(Buffer.from('0\r\n\r\n'))
    return Buffer.concat(chunks)
  }
  if (body) lines.push(`Content-Length: ${body.length}`)
  lines.push('Connection: close')
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body ?? Buffer.alloc(0)])
}

/** Parses one response from the bytes read; undefined until its head and Content-Length body are all there. */
function parseAnswer(bytes: Buffer, closed: boolean): RawAnswer | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n')
  if (headEnd === -1) return undefined
  const [statusLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length'])
  const bodyBytes = bytes.subarray(headEnd + 4)
  // A stream (no length): the head is enough.
  if (length === undefined && !closed && !headers['content-type']?.startsWith('text/event-stream')) return undefined
  if (length !== undefined && bodyBytes.length < length) return undefined
  const text = bodyBytes.subarray(0, length ?? 0).toString('utf8')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {}
  return {status: Number(statusLine.split(' ')[1]), headers, text, json}
}

/**
 * Sends one request over a new TCP connection exactly as written, the whole request before reading
 * anything (as a client that uploads first and then waits for the answer), and reads the answer.
 * Rejects when the connection ends without a whole answer, with what was read.
 */
export function rawRequest(port: number, request: RawRequest, options: {timeoutMs?: number} = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({port, host: '127.0.0.1'})
    socket.pause()
    const received: Buffer[] = []
    let settled = false
    const settle = (error?: Error, answer?: RawAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(answer as RawAnswer)
    }
    const timer = setTimeout(() => settle(new Error(`no answer to ${request.method} ${request.path} within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000)
    const tryParse = (closed: boolean) => {
      const answer = parseAnswer(Buffer.concat(received), closed)
      if (answer) settle(undefined, answer)
      else if (closed) settle(new Error(`the connection closed without a whole answer (read ${Buffer.concat(received).length} bytes: ${JSON.stringify(Buffer.concat(received).toString('latin1').slice(0, 200))})`))
    }
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      tryParse(false)
    })
    socket.on('end', () => tryParse(true))
    socket.on('error', (error) => settle(new Error(`${error.message} after reading ${Buffer.concat(received).length} bytes`)))
    socket.on('connect', async () => {
      // In 64 KB writes, each waiting for the one before, as an SDK streams an upload: a server
      // that closes mid-body makes a later write fail, before the client ever reads.
      const bytes = requestBytes(request)
      for (let at = 0; at < bytes.length && !settled; at += 65_536) {
        const error = await new Promise<Error | null | undefined>((resolve) => socket.write(bytes.subarray(at, at + 65_536), resolve))
        if (error) return settle(new Error(`${error.message} while sending (${at} of ${bytes.length} bytes sent, nothing read yet)`))
      }
      socket.resume()
    })
  })
}
