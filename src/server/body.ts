import {isUtf8} from 'node:buffer'
import type {IncomingMessage} from 'node:http'
import zlib from 'node:zlib'
import {HttpError} from './http-error.js'

export interface BodyLimits {
  /** Bytes, before and after decompression. */
  maxBytes: number
  /** What the limit is called in the error, such as "32 KB a message". */
  limitName: string
  /** Milliseconds the whole body may take to arrive. */
  timeoutMs: number
}

function tooLarge(limits: BodyLimits, what: string): HttpError {
  return new HttpError(400, 'limit_exceeded', `the request body ${what} is over the limit of ${limits.limitName} (${limits.maxBytes} bytes)`)
}

/** Reads the raw bytes of a request, refusing as soon as they pass the limit or the time runs out. */
export function readRawBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limits.maxBytes) return Promise.reject(tooLarge(limits, `(${declared} bytes)`))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (error?: HttpError) => {
      if (done) return
      done = true
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', onEnd)
      if (error) {
        // Drain what is left so the answer can still be read by the client, then let the socket close.
        req.resume()
        reject(error)
      } else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limits.maxBytes) finish(tooLarge(limits, `(more than ${limits.maxBytes} bytes)`))
      else chunks.push(chunk)
    }
    const onEnd = () => finish()
    const timer = setTimeout(
      () => finish(new HttpError(408, 'timeout', `the request body did not arrive within ${limits.timeoutMs / 1000} s; send the whole body promptly`)),
      limits.timeoutMs,
    )
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', () => finish(new HttpError(400, 'aborted', 'the upload was aborted')))
    req.on('close', () => {
      if (!req.complete) finish(new HttpError(400, 'aborted', 'the upload was aborted before the body was complete'))
    })
  })
}

function inflate(encoding: string, body: Buffer, maxBytes: number): Buffer {
  const options = {maxOutputLength: maxBytes}
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body, options)
    case 'deflate':
      // HTTP's deflate is zlib-wrapped, but some clients send raw deflate: accept both.
      try {
        return zlib.inflateSync(body, options)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw error
        return zlib.inflateRawSync(body, options)
      }
    case 'br':
      return zlib.brotliDecompressSync(body, options)
    default:
      throw new HttpError(415, 'unsupported_encoding', `Content-Encoding "${encoding}" is not supported; send identity, gzip, deflate or br`)
  }
}

/** Decompresses per Content-Encoding, within the limit, and decodes strict UTF-8. */
export function decodeBody(req: IncomingMessage, raw: Buffer, limits: BodyLimits): string {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  let bytes = raw
  if (encoding !== 'identity' && encoding !== '') {
    try {
      bytes = inflate(encoding, raw, limits.maxBytes)
    } catch (error) {
      if (error instanceof HttpError) throw error
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limits, 'after decompression')
      throw new HttpError(400, 'invalid_encoding', `Content-Encoding says ${encoding} but the body is not ${encoding} data (${(error as Error).message})`)
    }
  }
  if (!isUtf8(bytes)) throw new HttpError(400, 'invalid_utf8', 'the request body is not valid UTF-8')
  let text = bytes.toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  return text
}

/** Parses JSON, answering a 400 that quotes the parser's complaint. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'the request body is empty; send a JSON object')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the request body is not valid JSON: ${(error as Error).message}`)
  }
}
