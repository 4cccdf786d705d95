import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {errorMessage, UserError, ExitCode} from '../errors.js'
import type {Logger} from '../log.js'
import type {Pipeline} from '../pipeline/pipeline.js'
import type {DestinationConfig} from '../config/schema.js'
import {deliveryReport} from '../delivery/report.js'
import {isPlainObject} from '../message/json-value.js'
import {parseDeliveriesQuery, parseEventFilter, parseViolationFilter} from '../query/filter-input.js'
import {StoreUnavailableError} from '../store/store-errors.js'
import type {StorageHealth} from '../store/storage.js'
import type {DeliveryStore, EventStore} from '../store/types.js'
import {decodeBody, parseJson, readRawBody} from './body.js'
import {serveStream, type StreamDeps} from './stream.js'
import {writeKeyFromHeader, type SourceRegistry} from './auth.js'
import {HttpError} from './http-error.js'
import {AccessGuard, type AccessOptions} from './access.js'
import {answerPreflight, applyCors, corsMethod} from './cors.js'
import {formatHost, listeningUrls} from './host.js'
import {sendError, sendJson, sendSuccess} from './respond.js'
import {analyticsSettings, rudderSourceConfig, settingsWriteKey, sourceConfigKeyHint, sourceConfigPath} from './settings.js'
import {beaconBatchPath, handleBeacon, handleTracking, trackingEndpoints} from './tracking.js'
import {handleSourceFunction, sourceFunctionPrefix, type SourceFunctionDeps} from './source-function.js'
import {SourceStepsFailed} from '../pipeline/pipeline.js'

export interface ServerDeps {
  sources: SourceRegistry
  pipeline: Pipeline
  store: EventStore
  /** The store's upkeep (WAL checkpoints), shown by GET /health. */
  health?: () => StorageHealth
  log: Logger
  version: string
  /** How long a request body may take to arrive (default 30 s). */
  bodyTimeoutMs?: number
  stream?: StreamDeps
  /** Who may use /api/*: names allowed beside loopback ones, and the token required off loopback. */
  access?: AccessOptions
  /** Loaded functions: source functions answer POST /v1/functions/NAME. */
  functions?: SourceFunctionDeps['functions']
  deliveries?: {
    store: DeliveryStore
    /** The destinations in force (cdp.json may change while the daemon runs). */
    destinations: () => readonly DestinationConfig[]
    /** Dead-lettered events were queued again: the workers look now. */
    retried: () => void
    /** DELETE /api/events emptied the store: cursors start again. */
    eventsDeleted: () => void
    /** What functions did, counted per function: GET /api/deliveries reports it beside the destinations. */
    functionRuns?: Parameters<typeof deliveryReport>[3]
  }
}

export interface RunningServer {
  url: string
  /** Every URL the server can be reached at (each interface's for 0.0.0.0 or ::). */
  urls: string[]
  host: string
  port: number
  /** Whether /api/* requires the token: the server listens beyond loopback. */
  tokenRequired: boolean
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>
}

/** The named query parameters of a request target, absent ones undefined. */
function query<K extends string>(target: string, queryAt: number, names: readonly K[]): Record<K, string | undefined> {
  const params = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1))
  return Object.fromEntries(names.map((name) => [name, params.get(name) ?? undefined])) as Record<K, string | undefined>
}

function drain(req: IncomingMessage): void {
  req.resume()
}

