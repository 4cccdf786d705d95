import type {IncomingMessage, ServerResponse} from 'node:http'
import {HttpError} from './http-error.js'

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
  const headers: Record<string, string> = {}
  // The rest of an oversized or refused upload is not read: close so the connection is not reused mid-body.
  if (request && !request.complete) headers.connection = 'close'
  sendJson(res, error.status, {success: false, code: error.code, error: error.message, ...error.extra}, headers)
}

/** CORS for browser SDKs on other origins: any origin may send, with credentials. */
export function applyCors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin
  if (!origin) return
  res.setHeader('access-control-allow-origin', origin)
  res.setHeader('access-control-allow-credentials', 'true')
  res.setHeader('vary', 'Origin')
}

export function sendPreflight(req: IncomingMessage, res: ServerResponse): void {
  applyCors(req, res)
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'Content-Type, Authorization, Content-Encoding',
    'access-control-max-age': '86400',
    'content-length': '0',
  })
  res.end()
}
