import type {IncomingMessage, ServerResponse} from 'node:http'
import type {HistoryCursor} from '../stream/history.js'
import type {StreamHub} from '../stream/hub.js'
import {maxStreamHistory} from '../stream/limits.js'
import type {StreamFilter} from '../stream/types.js'
import {HttpError} from './http-error.js'

export interface StreamDeps {
  hub: StreamHub
  /** Stored events for a reader that asks for history, a slice at a time. */
  history: (filter: StreamFilter, options: {limit: number; after: number}) => HistoryCursor
}

/** A comment line this often keeps proxies from closing the stream and finds dead readers. */
const heartbeatMs = 15_000

function wholeNumber(name: string, value: string | undefined, max: number): number {
  if (value === undefined || value === '') return 0
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'invalid_filter', `${name} must be a whole number from 0 to ${max}, not "${value}"`, {field: name})
  if (n > max) throw new HttpError(400, 'invalid_filter', `${name} is at most ${max}, not ${value}`, {field: name, limit: max})
  return n
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false
  if (value === 'true' || value === '1') return true
  throw new HttpError(400, 'invalid_filter', `${name} must be true or false, not "${value}"`, {field: name})
}

/**
 * GET /api/stream: Server-Sent Events of every event as it is stored, every delivery outcome
 * after it, and what user functions did (`function` items, live only; which of them a filtered
 * reader gets is StreamHub.publishFunctionRuns's rule). `history=N` (at most 1,000) first sends the newest N stored events (after `after`, a
 * seq, when given), at the pace the reader takes them. Filters: type, event, source, user,
 * violations=true. A reader that keeps up gets every item; one that stalls (megabytes behind)
 * misses items, announced by a `skipped` event; ingest never waits for it. At most 32 readers.
 */
export function serveStream(
  req: IncomingMessage,
  res: ServerResponse,
  deps: StreamDeps,
  params: Record<'type' | 'event' | 'source' | 'user' | 'violations' | 'history' | 'after', string | undefined>,
): void {
  const filter: StreamFilter = {
    type: params.type || undefined,
    event: params.event || undefined,
    source: params.source || undefined,
    user: params.user || undefined,
    violations: flag('violations', params.violations),
  }
  const limit = wholeNumber('history', params.history, maxStreamHistory)
  const after = wholeNumber('after', params.after, Number.MAX_SAFE_INTEGER)
  const {hub} = deps
  if (hub.full) {
    const most = hub.limits.readers
    throw new HttpError(503, 'too_many_readers', `the live stream already has ${most} readers, the most it serves at once; close one (another cdp tail?) and try again`, {limit: most})
  }
  req.socket.setNoDelay(true)
  res.writeHead(200, {'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no'})
  res.write('retry: 1000\n: cdp live stream\n\n')
  const writer = {
    write: (frame: string) => res.write(frame),
    queuedBytes: () => res.writableLength,
    onDrain: (listener: () => void) => void res.once('drain', listener),
    end: () => void res.end(),
  }
  // The history cursor and the subscription in one synchronous step: every event stored before
  // is history, every one after is live; none falls between.
  const reader = hub.subscribe(writer, filter, limit > 0 ? deps.history(filter, {limit, after}) : undefined)
  const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs)
  heartbeat.unref()
  const close = () => {
    clearInterval(heartbeat)
    reader.unsubscribe()
  }
  res.on('close', close)
  req.on('close', close)
}
