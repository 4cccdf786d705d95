import type {IncomingMessage, ServerResponse} from 'node:http'
import {sseFrame, type StreamHub} from '../stream/hub.js'
import type {StreamEvent, StreamFilter} from '../stream/types.js'
import {HttpError} from './http-error.js'

export interface StreamDeps {
  hub: StreamHub
  /** Stored events for a reader that asks for history. */
  history: (filter: StreamFilter, options: {limit: number; after: number}) => StreamEvent[]
}

/** Most history a reader may ask for. */
const maxHistory = 10_000
/** A comment line this often keeps proxies from closing the stream and finds dead readers. */
const heartbeatMs = 15_000

function wholeNumber(name: string, value: string | undefined, max: number): number {
  if (value === undefined || value === '') return 0
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > max) throw new HttpError(400, 'invalid_filter', `${name} must be a whole number from 0 to ${max}, not "${value}"`, {field: name})
  return n
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false
  if (value === 'true' || value === '1') return true
  throw new HttpError(400, 'invalid_filter', `${name} must be true or false, not "${value}"`, {field: name})
}

/**
 * GET /api/stream: Server-Sent Events of every event as it is stored and every delivery outcome
 * after it. `history=N` first sends the newest N stored events (after `after`, a seq, when given).
 * Filters: type, event, source, user, violations=true. A reader that falls behind misses items
 * (announced by a `skipped` event); ingest never waits for it.
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
  const limit = wholeNumber('history', params.history, maxHistory)
  const after = wholeNumber('after', params.after, Number.MAX_SAFE_INTEGER)
  req.socket.setNoDelay(true)
  res.writeHead(200, {'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no'})
  res.write('retry: 1000\n: cdp live stream\n\n')
  const writer = {
    write: (frame: string) => res.write(frame),
    onDrain: (listener: () => void) => res.once('drain', listener),
    end: () => res.end(),
  }
  // History and subscription happen in one synchronous step: no event can fall between them.
  const reader = deps.hub.subscribe(writer, filter)
  for (const event of deps.history(filter, {limit, after})) reader.send(sseFrame('event', JSON.stringify(event), event.seq), event.seq)
  const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs)
  heartbeat.unref()
  const close = () => {
    clearInterval(heartbeat)
    reader.unsubscribe()
  }
  res.on('close', close)
  req.on('close', close)
}
