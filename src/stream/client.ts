import type {ConnectionState, StreamFeed} from './feed.js'
import type {StreamEvent, StreamFilter, StreamItem} from './types.js'

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

/** Parses Server-Sent Events text into items; keeps an unfinished frame for the next chunk. */
export class SseParser {
  private buffer = ''

  push(text: string): StreamItem[] {
    this.buffer += text
    const items: StreamItem[] = []
    let end: number
    while ((end = this.buffer.search(/\r?\n\r?\n/)) !== -1) {
      const frame = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, '')
      let data = ''
      for (const line of frame.split(/\r?\n/)) {
        if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5)
      }
      if (!data) continue
      try {
        const item = JSON.parse(data) as StreamItem
        if (item && typeof item.kind === 'string') items.push(item)
      } catch {
        // A frame cdp did not write: skip it rather than stop the stream.
      }
    }
    return items
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
  let lastSeq = 0
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
  const receive = (items: StreamItem[]) => {
    for (const item of items) {
      if (item.kind === 'event') {
        // After a reconnect, history may repeat what was already seen.
        if ((item as StreamEvent).seq <= lastSeq) continue
        lastSeq = (item as StreamEvent).seq
      }
      pending.push(item)
    }
    flushTimer ??= setTimeout(flush, flushMs)
  }

  async function readOnce(): Promise<void> {
    const response = await fetch(streamUrl(options.url, options.filter, options.history, lastSeq), {
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
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) receive(parser.push(decoder.decode(chunk, {stream: true})))
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
