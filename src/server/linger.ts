import type {IncomingMessage, ServerResponse} from 'node:http'

/** How much of a refused body is read and thrown away, and for how long, before the connection is cut. */
export interface LingerBounds {
  maxBytes: number
  maxMs: number
}

/**
 * Enough for the rest of an upload many times the largest body cdp takes (500 KB a batch) to
 * arrive, on loopback in milliseconds, over a network within a few seconds, as nginx's lingering
 * close; beyond that the client is not an SDK that made a mistake.
 */
export const lingerBounds: LingerBounds = {maxBytes: 8 * 1024 * 1024, maxMs: 5_000}

/** Whether the client is still sending a body this server has not read to its end. */
export function bodyPending(req: IncomingMessage): boolean {
  if (req.complete || req.readableEnded || req.destroyed) return false
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Ends a response written while the request body is still arriving (an upload refused early for
 * its size, key or route). The answer is already on the wire; closing now would make the kernel
 * answer the client's next bytes with a reset, and a reset discards the answer waiting unread in
 * the client's buffer, so the client sees a dropped connection instead of its 400. Instead the rest
 * of the body is read and thrown away until it ends (a lingering close, as nginx does), within
 * bounds: a client that sends more than maxBytes, or for longer than maxMs, is cut off.
 */
export function endAfterBody(req: IncomingMessage, res: ServerResponse, bounds: LingerBounds = lingerBounds): void {
  let discarded = 0
  let done = false
  const finish = (cutOff: boolean) => {
    if (done) return
    done = true
    clearTimeout(timer)
    req.off('data', onData)
    req.off('end', onEnd)
    req.off('close', onEnd)
    // The response says Connection: close, so ending it closes the connection once it is written.
    res.end()
    if (cutOff) req.socket.destroy()
  }
  const onData = (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > bounds.maxBytes) finish(true)
  }
  const onEnd = () => finish(false)
  const timer = setTimeout(() => finish(true), bounds.maxMs)
  timer.unref()
  req.on('data', onData)
  req.on('end', onEnd)
  req.on('close', onEnd)
  req.resume()
  if (!bodyPending(req)) finish(false)
}
