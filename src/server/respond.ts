import type {IncomingMessage, ServerResponse} from 'node:http'
import {HttpError} from './http-error.js'
import {bodyPending, endAfterBody} from './linger.js'

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

const successBody = Buffer.from('{"success":true}')

/** Segment's answer to an accepted request. */
export function sendSuccess(res: ServerResponse): void {
  res.writeHead(200, {'content-type': 'application/json; charset=utf-8', 'content-length': successBody.length})
  res.end(successBody)
}

export function sendError(res: ServerResponse, error: HttpError, request?: IncomingMessage): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = {success: false, code: error.code, error: error.message, ...error.extra}
  if (request && bodyPending(request)) {
    // Refused before the body was read (too large, bad key, wrong route): answer now, close when it has arrived.
    const text = JSON.stringify(body)
    res.writeHead(error.status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close'})
    res.write(text)
    endAfterBody(request, res)
    return
  }
  sendJson(res, error.status, body)
}
