/**
 * What the isolate may ask of the host: hashing, random bytes, URL parsing (Node's WHATWG parser),
 * and starting async work (fetch, timers) whose results come back through the prelude's resume().
 *
 * User code is not meant to reach these callbacks (the prelude captures them and deletes the
 * globals), but every argument is checked here as if it could: types, sizes, the call it names,
 * and for fetch the allowed hosts, on every redirect.
 */
import {createHash, createHmac, getHashes, randomBytes, randomUUID} from 'node:crypto'
import type {FunctionDefinition} from '../types.js'
import {isHostAllowed} from './allowed-hosts.js'

export const maxResponseBytes = 10 * 1024 * 1024
const maxRequestBytes = 10 * 1024 * 1024
const maxUrlLength = 64 * 1024
const maxHeaders = 256
const maxRedirects = 20
const maxHashInput = 64 * 1024 * 1024

export type FetchImplementation = (
  url: string,
  init: {method: string; headers: [string, string][]; body?: string | Uint8Array; signal?: AbortSignal; redirect?: 'manual'},
) => Promise<Response>

/** The host's side of one call in flight. */
export interface HostCall {
  id: number
  deadline: number
  /** Made when the call first fetches (most calls never do). */
  abort?: AbortController
  timers?: Set<NodeJS.Timeout>
  ended: boolean
  /** Ends the call with TimeoutError (set by the runtime). */
  timeOut?: () => void
}

function signalOf(call: HostCall): AbortSignal {
  call.abort ??= new AbortController()
  return call.abort.signal
}

export interface FetchAnswer {
  status: number
  statusText: string
  url: string
  redirected: boolean
  headers: [string, string][]
  body: ArrayBuffer
}

const hashes = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].filter((h) => getHashes().includes(h)))

function bytes(value: unknown, what: string): Uint8Array {
  if (value instanceof ArrayBuffer) {
    if (value.byteLength > maxHashInput) throw new RangeError(`${what} is larger than 64 MB`)
    return new Uint8Array(value)
  }
  throw new TypeError(`${what} must be bytes`)
}

function algorithm(value: unknown): string {
  if (typeof value !== 'string' || !hashes.has(value)) {
    throw new Error(`Digest method not supported: ${String(value).slice(0, 40)} (available: ${[...hashes].join(', ')})`)
  }
  return value
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer
}

const urlFieldNames = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const
type UrlField = (typeof urlFieldNames)[number]

function urlFields(url: URL): string[] {
  return urlFieldNames.map((name) => url[name])
}

