import {createParser, type EventSourceMessage} from 'eventsource-parser'
import type {ConnectionState, StreamFeed} from './feed.js'
import type {StreamFilter, StreamItem} from './types.js'

export interface StreamClientOptions {
  /** The daemon's base URL, e.g. http://127.0.0.1:8237. */
  url: string
  filter: StreamFilter
  /** Stored events to show first (and to fill the gap after a reconnect). */
  history: number
  /** Items are handed over in batches, at most this often (a UI renders once per batch). */
  flushMs?: number
  /** First and longest wait between reconnection attempts. */
  reconnectMs?: {initial: number; max: number}
  /** The daemon's token for /api/*, asked for at each connection: a restarted daemon has a new one. */
  token?: () => string | undefined
}

/** The headers that carry a daemon's token for /api/* (none when it needs none). */
export function tokenHeaders(token: string | undefined): Record<string, string> {
  return token ? {authorization: `Bearer ${token}`} : {}
}

/** The stream's URL for a filter, history size and the last seq already seen. */
export function streamUrl(base: string, filter: StreamFilter, history: number, after: number): string {
  const params = new URLSearchParams()
  for (const key of ['type', 'event', 'source', 'user'] as const) if (filter[key]) params.set(key, filter[key] as string)
  if (filter.violations) params.set('violations', 'true')
  params.set('history', String(history))
  if (after > 0) params.set('after', String(after))
  return `${base.replace(/\/+$/, '')}/api/stream?${params}`
}

/** A stream item with its SSE `id:`, which cdp sets on events to their seq: where a reader resumes after it. */
export interface StreamFrame {
  item: StreamItem
  id?: number
}

/**
 * Reads cdp's live stream from Server-Sent Events text arriving in chunks of any size. Line
 * handling (lines split across chunks, CR, LF or CRLF, comments, `retry:`) is eventsource-parser's,
 * which keeps an unfinished line as fragments and scans each character once, where splitting a
 * buffer ourselves rescanned it for every chunk. A frame's `event:` names its item's kind.
 */
export class SseParser {
  private frames: StreamFrame[] = []
  private readonly parser = createParser({onEvent: (message) => this.take(message)})

  /** The items of the frames this text completes; an unfinished frame waits for the next text. */
  push(text: string): StreamItem[] {
    return this.pushFrames(text).map((frame) => frame.item)
  }

  /** As push, with each frame's id. */
  pushFrames(text: string): StreamFrame[] {
    this.parser.feed(text)
    const frames = this.frames
    this.frames = []
    return frames
  }

  private take(message: EventSourceMessage): void {
    let item: StreamItem
    try {
      item = JSON.parse(message.data) as StreamItem
    } catch {
      // A frame cdp did not write: skip it rather than stop the stream.
      return
    }
    if (!item || typeof item.kind !== 'string') return
    if (message.event !== undefined && message.event !== item.kind) return
    const id = message.id === undefined ? undefined : Number(message.id)
    this.frames.push(id !== undefined && Number.isSafeInteger(id) ? {item, id} : {item})
  }
}

/**
 * Connects to a daemon's live stream and keeps connected: when the daemon stops, it says so and
 * reconnects when it is back, asking for what it missed.
 */
export function connectStream(options: StreamClientOptions): StreamFeed {
  const itemListeners = new Set<(items: StreamItem[]) => void>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()
  const flushMs = options.flushMs ?? 50
  const reconnect = options.reconnectMs ?? {initial: 500, max: 5000}
  let pending: StreamItem[] = []
  let flushTimer: NodeJS.Timeout | undefined
  let closed = false
  /** The last event id (seq) received: a reconnection asks for what came after it. */
  let lastEventId = 0
  let controller = new AbortController()
  let state: ConnectionState = {state: 'connecting', url: options.url}

  const setState = (next: ConnectionState) => {
    state = next
    for (const listener of connectionListeners) listener(state)
  }
  const flush = () => {
    flushTimer = undefined
    // Nobody listens yet (the view is still loading): keep the items, history included, for the first listener.
    if (pending.length === 0 || itemListeners.size === 0) return
    const batch = pending
    pending = []
    for (const listener of itemListeners) listener(batch)
  }
  const receive = (frames: StreamFrame[]) => {
    for (const {item, id} of frames) {
      if (id !== undefined) {
        // After a reconnect, history may repeat what was already seen.
        if (id <= lastEventId) continue
        lastEventId = id
      }
      pending.push(item)
    }
    flushTimer ??= setTimeout(flush, flushMs)
  }

  async function readOnce(): Promise<void> {
    const response = await fetch(streamUrl(options.url, options.filter, options.history, lastEventId), {
      signal: controller.signal,
      headers: {accept: 'text/event-stream', ...tokenHeaders(options.token?.())},
    })
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '')
      throw new Error(`the daemon answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`)
    }
    setState({state: 'connected', url: options.url})
    const parser = new SseParser()
    const decoder = new TextDecoder()
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) receive(parser.pushFrames(decoder.decode(chunk, {stream: true})))
  }

  async function run(): Promise<void> {
    let wait = reconnect.initial
    let wasConnected = false
    while (!closed) {
      try {
        await readOnce()
        wait = reconnect.initial
        wasConnected = true
        if (!closed) setState({state: 'disconnected', url: options.url, detail: `cdp dev at ${options.url} stopped; reconnecting when it is back…`})
      } catch (error) {
        if (closed) return
        if (state.state === 'connected') wasConnected = true
        const reason = (error as Error & {cause?: {code?: string}}).cause?.code ?? (error as Error).message
        setState({
          state: 'disconnected',
          url: options.url,
          detail: wasConnected || state.state === 'disconnected' ? `cdp dev at ${options.url} is not answering (${reason}); reconnecting…` : `cannot reach cdp dev at ${options.url} (${reason}); retrying…`,
        })
      }
      if (closed) return
      await new Promise((resolve) => setTimeout(resolve, wait))
      wait = Math.min(reconnect.max, wait * 2)
      controller = new AbortController()
      if (!closed) setState({state: 'connecting', url: options.url})
    }
  }

  void run()
  return {
    onItems(listener) {
      itemListeners.add(listener)
      if (pending.length > 0) flushTimer ??= setTimeout(flush, 0)
      return () => itemListeners.delete(listener)
    },
    onConnection(listener) {
      connectionListeners.add(listener)
      listener(state)
      return () => connectionListeners.delete(listener)
    },
    close() {
      closed = true
      controller.abort()
      clearTimeout(flushTimer)
      flush()
    },
  }
}
