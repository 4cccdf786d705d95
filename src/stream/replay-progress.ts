import type {Logger} from '../log.js'
import {errorMessage} from '../errors.js'
import type {StoredReplay} from '../store/replays.js'
import type {StreamReplay} from './types.js'

/**
 * `cdp replay` runs in its own process and keeps its progress in the store; the daemon looks each
 * second, while anyone follows the live stream, and publishes every replay that changed since its
 * last look, so that `cdp tail` shows replays as their own kind of item.
 */
export function followReplays(options: {
  list: () => Promise<readonly StoredReplay[]> | readonly StoredReplay[]
  publish: (replays: StreamReplay['replay'][]) => void
  /** Whether anyone follows the stream now: nothing is read otherwise. */
  wanted: () => boolean
  log: Logger
  intervalMs?: number
}): {close: () => void} {
  const seen = new Map<string, string>()
  let primed = false
  let busy = false
  const look = async () => {
    if (busy || !options.wanted()) return
    busy = true
    try {
      const changed: StreamReplay['replay'][] = []
      for (const replay of await options.list()) {
        if (seen.get(replay.id) === replay.updatedAt) continue
        seen.set(replay.id, replay.updatedAt)
        // The first look only learns what is there: replays that ended before are not news.
        if (!primed && replay.status !== 'running') continue
        changed.push({id: replay.id, destination: replay.destination, status: replay.status, counts: replay.counts, updatedAt: replay.updatedAt, finishedAt: replay.finishedAt, lastError: replay.lastError})
      }
      primed = true
      options.publish(changed)
    } catch (error) {
      options.log.debug(`replay progress not read: ${errorMessage(error)}`)
    } finally {
      busy = false
    }
  }
  const timer = setInterval(() => void look(), options.intervalMs ?? 1000)
  timer.unref()
  return {close: () => clearInterval(timer)}
}
