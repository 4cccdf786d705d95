import {BugError} from '../errors.js'
import {destinationMatch} from '../store/filter-spec.js'
import type {ReplayStore} from '../store/replays.js'
import type {DeliveryOutcome, DestinationFilter, DestinationState, OpenDelivery, QueuedEvent, QueuedEvents} from '../store/types.js'
import type {ReplayCounts, ReplayReader, WorkerStore} from './types.js'

export interface ReplayWorkerStoreOptions {
  replays: ReplayStore
  reader: ReplayReader
  replayId: string
  /** The destination's name: its worker's bookkeeping is this replay's, and `integrations` name it alone. */
  destination: string
  /** Rewrite each event's `integrations` to `{"All": false, "<destination>": true}` (default true), as Segment's Replay does. */
  rewrite?: boolean
  /** Events handed out per second at most; default the selection's `rate` (none: as fast as the destination takes them). */
  rate?: number
  /** The clock of the rate cap (tests). */
  now?: () => number
}

/** What a replay's worker store tells its runner. */
export interface ReplayWorkerStore extends WorkerStore {
  /** True once the reader is read to its end, the checkpoint is saved there, and no event is still retrying or held. */
  settled(): boolean
  /** The counts as last saved (sent and failed only once confirmed or recorded), the checkpoint, and the last failure seen. */
  progress(): {counts: ReplayCounts; checkpoint: number; lastError: string | null}
}

/** What the reader gave up to a position and the destination's filter left out: counted once the checkpoint passes it. */
interface Skips {
  cursor: number
  count: number
}

/** A reader that can say how many corrupt lines lie up to a position (the archive reader): counted as the checkpoint passes them. */
interface CountsCorrupt {
  corruptUpTo(position: number): number
}

function countsCorrupt(reader: ReplayReader): reader is ReplayReader & CountsCorrupt {
  return typeof (reader as Partial<CountsCorrupt>).corruptUpTo === 'function'
}

/** Index of the first event with seq > `seq` in events ordered by seq. */
function after(events: readonly QueuedEvent[], seq: number): number {
  let low = 0
  let high = events.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (events[mid].seq <= seq) low = mid + 1
    else high = mid
  }
  return low
}

/** The index of the quote that closes the JSON string opening at `open`. */
function stringEnd(json: string, open: number): number {
  let close = json.indexOf('"', open + 1)
  for (;;) {
    if (close === -1) return -1
    let slashes = 0
    while (json.charCodeAt(close - 1 - slashes) === 92) slashes++
    if (slashes % 2 === 0) return close
    close = json.indexOf('"', close + 1)
  }
}

/** The index just after the JSON value starting at `start` (no whitespace: as JSON.stringify writes). */
function valueEnd(json: string, start: number): number {
  const first = json.charCodeAt(start)
  if (first === 34) {
    const close = stringEnd(json, start)
    return close === -1 ? -1 : close + 1
  }
  let depth = 0
  for (let i = start; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === 34) {
      i = stringEnd(json, i)
      if (i === -1) return -1
    } else if (c === 123 || c === 91) depth++
    else if (c === 125 || c === 93) {
      if (depth === 0) return i
      if (--depth === 0) return i + 1
    } else if (c === 44 && depth === 0) return i
  }
  return depth === 0 ? json.length : -1
}

/**
 * The message JSON with its top-level `integrations` replaced by `replacement` (JSON text), or
 * added when it has none; everything else left as it is, byte for byte. The messages a replay
 * reads were written by JSON.stringify (the store's rows, the archive reader's), so the text is
 * compact and a key is never escaped: the top level is walked (strings skipped whole with indexOf)
 * instead of parsing and writing the message again, several times the cost (measured: about 7 µs
 * for a 670-character message against 1 µs). Anything unexpected falls back to parse and stringify.
 */
export function withIntegrations(json: string, replacement: string): string {
  if (json.charCodeAt(0) === 123) {
    let depth = 0
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i)
      if (c === 34) {
        const close = stringEnd(json, i)
        if (close === -1) break
        if (depth === 1 && close - i === 13 && json.charCodeAt(close + 1) === 58 && json.startsWith('integrations', i + 1)) {
          const end = valueEnd(json, close + 2)
          if (end === -1) break
          return json.slice(0, close + 2) + replacement + json.slice(end)
        }
        i = close
      } else if (c === 123 || c === 91) depth++
      else if (c === 125 || c === 93) {
        if (--depth === 0) {
          if (i !== json.length - 1) break
          return i === 1 ? `{"integrations":${replacement}}` : `${json.slice(0, i)},"integrations":${replacement}}`
        }
      }
    }
  }
  const message = JSON.parse(json) as Record<string, unknown>
  message.integrations = JSON.parse(replacement)
  return JSON.stringify(message)
}

