import type {IncomingMessage, ServerResponse} from 'node:http'
import type {FunctionDefinition, FunctionRunRecord, FunctionRunSink} from '../functions/types.js'
import {checkEmitted} from '../functions/emitted.js'
import {setOwn} from '../message/own-keys.js'
import type {Pipeline} from '../pipeline/pipeline.js'
import type {FunctionLookup} from '../functions/steps.js'
import {writeKeyFromHeader, type SourceRegistry} from './auth.js'
import {decodeBody, readRawBody} from './body.js'
import {HttpError} from './http-error.js'
import {sendJson} from './respond.js'

export const sourceFunctionPrefix = '/v1/functions/'

export interface SourceFunctionDeps {
  sources: SourceRegistry
  pipeline: Pipeline
  functions: FunctionLookup & {
    definition(name: string): FunctionDefinition | undefined
    sink: FunctionRunSink
  }
  bodyTimeoutMs: number
}

/** Segment's limit on a source function's request. */
const maxBodyBytes = 512 * 1024

function headersOf(req: IncomingMessage): {[name: string]: string} {
  const headers: {[name: string]: string} = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    setOwn(headers, name, Array.isArray(value) ? value.join(', ') : value)
  }
  return headers
}

/**
 * POST /v1/functions/NAME: a webhook (Stripe, GitHub, any JSON or form post) handed to a source
 * function's onRequest(request, settings). What it emits with Segment.track() and the like goes
 * through the pipeline as the function's source: normalised, checked, stored, delivered. The
 * request needs that source's write key (HTTP Basic user name, or ?writeKey=, which webhook
 * senders can put in the URL); the key is taken out of the URL the function sees.
 */
export async function handleSourceFunction(req: IncomingMessage, res: ServerResponse, name: string, deps: SourceFunctionDeps): Promise<void> {
  const receivedAt = Date.now()
  if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${sourceFunctionPrefix}${name} takes POST, not ${req.method}`)
  const definition = deps.functions.definition(name)
  if (!definition || definition.kind !== 'source' || definition.source === undefined) {
    throw new HttpError(404, 'unknown_function', `no source function named "${name}": declare it in cdp.json's "functions" with "kind": "source"`)
  }
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`)
  const source = deps.sources.authenticate(writeKeyFromHeader(req) ?? url.searchParams.get('writeKey') ?? undefined)
  if (source.name !== definition.source) {
    throw new HttpError(401, 'wrong_write_key', `that write key is source "${source.name}"'s; source function "${name}" emits as source "${definition.source}", so use its write key`)
  }
  url.searchParams.delete('writeKey')
  const limits = {maxBytes: maxBodyBytes, limitName: '512 KB a source function request', timeoutMs: deps.bodyTimeoutMs}
  const body = decodeBody(req, await readRawBody(req, limits), limits)
  const runtime = deps.functions.get(name)
  if (!runtime) throw new HttpError(503, 'function_unavailable', `${deps.functions.unavailable(name)}; send the request again once it loads`)

  const run = await runtime.runSource({body, headers: headersOf(req), url: url.href})
  const record: FunctionRunRecord = {at: new Date().toISOString(), function: name, kind: 'source', stage: 'request', target: source.name, result: 'emitted', console: run.console, ms: run.ms}
  if (run.error) {
    deps.functions.sink.record([{...record, result: 'error', errorClass: run.error.errorClass, message: run.error.message}])
    // A sender retries a 5xx: worth it for a RetryError or a time-out, not for a refused payload.
    throw new HttpError(run.error.retryable ? 500 : 400, 'function_error', `source function "${name}" failed with ${run.error.errorClass}: ${run.error.message}; nothing it emitted was stored`, {
      errorClass: run.error.errorClass,
      ...(run.error.location ? {location: run.error.location} : {}),
    })
  }
  const checked = checkEmitted(run.messages, receivedAt)
  if (!checked.ok) {
    deps.functions.sink.record([{...record, result: 'error', errorClass: 'ValidationError', message: checked.problem}])
    throw new HttpError(400, 'invalid_emitted_message', `source function "${name}" emitted a message Segment would refuse (${checked.problem}); nothing it emitted was stored`, {
      call: checked.call,
      ...(checked.field ? {field: checked.field} : {}),
    })
  }
  const {accepted} = checked
  deps.functions.sink.record([{...record, message: `${accepted.length} message${accepted.length === 1 ? '' : 's'}`}])
  if (accepted.length > 0) await deps.pipeline.ingest(source.name, accepted)
  const unsupported = run.unsupported.map((call) => `${call}: not supported by cdp locally (the call was ignored)`)
  sendJson(res, 200, {success: true, emitted: accepted.length, ...(unsupported.length > 0 ? {unsupported} : {})})
}
