import {defaultTimeoutMs, destinationDefaults} from '../config/destinations.js'
import type {DestinationConfig} from '../config/schema.js'
import type {Logger} from '../log.js'
import type {SegmentMessage} from '../message/types.js'
import {destinationMatch} from '../store/filter-spec.js'
import type {Awaitable, DeliveryAttempt, DeliveryOutcome, DeliveryRow, DestinationFilter, NewEvent, OpenDelivery, QueuedEvent} from '../store/types.js'
import {LatencyHistogram} from './latency.js'
import {RecentEvents} from './recent-events.js'
import {backoffMs, retryPolicy, type RetryPolicy} from './retry.js'
import {DeliveryError, type DeliveryResult, type DestinationAdapter, type EventSendResult, type OutgoingEvent, type WorkerStore} from './types.js'

export interface WorkerOptions {
  config: DestinationConfig
  adapter: DestinationAdapter
  /** The live destination's bookkeeping, or a replay's (src/replay/): only what the worker calls. */
  store: WorkerStore
  log: Logger
  /** Told of each round's results, when wantResults() says someone listens (else nothing is built). */
  onResults?: (results: DeliveryResult[]) => void
  wantResults?: () => boolean
  /** How often the worker looks for work it was not told about (a `cdp deliveries retry`). */
  pollMs?: number
  /** How often the cursor and counters are saved when nothing failed. */
  saveEveryMs?: number
  /** How long to let a partial batch gather before sending it (default 50 ms; Segment's SDKs wait seconds). */
  lingerMs?: number
}

/** History entries kept per delivery record. */
const historyLimit = 20

/** Sends to a destination are stopped with this reason: the round is dropped, not recorded. */
class Stopping extends Error {}

/** An event in a round: from the cursor (fresh) or an open delivery record. */
interface Item {
  event: OutgoingEvent
  receivedAt: string
  row?: OpenDelivery
}

/** An event done with in a round: delivered, or dropped on the way (by the destination's insert function). */
interface Done {
  item: Item
  ms: number
  dropped?: true
}

interface Failure {
  items: Item[]
  error: DeliveryError
  ms: number
  /** Epoch ms of the failure: backoff and Retry-After count from the answer, not from the round's start. */
  at: number
}

function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return typeof (value as {then?: unknown} | null)?.then === 'function'
}

function userKeyOf(event: QueuedEvent): string {
  return event.userId ?? event.anonymousId ?? event.messageId
}

function outgoing(event: QueuedEvent): OutgoingEvent {
  let parsed: SegmentMessage | undefined
  return {
    seq: event.seq,
    messageId: event.messageId,
    source: event.source,
    userKey: userKeyOf(event),
    json: event.message,
    get message() {
      parsed ??= JSON.parse(event.message) as SegmentMessage
      return parsed
    },
  }
}

/** The lane's items with those of retrying users moved to the end; each user's own order kept. */
function retryingLast(lane: Item[], retryingUsers: ReadonlySet<string>): Item[] {
  const others = lane.filter((item) => !retryingUsers.has(item.event.userKey))
  return others.length === lane.length ? lane : [...others, ...lane.filter((item) => retryingUsers.has(item.event.userKey))]
}

/** FNV-1a: a user's events always take the same lane, so they go in order. */
function laneOf(key: string, lanes: number): number {
  if (lanes === 1) return 0
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
  return (hash >>> 0) % lanes
}

function asDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error
  // An adapter's unexpected error may be passing (a dropped connection): retry, within the limit.
  return new DeliveryError(error instanceof Error ? error.message : String(error), {retryable: true})
}

/**
 * Delivers the events queued for one destination. Events come from the cursor over the events
 * table, in order, split into lanes by user so that one user's events are never reordered, and
 * sent in batches. An event that fails leaves the cursor's path for a delivery record: it is
 * retried with backoff, and its user's later events wait behind it (held as 'pending') until it
 * is delivered or dead-lettered. When the destination rate-limits (429), or every send fails two
 * rounds in a row, the whole destination waits for the earliest retry instead of trying each new event.
 *
 * Every call to the store is awaited (DeliveryStore's are Awaitable), and all of them but the
 * first read (openDestination, made in the constructor) are made by the one running loop, one
 * round at a time: refresh() and restart() only mark what must be read again and wake the loop.
 */