function text(value: unknown, what: string, max = maxUrlLength): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`)
  if (value.length > max) throw new RangeError(`${what} is too long`)
  return value
}

/** The synchronous calls (hashing, URL), answered on the host's thread while the isolate waits. */
export function syncOperation(op: unknown, a: unknown, b: unknown, c: unknown): unknown {
  switch (op) {
    case 'crypto.check':
      algorithm(a)
      return undefined
    case 'crypto.hash':
      return toArrayBuffer(createHash(algorithm(a)).update(bytes(b, 'the data')).digest())
    case 'crypto.hmac':
      return toArrayBuffer(createHmac(algorithm(a), bytes(c, 'the key')).update(bytes(b, 'the data')).digest())
    case 'crypto.uuid':
      return randomUUID()
    case 'crypto.random': {
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a > 65536) throw new RangeError('randomBytes: size must be an integer from 0 to 65536')
      return toArrayBuffer(randomBytes(a))
    }
    case 'url.parse': {
      const input = text(a, 'the URL')
      const base = b === undefined ? undefined : text(b, 'the base URL')
      try {
        return urlFields(new URL(input, base))
      } catch {
        return null
      }
    }
    case 'url.set': {
      const url = new URL(text(a, 'the URL'))
      const field = text(b, 'the field', 20) as UrlField
      if (!urlFieldNames.includes(field) || field === 'origin' || field === 'href') throw new TypeError('unknown URL field')
      url[field] = text(c, 'the value')
      return urlFields(url)
    }
    case 'qs.parse':
      return [...new URLSearchParams(text(a, 'the query'))]
    case 'qs.stringify': {
      if (!Array.isArray(a) || a.length > 100_000) throw new TypeError('expected a list of pairs')
      const params = new URLSearchParams()
      for (const pair of a) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw new TypeError('expected a list of pairs')
        params.append(pair[0], pair[1])
      }
      return params.toString()
    }
    default:
      throw new Error('unknown operation')
  }
}

interface FetchRequest {
  url: string
  method: string
  headers: [string, string][]
  body?: string | Uint8Array
}

function readFetchRequest(arg: unknown): FetchRequest | string {
  if (arg === null || typeof arg !== 'object') return 'fetch(): bad request'
  const {url, method, headers, body} = arg as {[key: string]: unknown}
  if (typeof url !== 'string' || url.length > maxUrlLength) return 'fetch(): the URL must be a string of at most 64 KB'
  if (typeof method !== 'string' || !/^[A-Z]{1,16}$/.test(method)) return 'fetch(): bad method'
  if (!Array.isArray(headers) || headers.length > maxHeaders) return `fetch(): at most ${maxHeaders} headers`
  const pairs: [string, string][] = []
  for (const pair of headers) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string' || pair[0].length + pair[1].length > 64 * 1024) {
      return 'fetch(): bad header'
    }
    pairs.push([pair[0], pair[1]])
  }
  let data: string | Uint8Array | undefined
  if (typeof body === 'string') {
    if (body.length > maxRequestBytes) return 'fetch(): the request body is larger than 10 MB'
    data = body
  } else if (body instanceof ArrayBuffer) {
    if (body.byteLength > maxRequestBytes) return 'fetch(): the request body is larger than 10 MB'
    data = new Uint8Array(body)
  } else if (body !== undefined) return 'fetch(): bad body'
  return {url, method, headers: pairs, body: data}
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as {cause?: unknown}).cause
  return cause instanceof Error && cause.message ? `${error.message}: ${cause.message}` : error.message
}

async function readCapped(response: Response, signal: AbortSignal): Promise<ArrayBuffer | string> {
  if (response.body === null) return new ArrayBuffer(0)
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    if (signal.aborted) {
      await reader.cancel().catch(() => {})
      return 'fetch(): the call ended before the response was read'
    }
    const {done, value} = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxResponseBytes) {
      await reader.cancel().catch(() => {})
      return `fetch(): the response body is larger than ${maxResponseBytes / 1024 / 1024} MB`
    }
    chunks.push(value)
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.byteLength
  }
  return all.buffer
}

/**
 * fetch() for user code: allowedHosts checked before any connection, on the first URL and on every
 * redirect (followed here, so a redirect cannot lead to a host not allowed); aborted when the call
 * ends; the response body capped. Answers an error text rather than throwing.
 */
export async function hostFetch(
  arg: unknown,
  call: HostCall,
  definition: FunctionDefinition,
  fetchImpl: FetchImplementation | undefined,
): Promise<FetchAnswer | {error: string}> {
  const request = readFetchRequest(arg)
  if (typeof request === 'string') return {error: request}
  let {url, method, body} = request
  const headers = request.headers
  for (let hop = 0; hop <= maxRedirects; hop++) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return {error: `fetch(): invalid URL ${JSON.stringify(url.slice(0, 200))}`}
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return {error: `fetch(): only http and https URLs can be fetched, not ${parsed.protocol}`}
    }
    if (!isHostAllowed(parsed, definition.allowedHosts)) {
      const list = definition.allowedHosts.length === 0 ? 'it lists no host' : `it lists ${definition.allowedHosts.join(', ')}`
      return {error: `fetch(): host ${parsed.host} is not allowed for function ${definition.name}: add it to the function's allowedHosts in cdp.json (${list})`}
    }
    if (call.ended) return {error: 'fetch(): the call has ended'}
    let response: Response
    try {
      const init = {method, headers, body, signal: signalOf(call), redirect: 'manual' as const}
      response = fetchImpl ? await fetchImpl(parsed.href, init) : await globalThis.fetch(parsed.href, init)
    } catch (error) {
      return {error: signalOf(call).aborted ? 'fetch(): the call ended before the response came' : `fetch(): ${describeError(error)}`}
    }
    const location = response.headers.get('location')
    if ([301, 302, 303, 307, 308].includes(response.status) && location !== null) {
      await response.body?.cancel().catch(() => {})
      try {
        url = new URL(location, parsed).href
      } catch {
        return {error: `fetch(): a redirect to an invalid URL ${JSON.stringify(location.slice(0, 200))}`}
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
      }
      if (hop === maxRedirects) return {error: 'fetch(): too many redirects'}
      continue
    }
    let data: ArrayBuffer | string
    try {
      data = await readCapped(response, signalOf(call))
    } catch (error) {
      return {error: `fetch(): ${describeError(error)}`}
    }
    if (typeof data === 'string') return {error: data}
    return {
      status: response.status,
      statusText: response.statusText,
      url: parsed.href,
      redirected: hop > 0,
      headers: [...response.headers],
      body: data,
    }
  }
  return {error: 'fetch(): too many redirects'}
}