/** The path of a request target, without query and trailing slash. */
function requestPath(target: string): string {
  const queryAt = target.indexOf('?')
  const path = queryAt === -1 ? target : target.slice(0, queryAt)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

async function route(req: IncomingMessage, res: ServerResponse, path: string, deps: ServerDeps, access: AccessGuard, bodyTimeoutMs: number): Promise<void> {
  const target = req.url ?? '/'
  const queryAt = target.indexOf('?')
  const method = req.method ?? 'GET'
  // Everything under /api/ reads or changes stored data: only this daemon's own callers get past here.
  if (path === '/api' || path.startsWith('/api/')) access.checkPrivate(req, path)

  const endpoint = trackingEndpoints.get(path)
  if (endpoint) {
    if (method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${path} takes POST, not ${method}`, {})
    await handleTracking(req, res, endpoint, {sources: deps.sources, pipeline: deps.pipeline, bodyTimeoutMs})
    return
  }
  if (path === beaconBatchPath) {
    if (method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${path} takes POST, not ${method}`, {})
    await handleBeacon(req, res, query(target, queryAt, ['writeKey']).writeKey, {sources: deps.sources, pipeline: deps.pipeline, bodyTimeoutMs})
    return
  }
  if (path === sourceConfigPath) {
    if (method !== 'GET') throw new HttpError(405, 'method_not_allowed', `${path} takes GET, not ${method}`)
    // The key as the SDK sends it, in both places; the header's wins, as on the Tracking API.
    const source = deps.sources.authenticate(writeKeyFromHeader(req) ?? query(target, queryAt, ['writeKey']).writeKey, sourceConfigKeyHint)
    sendJson(res, 200, rudderSourceConfig(source))
    return
  }
  if (path.startsWith(sourceFunctionPrefix) && deps.functions) {
    const name = path.slice(sourceFunctionPrefix.length)
    await handleSourceFunction(req, res, name, {sources: deps.sources, pipeline: deps.pipeline, functions: deps.functions, bodyTimeoutMs})
    return
  }
  if (path === '/v1/m' && method === 'POST') {
    // analytics.js reports its own metrics here; they are not events.
    drain(req)
    sendSuccess(res)
    return
  }
  const writeKey = settingsWriteKey(path)
  if (writeKey !== undefined) {
    if (method !== 'GET') throw new HttpError(405, 'method_not_allowed', `${path} takes GET, not ${method}`)
    const source = deps.sources.find(writeKey)
    if (!source) throw new HttpError(404, 'unknown_write_key', `no source has the write key "${writeKey}"; use one that cdp dev printed`)
    // The Host the page used when it names this daemon; any other (a rebinding name) is not echoed back.
    const host = access.addressedHost(req.headers.host) ?? ownHost(req)
    sendJson(res, 200, analyticsSettings(source, `${host}/v1`, 'http'))
    return
  }
  if (path === '/health' && method === 'GET') {
    // ok stays true while checkpoints fail: commits still succeed (the WAL grows); the store part says so.
    sendJson(res, 200, deps.health ? {ok: true, version: deps.version, store: deps.health()} : {ok: true, version: deps.version})
    return
  }
  if (path === '/api/events') {
    if (method === 'GET') {
      const filter = parseEventFilter(query(target, queryAt, ['type', 'event', 'user', 'source', 'since', 'limit', 'valid']))
      sendJson(res, 200, (await deps.store.queryEvents(filter)).map((stored) => stored.message))
      return
    }
    if (method === 'DELETE') {
      const deleted = await deps.store.resetEvents()
      deps.deliveries?.eventsDeleted()
      sendJson(res, 200, {deleted})
      return
    }
    throw new HttpError(405, 'method_not_allowed', `/api/events takes GET or DELETE, not ${method}`)
  }
  if (path === '/api/violations' && method === 'GET') {
    const filter = parseViolationFilter(query(target, queryAt, ['event', 'kind', 'source', 'since', 'limit']))
    sendJson(res, 200, await deps.store.queryViolations(filter))
    return
  }
  if (path === '/api/stream' && method === 'GET') {
    if (!deps.stream) throw new HttpError(404, 'not_found', 'this server has no live stream')
    serveStream(req, res, deps.stream, query(target, queryAt, ['type', 'event', 'source', 'user', 'violations', 'history', 'after']))
    return
  }
  if (path === '/api/deliveries' && method === 'GET') {
    const deliveries = requireDeliveries(deps)
    const deliveryQuery = parseDeliveriesQuery(query(target, queryAt, ['destination', 'status', 'limit']))
    sendJson(res, 200, await deliveryReport(deliveries.store, deliveries.destinations(), deliveryQuery, deliveries.functionRuns))
    return
  }
  if (path === '/api/deliveries/retry' && method === 'POST') {
    const deliveries = requireDeliveries(deps)
    const bodyLimits = {maxBytes: 64 * 1024, limitName: '64 KB', timeoutMs: bodyTimeoutMs}
    const text = decodeBody(req, await readRawBody(req, bodyLimits), bodyLimits)
    const body = text.trim() === '' ? {} : parseJson(text)
    if (!isPlainObject(body)) throw new HttpError(400, 'invalid_body', 'send a JSON object: {"destination"?: name, "ids"?: [record ids]}')
    const {destination, ids} = body as {destination?: unknown; ids?: unknown}
    if (destination !== undefined && typeof destination !== 'string') throw new HttpError(400, 'invalid_body', '"destination" must be a destination name', {field: 'destination'})
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => Number.isInteger(id)))) {
      throw new HttpError(400, 'invalid_body', '"ids" must be a list of delivery record ids', {field: 'ids'})
    }
    if (destination !== undefined && !deliveries.destinations().some((d) => d.name === destination)) {
      throw new HttpError(404, 'unknown_destination', `no destination named "${destination}"`, {field: 'destination'})
    }
    const retried = await deliveries.store.retryDead({destination, ids: ids as number[] | undefined})
    deliveries.retried()
    sendJson(res, 200, {retried})
    return
  }
  drain(req)
  throw new HttpError(404, 'not_found', `no such endpoint: ${method} ${path}`)
}

