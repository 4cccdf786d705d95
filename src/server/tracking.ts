import type {IncomingMessage, ServerResponse} from 'node:http'
import {limits} from '../message/limits.js'
import {describeValue, isPlainObject} from '../message/json-value.js'
import {readTrackingRequest, type Endpoint} from '../message/request.js'
import type {Pipeline} from '../pipeline/pipeline.js'
import {writeKeyFromHeader, type SourceRegistry} from './auth.js'
import {decodeBody, parseJson, readRawBody, type BodyLimits} from './body.js'
import {HttpError} from './http-error.js'
import {sendJson, sendSuccess} from './respond.js'

/** The Tracking API paths, with the one-letter ones analytics.js uses. /v1/import is a batch. */
export const trackingEndpoints: ReadonlyMap<string, Endpoint> = new Map([
  ['/v1/track', 'track'],
  ['/v1/t', 'track'],
  ['/v1/identify', 'identify'],
  ['/v1/i', 'identify'],
  ['/v1/page', 'page'],
  ['/v1/p', 'page'],
  ['/v1/screen', 'screen'],
  ['/v1/s', 'screen'],
  ['/v1/group', 'group'],
  ['/v1/g', 'group'],
  ['/v1/alias', 'alias'],
  ['/v1/a', 'alias'],
  ['/v1/batch', 'batch'],
  ['/v1/b', 'batch'],
  ['/v1/import', 'batch'],
])

/**
 * Where RudderStack's browser SDK sends with `useBeacon: true`: navigator.sendBeacon posts a batch
 * ({"batch": [...], "sentAt"}) as `text/plain`, with the write key in the URL (?writeKey=), since
 * a beacon cannot carry an Authorization header. Otherwise it is /v1/batch.
 */
export const beaconBatchPath = '/beacon/v1/batch'

/** Where a beacon batch may carry its write key, for its 401. */
const beaconKeyHint = 'as ?writeKey= in the URL (navigator.sendBeacon cannot send an Authorization header), as the HTTP Basic auth user name, or as "writeKey" in the JSON body'

export interface TrackingDeps {
  sources: SourceRegistry
  pipeline: Pipeline
  bodyTimeoutMs: number
}

function bodyWriteKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.writeKey === 'string') return body.writeKey
  // analytics.js batches may carry the key on each item rather than on the batch.
  if (Array.isArray(body.batch)) {
    for (const item of body.batch) {
      if (isPlainObject(item) && typeof item.writeKey === 'string') return item.writeKey
    }
  }
  return undefined
}

/** A beacon batch (beaconBatchPath): the /v1/batch path, with the write key the URL gave. */
export function handleBeacon(req: IncomingMessage, res: ServerResponse, urlWriteKey: string | undefined, deps: TrackingDeps): Promise<void> {
  return handleTracking(req, res, 'batch', deps, {writeKey: urlWriteKey, keyHint: beaconKeyHint})
}

export async function handleTracking(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: Endpoint,
  deps: TrackingDeps,
  /** The beacon path's: a write key from the URL (the header's wins), and where its 401 says to send one. */
  url: {writeKey: string | undefined; keyHint: string} | undefined = undefined,
): Promise<void> {
  const receivedAt = Date.now()
  const headerKey = writeKeyFromHeader(req) ?? url?.writeKey
  // A bad key in the header (or the URL) is refused before the body is read.
  let source = headerKey === undefined ? undefined : deps.sources.authenticate(headerKey, url?.keyHint)

  const bodyLimits: BodyLimits =
    endpoint === 'batch'
      ? {maxBytes: limits.batchBytes, limitName: '500 KB a batch', timeoutMs: deps.bodyTimeoutMs}
      : {maxBytes: limits.messageBytes, limitName: '32 KB a message', timeoutMs: deps.bodyTimeoutMs}
  const raw = await readRawBody(req, bodyLimits)
  const text = decodeBody(req, raw, bodyLimits)
  const body = parseJson(text)
  if (!isPlainObject(body)) throw new HttpError(400, 'invalid_body', `the request body must be a JSON object, but it was ${describeValue(body)}`)
  source ??= deps.sources.authenticate(bodyWriteKey(body), url?.keyHint)

  const request = readTrackingRequest(endpoint, body, text, receivedAt)
  if (request.problem) {
    const {code, message, field} = request.problem
    throw new HttpError(400, code, message, field ? {field} : {})
  }
  if (request.accepted.length > 0) await deps.pipeline.ingest(source.name, request.accepted)
  if (request.rejected.length === 0) {
    sendSuccess(res)
    return
  }
  const total = request.accepted.length + request.rejected.length
  sendJson(res, 400, {
    success: false,
    code: 'invalid_messages',
    error: `${request.rejected.length} of ${total} messages were rejected; the other ${request.accepted.length} were stored`,
    accepted: request.accepted.length,
    rejected: request.rejected.map(({index, messageId, code, message, field}) => ({index, messageId, code, error: message, field})),
  })
}