/** The longest the replay's loop keeps the event loop to itself. */
const yieldEveryMs = 20

/** Most events read from the reader per call, as a multiple of what was asked: a call stays short when the destination's filter leaves most out. */
const scanFactor = 8

/**
 * The WorkerStore of one replay: the real DestinationWorker runs on it as it runs on a live
 * destination's bookkeeping, with the replay's reader in place of the events table, the replay's
 * checkpoint as its cursor, and the replay's records (replay_deliveries) and counts in place of the
 * destination's. The destination's live cursor is never touched.
 *
 * - queuedEvents reads the reader on from the last position handed out, leaves out what the
 *   destination's own filter does not take (counted as skipped once the checkpoint passes them),
 *   rewrites `integrations`, holds to the rate cap, and keeps the events handed out until the
 *   worker's cursor passes them (a failed event's record needs its message; a failed write reads
 *   them again from here).
 * - recordOutcome writes the records, the counts and the checkpoint in one transaction: the
 *   checkpoint moves only with the worker's cursor, i.e. past events confirmed, recorded as
 *   failing, or left out.
 */
export function createReplayWorkerStore(options: ReplayWorkerStoreOptions): ReplayWorkerStore {
  const {replays, reader, replayId, destination} = options
  const rewrite = options.rewrite ?? true
  const now = options.now ?? Date.now
  // A computed key is an own key whatever its name ("__proto__" included).
  const integrations = JSON.stringify({All: false, [destination]: true})

  let counts: ReplayCounts = {selected: null, sent: 0, failed: 0, skipped: 0, corrupt: 0}
  let lastError: string | null = null
  /** The checkpoint as saved. */
  let checkpoint = 0
  /** The reader's position after the last event handed out. */
  let readTo = 0
  let readerDone = false
  /** Handed out and not yet passed by the worker's cursor, by seq. */
  let handedOut: QueuedEvent[] = []
  let skips: Skips[] = []
  let corruptCounted = 0
  let held = new Set<string>()
  let opened = false
  let yieldedAt = Date.now()
  let filterOf: {filter: DestinationFilter; matches: ReturnType<typeof destinationMatch.matcher>} | undefined

  // The rate cap: a token bucket holding a tenth of a second's worth (at least one event), so that
  // over a few seconds the rate stays within a few percent of the cap.
  let rate: number | undefined
  let tokens = 0
  let capacity = 0
  let filledAt = 0
  const available = (): number => {
    if (rate === undefined) return Infinity
    const at = now()
    tokens = Math.min(capacity, tokens + ((at - filledAt) * rate) / 1000)
    filledAt = at
    return Math.floor(tokens)
  }

  // Read-ahead: the next page is read (and rewritten) while the worker waits for the destination to
  // answer the current one, so that the store's work and the destination's overlap.
  type Page = Awaited<ReturnType<ReplayReader['read']>>
  let ahead: {from: number; page: Promise<Page>} | undefined
  const readPage = async (from: number, count: number): Promise<Page> => {
    const pending = ahead
    ahead = undefined
    if (pending) {
      // One read at a time (an archive is one stream): what was read ahead is used, or waited out.
      const page = await pending.page.catch(() => undefined)
      if (page && pending.from === from) {
        if (page.events.length <= count) return page
        const events = page.events.slice(0, count)
        return {events, cursor: events[events.length - 1].seq, complete: false}
      }
    }
    return reader.read(from, count)
  }
  const readAhead = (from: number, count: number) => {
    ahead = {from, page: new Promise<Page>((resolve, reject) => setImmediate(() => reader.read(from, count).then(resolve, reject)))}
    ahead.page.catch(() => undefined)
  }

  const matcherFor = (filter: DestinationFilter) => {
    if (filterOf?.filter !== filter) filterOf = {filter, matches: destinationMatch.matcher(filter)}
    return filterOf.matches
  }

  const passed = (cursor: number) => {
    const index = after(handedOut, cursor)
    if (index > 0) handedOut = handedOut.slice(index)
  }

  const store: ReplayWorkerStore = {
    async openDestination(name: string): Promise<DestinationState> {
      const replay = await replays.get(replayId)
      if (!replay) throw new BugError(`replay ${replayId} is not in the store`)
      counts = {...replay.counts}
      checkpoint = replay.checkpoint
      readTo = replay.checkpoint
      readerDone = false
      ahead = undefined
      handedOut = []
      skips = []
      corruptCounted = 0
      lastError = replay.lastError
      rate = options.rate ?? replay.selection.rate
      if (rate !== undefined && !(rate > 0)) rate = undefined
      if (rate !== undefined) {
        capacity = Math.max(1, Math.ceil(rate / 10))
        tokens = capacity
        filledAt = now()
      }
      held = new Set(await replays.heldUsers(replayId))
      opened = true
      return {name, cursor: checkpoint, firstSeq: 0, delivered: counts.sent, failedAttempts: 0, latency: replay.latency, lastDeliveredAt: null}
    },

    async queuedEvents(cursor: number, filter: DestinationFilter, limit: number): Promise<QueuedEvents> {
      // A destination that answers without I/O (and SQLite, which reads at once) would keep the worker's
      // loop in microtasks: timers (the progress view) and signals (Ctrl-C) get their turn at least this often.
      if (Date.now() - yieldedAt > yieldEveryMs) {
        await new Promise((resolve) => setImmediate(resolve))
        yieldedAt = Date.now()
      }
      passed(cursor)
      // Asked again for events already handed out (the round's write failed): the same events, from memory.
      if (cursor < readTo) {
        const events = handedOut.slice(0, limit)
        const all = events.length === handedOut.length
        return {events, cursor: all ? readTo : events[events.length - 1].seq, complete: all && readerDone}
      }
      if (readerDone) return {events: [], cursor: readTo, complete: true}
      const want = Math.min(limit, available())
      if (want <= 0) return {events: [], cursor: readTo, complete: false}
      const matches = matcherFor(filter)
      const receivedAt = new Date(now()).toISOString()
      const events: QueuedEvent[] = []
      let position = readTo
      let left = 0
      let scanned = 0
      while (events.length < want) {
        const page = await readPage(position, want - events.length)
        for (const event of page.events) {
          if (!matches({type: event.type, event: event.event, source: event.source, policy: null})) {
            left++
            continue
          }
          if (rewrite) event.message = withIntegrations(event.message, integrations)
          // The worker's latency histogram then measures the replay: handed out → confirmed.
          event.receivedAt = receivedAt
          events.push(event)
        }
        position = page.cursor
        scanned += page.events.length
        if (page.complete) {
          readerDone = true
          break
        }
        if (page.events.length === 0 || scanned >= want * scanFactor) break
      }
      if (left > 0) skips.push({cursor: position, count: left})
      if (rate !== undefined) tokens -= events.length
      readTo = position
      for (const event of events) handedOut.push(event)
      // Under a rate cap the next page waits for its tokens: nothing to read ahead.
      if (!readerDone && rate === undefined) readAhead(position, want)
      return {events, cursor: position, complete: readerDone}
    },

    async openDeliveries(_name: string, limit: number): Promise<OpenDelivery[]> {
      return replays.openDeliveries(replayId, limit)
    },

    async heldUsers(): Promise<Set<string>> {
      held = new Set(await replays.heldUsers(replayId))
      return held
    },

    async nextRetryAt(): Promise<number | undefined> {
      return replays.nextRetryAt(replayId)
    },

    async recordOutcome(outcome: DeliveryOutcome): Promise<void> {
      let failed = 0
      let error: string | null = null
      const inserted = outcome.inserted.map((row) => {
        const index = after(handedOut, row.seq) - 1
        const event = handedOut[index]
        if (index < 0 || event.seq !== row.seq) throw new BugError(`replay ${replayId}: the worker recorded event ${row.seq}, which was not handed out`)
        if (row.status === 'dead') failed++
        if (row.lastError) error = row.lastError
        return {...row, event}
      })
      for (const row of outcome.updated) {
        if (row.status === 'dead') failed++
        if (row.status !== 'delivered' && row.lastError) error = row.lastError
      }
      const to = outcome.cursor
      // Dropped by the destination's insert function: left out, as the destination's filter leaves out.
      let skipped = outcome.dropped ?? 0
      let skipsDone = 0
      let corruptTo = corruptCounted
      if (to !== undefined) {
        while (skipsDone < skips.length && skips[skipsDone].cursor <= to) skipped += skips[skipsDone++].count
        corruptTo = countsCorrupt(reader) ? reader.corruptUpTo(to) : reader.corrupt.length
      }
      await replays.recordOutcome({
        replayId,
        checkpoint: to,
        sent: outcome.delivered,
        failed,
        skipped,
        corrupt: corruptTo - corruptCounted,
        latency: outcome.latency,
        inserted,
        updated: outcome.updated,
      })
      // Written: only now does anything count.
      counts = {...counts, sent: counts.sent + outcome.delivered, failed: counts.failed + failed, skipped: counts.skipped + skipped, corrupt: counts.corrupt + corruptTo - corruptCounted}
      corruptCounted = corruptTo
      if (skipsDone > 0) skips = skips.slice(skipsDone)
      if (error !== null) lastError = error
      if (to !== undefined) {
        checkpoint = to
        passed(to)
      }
    },

    settled(): boolean {
      return opened && readerDone && checkpoint >= readTo && held.size === 0
    },

    progress() {
      return {counts: {...counts}, checkpoint, lastError}
    },
  }
  return store
}