function requireDeliveries(deps: ServerDeps): NonNullable<ServerDeps['deliveries']> {
  if (!deps.deliveries) throw new HttpError(404, 'not_found', 'this server does not deliver to destinations')
  return deps.deliveries
}

/** The daemon's own host:port, as the socket the request came in on was addressed. */
function ownHost(req: IncomingMessage): string {
  const address = req.socket.localAddress ?? '127.0.0.1'
  return formatHost(address.startsWith('::ffff:') ? address.slice(7) : address, req.socket.localPort)
}

export function createRequestHandler(deps: ServerDeps, access: AccessGuard): (req: IncomingMessage, res: ServerResponse) => void {
  const bodyTimeoutMs = deps.bodyTimeoutMs ?? 30_000
  return (req, res) => {
    const path = requestPath(req.url ?? '/')
    if (req.method === 'OPTIONS') {
      answerPreflight(req, res, path)
      return
    }
    // Only the Tracking API and the browser SDKs' settings speak CORS; /api/* answers no other origin.
    if (corsMethod(path)) applyCors(req, res)
    route(req, res, path, deps, access, bodyTimeoutMs).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendError(res, error, req)
      } else if (error instanceof StoreUnavailableError) {
        // Nothing was stored and nothing will be until a restart: 503, which SDKs retry.
        sendError(res, new HttpError(503, error.code, `${error.message} ${error.hint}`), req)
      } else if (error instanceof SourceStepsFailed) {
        // Nothing of the request was stored, and trying again may work: SDKs retry a 503.
        sendError(res, new HttpError(503, 'function_failed', error.message, {errorClass: error.failure.errorClass}), req)
      } else if (error instanceof UserError) {
        sendError(res, new HttpError(400, error.code, error.message), req)
      } else {
        deps.log.error(`request ${req.method} ${req.url} failed: ${errorMessage(error)}`)
        sendError(res, new HttpError(500, 'internal_error', `cdp could not store the request: ${errorMessage(error)}; retry it`), req)
      }
    })
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE') {
        reject(new UserError(`Port ${port} on ${host} is already in use (another cdp dev?).`, {
          hint: 'Stop the other process, or choose another port with --port (0 picks a free one).',
          exitCode: ExitCode.environment,
          code: 'port_in_use',
        }))
      } else if (error.code === 'EACCES') {
        reject(new UserError(`Not allowed to listen on ${host}:${port}.`, {hint: 'Choose a port above 1023 with --port.', exitCode: ExitCode.environment, code: 'port_denied'}))
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new UserError(`Cannot listen on host ${host}: no such address on this machine.`, {hint: 'Use --host 127.0.0.1, or 0.0.0.0 for every interface.', exitCode: ExitCode.environment, code: 'bad_host'}))
      } else reject(error)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

export async function startServer(deps: ServerDeps, options: {port: number; host: string}): Promise<RunningServer> {
  const server = createServer({keepAlive: true, requestTimeout: 120_000})
  // An idle keep-alive connection is closed by the server at keepAliveTimeout + 1 s (Node's own
  // buffer). A client that reuses it at that instant gets ECONNRESET and no answer: measured,
  // 40 of 1,000 requests sent 5.9–6.1 s after the previous answer with 5 s here (Node's Agent
  // without a timeout ignores the Keep-Alive hint). Clients' gaps rarely last a minute; clients
  // that read "Keep-Alive: timeout=65" (fetch, analytics-node) close theirs first.
  server.keepAliveTimeout = 65_000
  await listen(server, options.port, options.host)
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${shownHost === '0.0.0.0' || shownHost === '[::]' ? '127.0.0.1' : shownHost}:${address.port}`
  // Who may use /api/* depends on the address actually bound. The handler goes on now, in the
  // same turn as 'listening': no connection can have been read yet.
  const access = new AccessGuard(deps.access ?? {allowHosts: []}, address.address)
  server.on('request', createRequestHandler(deps, access))
  return {
    url,
    urls: listeningUrls(address.address, address.port),
    host: address.address,
    port: address.port,
    tokenRequired: access.tokenRequired,
    close: () =>
      new Promise<void>((resolve) => {
        // In-flight requests finish; idle keep-alive sockets go now; stragglers after 5 s.
        const force = setTimeout(() => server.closeAllConnections(), 5_000)
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        server.closeIdleConnections()
      }),
  }
}