export class DestinationWorker {
  readonly name: string
  private readonly filter: DestinationFilter
  private readonly batchSize: number
  private readonly concurrency: number
  private readonly timeoutMs: number
  private readonly retry: RetryPolicy
  private histogram: LatencyHistogram
  private readonly pollMs: number
  private readonly saveEveryMs: number
  private readonly lingerMs: number
  /** Events committed since the last read of the store, while the worker keeps up. */
  private readonly recent: RecentEvents
  /** Bumped when the store's events are deleted: a round begun before drops its results. */
  private generation = 0
  private lingerTimer?: NodeJS.Timeout
  private cursor = 0
  private savedCursor = 0
  private unsaved = {delivered: 0, failedAttempts: 0}
  private lastSave = Date.now()
  /** Users with an open delivery record: their newer events wait behind it. */
  private held = new Set<string>()
  /** Epoch ms when the earliest open record is due. */
  private openDueAt = Infinity
  /** The held users and due time must be read again (records changed outside, or events deleted) before the next round. */
  private staleOpen = false
  /** The destination failed as a whole: nothing is sent before this. */
  private pausedUntil = 0
  /** Rounds in a row in which sends were made and all failed. */
  private failedRounds = 0
  private running = false
  private rerun = false
  private stopped = false
  private timer?: NodeJS.Timeout
  private loop?: Promise<void>
  private readonly stopController = new AbortController()
  /**
   * The destination's state read from the store: the cursor, counters, held users and due time.
   * Rounds wait for it; the manager awaits it before the worker counts as started (it rejects
   * when the store cannot be read).
   */
  readonly opened: Promise<void>

  constructor(private readonly options: WorkerOptions) {
    const {config, store} = options
    const defaults = destinationDefaults[config.type] ?? {batchSize: 1, concurrency: 1}
    this.name = config.name
    this.filter = {types: config.types, events: config.events, sources: config.sources}
    this.batchSize = config.batchSize ?? defaults.batchSize
    this.concurrency = config.concurrency ?? defaults.concurrency
    this.timeoutMs = config.timeoutMs ?? defaultTimeoutMs
    this.retry = retryPolicy(config.retry)
    this.pollMs = options.pollMs ?? 1000
    this.saveEveryMs = options.saveEveryMs ?? 250
    this.lingerMs = options.lingerMs ?? 50
    this.recent = new RecentEvents(destinationMatch.matcher(this.filter))
    this.histogram = new LatencyHistogram()
    // The destination is opened now (a new one starts at the newest event stored at this point);
    // its state is taken in when the store answers.
    this.opened = this.open(store)
    // A failure is reported to whoever awaits it (the manager, a round): not as an unhandled rejection.
    this.opened.catch(() => undefined)
  }

  private async open(store: WorkerStore): Promise<void> {
    const generation = this.generation
    const state = await store.openDestination(this.name)
    // Events deleted meanwhile (restart()): the cursor starts again at 0, not at the state read before.
    if (generation === this.generation) {
      this.cursor = state.cursor
      this.savedCursor = state.cursor
    }
    this.histogram = new LatencyHistogram(state.latency)
    await this.refreshOpen()
  }

  /** Events were committed: the ones this destination takes are kept in memory for it, and it looks. */
  offer(rows: readonly NewEvent[], seqs: readonly number[]): void {
    this.recent.offer(rows, seqs)
    this.wake()
  }

