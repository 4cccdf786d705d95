import type {IncomingMessage, ServerResponse} from 'node:http'
import {HttpError} from './http-error.js'
import {sendError} from './respond.js'
import {settingsPath, sourceConfigPath} from './settings.js'
import {beaconBatchPath, trackingEndpoints} from './tracking.js'

/**
 * The method a page on another origin may use on a path: POST on the Tracking API (with
 * analytics.js's metrics path /v1/m and RudderStack's beacon path), GET on the documents the
 * browser SDKs load at start (analytics.js's settings, RudderStack's source config). Nothing else
 * speaks CORS: /api/* holds every stored event.
 */
export function corsMethod(path: string): 'POST' | 'GET' | undefined {
  if (trackingEndpoints.has(path) || path === '/v1/m' || path === beaconBatchPath) return 'POST'
  if (settingsPath.test(path) || path === sourceConfigPath) return 'GET'
  return undefined
}

/**
 * Lets any origin read the answer of a public route. No `access-control-allow-credentials`:
 * analytics-next sends with fetch's default credentials ("same-origin", so no cookies to another
 * origin) unless an app sets deliveryStrategy.config.credentials, and the daemon uses no cookies or
 * other ambient credentials, so a grant would only widen what a page may do.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin
  if (!origin) return
  res.setHeader('access-control-allow-origin', origin)
  res.setHeader('vary', 'Origin')
}

/** Header names as a browser lists them in Access-Control-Request-Headers. */
const headerList = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/

/**
 * Answers an OPTIONS request: a grant for the one method of a public route (with whatever headers
 * the SDK asks for: X-Retry-Count, Authorization, Content-Encoding…), a 403 with no CORS headers
 * anywhere else, so a page learns nothing and may not go on.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, path: string): void {
  const method = corsMethod(path)
  if (!method) {
    sendError(res, new HttpError(403, 'cors_refused', `${path} does not answer pages of other origins: only the Tracking API (/v1/*, /beacon/v1/batch) and the browser SDKs' settings (/v1/projects/<write key>/settings, /sourceConfig) do`), req)
    return
  }
  const requested = req.headers['access-control-request-method']
  if (requested !== undefined && requested !== method) {
    sendError(res, new HttpError(403, 'cors_refused', `${path} takes ${method} from other origins, not ${requested}`), req)
    return
  }
  applyCors(req, res)
  const headers: Record<string, string> = {
    allow: `${method}, OPTIONS`,
    'access-control-allow-methods': `${method}, OPTIONS`,
    'access-control-max-age': '7200',
    'content-length': '0',
  }
  const requestedHeaders = req.headers['access-control-request-headers']
  if (requestedHeaders !== undefined && headerList.test(requestedHeaders)) headers['access-control-allow-headers'] = requestedHeaders
  // Chrome asks before a public page reaches a private address; sending events is what the Tracking API is for.
  if (req.headers['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true'
  res.writeHead(204, headers)
  res.end()
}
