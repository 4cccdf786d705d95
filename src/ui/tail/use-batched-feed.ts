import {useLayoutEffect, useRef, useState} from 'react'
import type {ConnectionState, StreamFeed} from '../../stream/feed.js'
import type {StreamItem} from '../../stream/types.js'

/**
 * Subscribes to the feed and hands its items on at most once per `intervalMs`. At 1,000 events/s
 * the feed's own batches can still come dozens of times a second; drawing each would spend the
 * CPU on frames nobody can read. The first batch after a quiet spell goes through at once, so a
 * single event shows without delay. Returns the latest connection state.
 */
export function useBatchedFeed(feed: StreamFeed, onFlush: (items: StreamItem[]) => void, intervalMs: number): ConnectionState | undefined {
  const [connection, setConnection] = useState<ConnectionState>()
  const onFlushRef = useRef(onFlush)
  onFlushRef.current = onFlush

  // A layout effect subscribes while render() runs, so no item the feed emits after it is missed.
  useLayoutEffect(() => {
    let buffer: StreamItem[] = []
    let timer: NodeJS.Timeout | undefined
    let lastFlush = Number.NEGATIVE_INFINITY

    const flush = () => {
      timer = undefined
      lastFlush = Date.now()
      const items = buffer
      buffer = []
      if (items.length > 0) onFlushRef.current(items)
    }

    const offItems = feed.onItems((items) => {
      // A loop, not push(...items): a spread of a very large batch can overflow the stack.
      for (const item of items) buffer.push(item)
      if (timer !== undefined) return
      const wait = lastFlush + intervalMs - Date.now()
      if (wait <= 0) flush()
      else timer = setTimeout(flush, wait)
    })
    const offConnection = feed.onConnection((state) => setConnection(state))

    return () => {
      offItems()
      offConnection()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [feed, intervalMs])

  return connection
}