  /**
   * New events may be queued: look soon. Cheap when already busy. A partial batch is given
   * lingerMs to fill, so that events arriving one by one still go in batches.
   */
  wake(): void {
    if (this.stopped) return
    if (this.running) {
      this.rerun = true
      return
    }
    if (this.lingerTimer) return
    if (this.lingerMs > 0 && this.recent.size < this.batchSize) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined
        this.start()
      }, this.lingerMs)
      return
    }
    this.start()
  }

  private start(): void {
    if (this.stopped || this.running) return
    this.running = true
    clearTimeout(this.timer)
    this.loop = this.work()
  }

  /** The store's events were deleted and numbering starts again: so does this destination. */
  restart(): void {
    this.generation++
    this.cursor = 0
    this.savedCursor = 0
    this.recent.desync()
    // Read by the loop before its next round; a round in flight drops its results (generation).
    this.staleOpen = true
    this.wake()
  }

  private async work(): Promise<void> {
    let failed = false
    try {
      await this.opened
      for (;;) {
        this.rerun = false
        if (this.staleOpen) {
          try {
            await this.refreshOpen()
          } catch (error) {
            // As before: logged, and the round goes on with what it knew.
            this.options.log.error(`destination "${this.name}": ${(error as Error).message}`)
          }
          if (this.stopped) break
        }
        const result = await this.round()
        if (this.stopped) break
        if (result === 'full') continue
        if (!this.rerun) break
        // Events came in during the round: let them gather into a batch.
        if (this.lingerMs > 0 && this.recent.size < this.batchSize) await new Promise((resolve) => setTimeout(resolve, this.lingerMs))
      }
      await this.saveIfDue(false)
    } catch (error) {
      failed = true
      this.options.log.error(`destination "${this.name}": ${(error as Error).message}`)
    } finally {
      this.running = false
      this.schedule()
      // Woken while the last save was being written: the loop had already decided to end, so look again.
      if (!failed && this.rerun) this.wake()
    }
  }

  private schedule(): void {
    if (this.stopped) return
    const now = Date.now()
    const due = Math.max(this.openDueAt, this.pausedUntil)
    const wait = Math.max(0, Math.min(this.pollMs, due - now, this.unsavedWork() ? this.saveEveryMs : Infinity))
    this.timer = setTimeout(() => this.refresh(), wait)
    this.timer.unref()
  }

  /** Picks up records changed from outside (a `cdp deliveries retry`), then works: the loop reads them before its next round. */
  refresh(): void {
    if (this.stopped) return
    this.staleOpen = true
    this.wake()
  }

  private async refreshOpen(): Promise<void> {
    this.staleOpen = false
    this.held = await this.options.store.heldUsers(this.name)
    this.openDueAt = (await this.options.store.nextRetryAt(this.name)) ?? Infinity
  }

  private unsavedWork(): boolean {
    return this.cursor !== this.savedCursor || this.unsaved.delivered > 0 || this.unsaved.failedAttempts > 0
  }

  /**
   * One round: take what is due, send it lane by lane, record what happened. 'idle' when there
   * was nothing to do, 'full' when there may be more waiting at once.
   */
  private async round(): Promise<'idle' | 'partial' | 'full'> {
    const now = Date.now()
    if (now < this.pausedUntil) return 'idle'
    const generation = this.generation
    const window = this.batchSize * this.concurrency
    const open = this.held.size > 0 && now >= this.openDueAt ? await this.dueOpenDeliveries(now, window) : []
    const fresh: Item[] = []
    const holding: Item[] = []
    let cursor = this.cursor
    let full = open.length >= window
    if (open.length < window) {
      const room = window - open.length
      const queued = this.recent.take(room) ?? (await this.readStore(room))
      cursor = queued.cursor
      full = queued.events.length >= room
      for (const event of queued.events) {
        const item = {event: outgoing(event), receivedAt: event.receivedAt}
        if (this.held.has(item.event.userKey)) holding.push(item)
        else fresh.push(item)
      }
    }
    // Stopped, or the events deleted, while the store answered: what was read is of no use.
    if (this.stopped || generation !== this.generation) return 'idle'
    if (open.length === 0 && fresh.length === 0 && holding.length === 0) {
      this.cursor = cursor
      return 'idle'
    }

    const lanes: Item[][] = Array.from({length: this.concurrency}, () => [])
    for (const item of [...open, ...fresh]) lanes[laneOf(item.event.userKey, this.concurrency)].push(item)
    // A lane stops at its first failure. A user whose event is being retried goes last in its lane,
    // so an event that keeps failing holds back only its own user, never others sharing the lane.
    const retryingUsers = new Set(open.filter((item) => item.row?.status === 'retrying').map((item) => item.event.userKey))
    if (retryingUsers.size > 0) for (let i = 0; i < lanes.length; i++) lanes[i] = retryingLast(lanes[i], retryingUsers)
    const delivered: Done[] = []
    const failures: Failure[] = []
    /** Items not attempted because an earlier send in their lane failed. */
    const skipped: Item[] = []
    await Promise.all(lanes.map((lane) => this.sendLane(lane, delivered, failures, skipped)))
    if (this.stopped || generation !== this.generation) return 'idle'
    await this.record(cursor, delivered, failures, [...holding, ...skipped])
    return full ? 'full' : 'partial'
  }

  /**
   * Reads queued events from the store; once it reaches the newest, later commits are followed in
   * memory. Only an answer given at once (SQLite) can be followed that way: events committed while
   * a later answer was on its way were offered before memory was synced, and would be missed; with
   * a store that answers later the worker keeps reading it.
   */
  private readStore(limit: number): Awaitable<{events: QueuedEvent[]; cursor: number}> {
    const queued = this.options.store.queuedEvents(this.cursor, this.filter, limit)
    if (isPromise(queued)) return queued
    if (queued.complete) this.recent.syncedAt(queued.cursor)
    return queued
  }

  /** Open records due now, oldest first; a user whose oldest record is not due waits whole. */
  private async dueOpenDeliveries(now: number, limit: number): Promise<Item[]> {
    const due: Item[] = []
    const waiting = new Set<string>()
    const retrying = new Set<string>()
    let nextDue = Infinity
    for (const row of await this.options.store.openDeliveries(this.name, limit * 4)) {
      if (waiting.has(row.userKey)) continue
      if (row.nextAttemptAt > now) {
        waiting.add(row.userKey)
        nextDue = Math.min(nextDue, row.nextAttemptAt)
        continue
      }
      // Behind a retrying event its user's held ones wait for the next round: taking them now would
      // fill the window with events that cannot go before it, and starve every other user.
      if (retrying.has(row.userKey)) continue
      if (row.status === 'retrying') retrying.add(row.userKey)
      due.push({event: outgoing(row), receivedAt: row.receivedAt, row})
      if (due.length >= limit) break
    }
    // Nothing due: events held behind a retrying one are not due before it, whatever their own time.
    if (due.length === 0) this.openDueAt = nextDue
    return due
  }

  private async sendLane(lane: Item[], delivered: Done[], failures: Failure[], skipped: Item[]): Promise<void> {
    let prepared = this.prepare(lane.slice(0, this.batchSize))
    for (let start = 0; start < lane.length; start += this.batchSize) {
      if (this.stopped) return
      const batch = lane.slice(start, start + this.batchSize)
      const ready = await prepared
      // The next batch is prepared (its insert function runs) while this one is sent.
      const next = start + this.batchSize
      prepared = next < lane.length ? this.prepare(lane.slice(next, next + this.batchSize)) : Promise.resolve(undefined)
      const failed = await this.sendBatch(batch, delivered, failures, skipped, ready)
      if (failed) {
        // The rest of the lane is not tried: its users' order must hold, and the destination may be down.
        skipped.push(...lane.slice(start + this.batchSize))
        return
      }
    }
  }

  /** The adapter's work before a send, begun now; undefined when it has none, or when it failed (the send does it again and fails itself). */
  private prepare(batch: Item[]): Promise<unknown> {
    const {adapter} = this.options
    if (!adapter.prepare || batch.length === 0) return Promise.resolve(undefined)
    return adapter.prepare(batch.map((item) => item.event)).catch(() => undefined)
  }

  /**
   * Sends one batch; true when it failed in a way that stops the lane. A batch refused outright
   * (a 400, say) is sent again one event at a time, so one bad event does not take its
   * neighbours to the dead letters with it.
   */
  private async sendBatch(batch: Item[], delivered: Done[], failures: Failure[], skipped: Item[], prepared?: unknown): Promise<boolean> {
    const began = Date.now()
    try {
      const results = await this.send(batch.map((item) => item.event), prepared)
      const ms = Date.now() - began
      if (!results) {
        for (const item of batch) delivered.push({item, ms})
        return false
      }
      // A fate per event (an insert function dropped some, onBatch answered per event): only the failed ones go again.
      const at = Date.now()
      let stop = false
      batch.forEach((item, index) => {
        const result = results[index] ?? {status: 'failed', error: new DeliveryError('the destination gave no result for this event', {retryable: true})}
        if (result.status !== 'failed') {
          delivered.push(result.status === 'dropped' ? {item, ms, dropped: true} : {item, ms})
          return
        }
        failures.push({items: [item], error: result.error, ms, at})
        if (result.error.retryable) stop = true
      })
      return stop
    } catch (error) {
      if (error instanceof Stopping) return true
      const failure = asDeliveryError(error)
      if (failure.retryable || batch.length === 1) {
        const at = Date.now()
        failures.push({items: batch, error: failure, ms: at - began, at})
        return failure.retryable
      }
      for (let i = 0; i < batch.length; i++) {
        if (this.stopped || (await this.sendBatch([batch[i]], delivered, failures, skipped))) {
          skipped.push(...batch.slice(i + 1))
          return true
        }
      }
      return false
    }
  }

  private async send(events: OutgoingEvent[], prepared?: unknown): Promise<void | EventSendResult[]> {
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const signal = AbortSignal.any([this.stopController.signal, timeout])
    try {
      return await this.options.adapter.send(events, signal, prepared)
    } catch (error) {
      if (this.stopController.signal.aborted) throw new Stopping()
      if (timeout.aborted) throw new DeliveryError(`timed out after ${this.timeoutMs} ms`, {retryable: true})
      throw error
    }
  }

  /**
   * Records a round and moves the cursor past its events. Failures and held events must be written
   * before the cursor moves: if that write fails (a busy or full disk), the cursor and everything in
   * memory stay as they were, and the round's events are read from the store again next time.
   */
  private async record(cursor: number, delivered: Done[], failures: Failure[], held: Item[]): Promise<void> {
    const outcome: DeliveryOutcome = {destination: this.name, delivered: 0, failedAttempts: 0, latency: '', inserted: [], updated: []}
    const results: DeliveryResult[] | undefined = this.options.onResults && (this.options.wantResults?.() ?? true) ? [] : undefined
    const at = new Date().toISOString()
    const latencies: number[] = []
    for (const {item, ms, dropped} of delivered) {
      latencies.push(Date.now() - Date.parse(item.receivedAt))
      if (dropped) outcome.dropped = (outcome.dropped ?? 0) + 1
      else outcome.delivered++
      if (item.row) {
        const history = [...item.row.history, {at, ms}].slice(-historyLimit)
        outcome.updated.push({id: item.row.id, status: 'delivered', attempts: item.row.attempts + 1, nextAttemptAt: 0, lastStatus: item.row.lastStatus, lastError: item.row.lastError, history})
      }
      results?.push({destination: this.name, seq: item.event.seq, messageId: item.event.messageId, status: 'delivered', attempts: (item.row?.attempts ?? 0) + 1})
    }
    let retryAt = Infinity
    for (const failure of failures) {
      const {error} = failure
      const attempt: DeliveryAttempt = {at, ms: failure.ms, status: error.status, error: error.message}
      for (const item of failure.items) {
        outcome.failedAttempts++
        const attempts = (item.row?.attempts ?? 0) + 1
        const dead = !error.retryable || attempts >= this.retry.maxAttempts
        const nextAttemptAt = dead ? 0 : failure.at + backoffMs(this.retry, attempts, error.retryAfterMs)
        if (!dead) retryAt = Math.min(retryAt, nextAttemptAt)
        const row: DeliveryRow = {
          status: dead ? 'dead' : 'retrying',
          attempts,
          nextAttemptAt,
          lastStatus: error.status ?? null,
          lastError: error.message,
          history: [...(item.row?.history ?? []), attempt].slice(-historyLimit),
        }
        if (item.row) outcome.updated.push({id: item.row.id, ...row})
        else outcome.inserted.push({seq: item.event.seq, userKey: item.event.userKey, ...row})
        results?.push({
          destination: this.name,
          seq: item.event.seq,
          messageId: item.event.messageId,
          status: row.status,
          attempts,
          httpStatus: error.status,
          error: error.message,
          nextAttemptAt: dead ? undefined : nextAttemptAt,
        })
      }
    }
    for (const item of held) {
      if (item.row) continue
      outcome.inserted.push({seq: item.event.seq, userKey: item.event.userKey, status: 'pending', attempts: 0, nextAttemptAt: 0, lastStatus: null, lastError: null, history: []})
      results?.push({destination: this.name, seq: item.event.seq, messageId: item.event.messageId, status: 'pending', attempts: 0})
    }
    if (outcome.inserted.length > 0 || outcome.updated.length > 0) {
      const histogram = new LatencyHistogram(this.histogram.serialise())
      for (const ms of latencies) histogram.add(ms)
      try {
        await this.save(outcome, cursor, histogram)
      } catch (error) {
        // Not written: the events taken from memory must be read again from the cursor, which has not moved.
        this.recent.desync()
        throw error
      }
      this.histogram = histogram
      await this.refreshOpen()
    } else {
      // Nothing that must be written now: the cursor is saved with the next save, at most saveEveryMs on.
      this.cursor = cursor
      for (const ms of latencies) this.histogram.add(ms)
      this.unsaved.delivered += outcome.delivered
      this.unsaved.failedAttempts += outcome.failedAttempts
    }
    // A 429 limits the whole destination; so does a second round in a row where every send failed
    // (it is down, not refusing one event): then nothing goes until the earliest retry is due.
    if (delivered.length > 0) this.failedRounds = 0
    else if (failures.length > 0) this.failedRounds++
    const rateLimited = failures.some((failure) => failure.error.status === 429)
    this.pausedUntil = retryAt !== Infinity && (rateLimited || (delivered.length === 0 && this.failedRounds >= 2)) ? retryAt : 0
    if (outcome.inserted.length === 0 && outcome.updated.length === 0) await this.saveIfDue(true)
    if (results && results.length > 0) this.options.onResults?.(results)
  }

  /**
   * Saves the cursor and counters. Records of failures are saved at once; plain progress at most
   * every saveEveryMs: a crash in between sends those events again (delivery is at least once).
   */
  private async saveIfDue(onlyWhenDue: boolean): Promise<void> {
    if (!this.unsavedWork()) return
    if (onlyWhenDue && Date.now() - this.lastSave < this.saveEveryMs) return
    await this.save({destination: this.name, delivered: 0, failedAttempts: 0, latency: '', inserted: [], updated: []}, this.cursor, this.histogram)
  }

  /** Writes the outcome with the cursor and counters; only once it is written do they count as saved (and the cursor move). */
  private async save(outcome: DeliveryOutcome, cursor: number, histogram: LatencyHistogram): Promise<void> {
    const generation = this.generation
    await this.options.store.recordOutcome({
      ...outcome,
      cursor,
      delivered: this.unsaved.delivered + outcome.delivered,
      failedAttempts: this.unsaved.failedAttempts + outcome.failedAttempts,
      latency: histogram.serialise(),
    })
    // Only the running loop (or stop(), after it) saves or counts: nothing was counted meanwhile.
    this.unsaved = {delivered: 0, failedAttempts: 0}
    this.lastSave = Date.now()
    // The events were deleted while it was written (restart()): the cursor stays where numbering starts again.
    if (generation !== this.generation) return
    this.cursor = cursor
    this.savedCursor = cursor
  }

  /** Stops sending: a send in flight is abandoned (its events go again next time); progress is saved. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    clearTimeout(this.lingerTimer)
    this.stopController.abort(new Stopping())
    await this.opened.catch(() => undefined)
    await this.loop
    try {
      await this.saveIfDue(false)
    } catch (error) {
      // Progress not saved is sent again next time (at least once); the adapter still closes.
      this.options.log.error(`destination "${this.name}": could not save its progress: ${(error as Error).message}`)
    }
    await this.options.adapter.close()
  }
}
