import type {FunctionRunRecord} from '../../functions/types.js'
import type {DeliveryStatus} from '../../store/types.js'
import type {DeliveryMark, StreamDelivery, StreamEvent, StreamItem, StreamReplay} from '../../stream/types.js'

/**
 * The state of `cdp tail`, without React: the events in memory with their delivery marks merged in,
 * what the filters let through, where the selection and the window are, and which screen is shown.
 * Every change ends in `settle()`, which computes the one `view` the components draw, so a render
 * only reads it.
 */

/** Where one event stands at one destination, with what the latest attempt said (not a destination's cursor: the store's DestinationState). */
export interface DeliveryState {
  destination: string
  status: DeliveryStatus
  attempts: number
  httpStatus?: number
  /** The latest error seen, kept after a later success: it tells why there were retries. */
  lastError?: string
  /** Epoch ms of the next attempt, while retrying. */
  nextAttemptAt?: number
}

/** One event of the list. */
export interface TailRow {
  event: StreamEvent
  /** By destination name, in the order the marks arrived. */
  deliveries: Map<string, DeliveryState>
  /** What each user function that ran on it did, in the order the records arrived (matched by messageId). */
  functions: FunctionRunRecord[]
}

export type Movement = 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom'

/** list: the live list; detail: one event; filter: the list while the filter text is being typed. */
export type TailMode = 'list' | 'detail' | 'filter'

export interface TailView {
  mode: TailMode
  /** The rows in the window, oldest first. */
  rows: readonly TailRow[]
  /** Index of the selected row within `rows`; -1 when nothing is selected. */
  selectedIndex: number
  selected: TailRow | undefined
  /** 1-based position of the selection among the matching events; 0 when none. */
  position: number
  /** Events that pass the filters. */
  matching: number
  /** Events in memory. */
  total: number
  /** Events in memory that break the plan. */
  withViolations: number
  /** The selection follows new events, like `tail -f`. */
  following: boolean
  paused: boolean
  /** Events that arrived while paused, shown on resume. */
  held: number
  /** Items the daemon dropped because this reader fell behind. */
  skipped: number
  /** Replays (cdp replay) seen on the stream, newest change last: where each stands. */
  replays: readonly StreamReplay['replay'][]
  /** Old events let go to cap memory. */
  evicted: number
  filter: string
  /** The filter text being typed (mode 'filter'). */
  filterDraft: string
  violationsOnly: boolean
  /** Every destination seen, in a stable order: the list's delivery columns. */
  destinations: readonly string[]
  /** A function record was seen: the list shows its column of function marks. */
  functions: boolean
  listHeight: number
  detailHeight: number
  /** The event the detail screen shows. */
  detail: TailRow | undefined
  /** First line of the detail shown. */
  detailScroll: number
}

export interface TailModelOptions {
  /** Events kept in memory; the oldest go first. */
  capacity?: number
  violationsOnly?: boolean
  /** Rows the list shows at once (for paging and the window). */
  listHeight?: number
  /** Lines the detail shows at once (for scrolling). */
  detailHeight?: number
}

export const defaultCapacity = 5000

/** Function records whose event has not come (yet: a function that ran before storage), kept for this many messageIds. */
const pendingFunctionEvents = 1000

/** An event breaks the plan when it has violations or was judged invalid. */
export function hasViolations(event: StreamEvent): boolean {
  return event.violations.length > 0 || event.valid === false
}

/** Case-insensitive substring match on what a person would search by. `needle` is lower case. */
export function matchesText(event: StreamEvent, needle: string): boolean {
  if (needle === '') return true
  const fields = [event.name, event.type, event.userId, event.anonymousId, event.source, event.messageId]
  return fields.some((field) => field !== null && field.toLowerCase().includes(needle))
}

/** First index whose seq is >= `seq` (rows are kept in seq order). */
function lowerBound(rows: readonly TailRow[], seq: number): number {
  let low = 0
  let high = rows.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (rows[middle].event.seq < seq) low = middle + 1
    else high = middle
  }
  return low
}

function insertBySeq(rows: TailRow[], row: TailRow): void {
  // The stream is in seq order, so this is almost always a push.
  const last = rows[rows.length - 1]
  if (last === undefined || last.event.seq < row.event.seq) rows.push(row)
  else rows.splice(lowerBound(rows, row.event.seq), 0, row)
}

const clamp = (value: number, low: number, high: number) => Math.max(low, Math.min(high, value))

export class TailModel {
  private readonly capacity: number
  /** Shown events, in seq order. */
  private events: TailRow[] = []
  /** Events that arrived while paused, in seq order. */
  private held: TailRow[] = []
  /** Every row in `events` and `held`, so deliveries find their event in O(1). */
  private readonly bySeq = new Map<number, TailRow>()
  /** The same rows by messageId, for function records (a messageId is the newest row's with it). */
  private readonly byMessageId = new Map<string, TailRow>()
  /** Function records that came before their event, by messageId, oldest first. */
  private readonly pendingFunctions = new Map<string, FunctionRunRecord[]>()
  private functionsSeen = false
  private readonly destinations: string[] = []
  private skipped = 0
  private readonly replays = new Map<string, StreamReplay['replay']>()
  private evicted = 0
  private paused = false
  private filter = ''
  private filterDraft = ''
  private violationsOnly: boolean
  private mode: TailMode = 'list'
  private following = true
  private selectedSeq: number | undefined
  /** The seq of the window's first row: new events below it do not move what the reader looks at. */
  private topSeq: number | undefined
  private listHeight: number
  private detailHeight: number
  private detailRow: TailRow | undefined
  private detailScroll = 0
  /** The detail's length when it was last scrolled, to clamp the scroll when the screen grows. */
  private lastDetailLines = 0
  /** Index of the selection in `matching`; -1 when there is none. */
  private selectedAt = -1
  /** The events passing the filters, as of the last settle. */
  private matching: readonly TailRow[] = []
  private snapshot!: TailView

  constructor(options: TailModelOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? defaultCapacity)
    this.violationsOnly = options.violationsOnly ?? false
    this.listHeight = Math.max(1, options.listHeight ?? 20)
    this.detailHeight = Math.max(1, options.detailHeight ?? 20)
    this.settle()
  }

  get view(): TailView {
    return this.snapshot
  }

  /** Take a batch from the feed. */
  ingest(items: readonly StreamItem[]): void {
    for (const item of items) {
      switch (item.kind) {
        case 'event':
          this.addEvent(item)
          break
        case 'delivery':
          this.addDelivery(item)
          break
        case 'function':
          this.addFunctionRun(item.run)
          break
        case 'replay':
          // Newest change last: a replay seen again moves to the end.
          this.replays.delete(item.replay.id)
          this.replays.set(item.replay.id, item.replay)
          if (this.replays.size > 20) this.replays.delete(this.replays.keys().next().value as string)
          break
        case 'skipped':
          this.skipped += item.count
          break
        default:
          // A kind this version does not know (the stream grows new ones): ignore it.
          break
      }
    }
    this.trim()
    this.settle()
  }

  resize(listHeight: number, detailHeight: number): void {
    this.listHeight = Math.max(1, listHeight)
    this.detailHeight = Math.max(1, detailHeight)
    this.detailScroll = Math.min(this.detailScroll, this.maxDetailScroll(this.lastDetailLines))
    this.settle()
  }

  move(step: Movement): void {
    const last = this.matching.length - 1
    if (last < 0) return
    const current = this.selectedAt < 0 ? last : this.selectedAt
    const page = this.listHeight
    const target = {up: current - 1, down: current + 1, pageUp: current - page, pageDown: current + page, top: 0, bottom: last}[step]
    const index = clamp(target, 0, last)
    this.following = index === last
    this.selectedSeq = this.matching[index].event.seq
    this.settle()
  }

  openDetail(): void {
    const selected = this.snapshot.selected
    if (selected === undefined) return
    this.mode = 'detail'
    this.detailRow = selected
    this.detailScroll = 0
    this.settle()
  }

  closeDetail(): void {
    this.mode = 'list'
    this.detailRow = undefined
    this.detailScroll = 0
    this.settle()
  }

  /** Scroll the detail, whose content is `contentLines` long (it is laid out by the view). */
  scrollDetail(step: Movement, contentLines: number): void {
    this.lastDetailLines = contentLines
    const page = this.detailHeight
    const target = {up: this.detailScroll - 1, down: this.detailScroll + 1, pageUp: this.detailScroll - page, pageDown: this.detailScroll + page, top: 0, bottom: Number.MAX_SAFE_INTEGER}[step]
    this.detailScroll = clamp(target, 0, this.maxDetailScroll(contentLines))
    this.settle()
  }

  startFilter(): void {
    this.mode = 'filter'
    this.filterDraft = this.filter
    this.settle()
  }

  typeFilter(text: string): void {
    this.filterDraft += text
    this.settle()
  }

  eraseFilterChar(): void {
    this.filterDraft = Array.from(this.filterDraft).slice(0, -1).join('')
    this.settle()
  }

  applyFilter(): void {
    this.filter = this.filterDraft.trim()
    this.mode = 'list'
    this.settle()
  }

  /** Esc: leave the filter prompt, and drop the filter with it. */
  clearFilter(): void {
    this.filter = ''
    this.filterDraft = ''
    this.mode = 'list'
    this.settle()
  }

  toggleViolationsOnly(): void {
    this.violationsOnly = !this.violationsOnly
    this.settle()
  }

  togglePause(): void {
    this.paused = !this.paused
    if (!this.paused) {
      for (const row of this.held) insertBySeq(this.events, row)
      this.held = []
      this.trim()
    }
    this.settle()
  }

  /** Forget every event (and the skipped count); filters, pause and destinations stay. */
  clear(): void {
    this.events = []
    this.held = []
    this.bySeq.clear()
    this.byMessageId.clear()
    this.pendingFunctions.clear()
    this.skipped = 0
    this.evicted = 0
    this.following = true
    this.selectedSeq = undefined
    this.topSeq = undefined
    this.settle()
  }

  private addEvent(event: StreamEvent): void {
    const known = this.bySeq.get(event.seq)
    if (known !== undefined) {
      // The same event again (history re-sent after a reconnect): refresh it, keep one row.
      known.event = event
      this.addMarks(known, event.deliveries)
      return
    }
    const row: TailRow = {event, deliveries: new Map(), functions: this.pendingFunctions.get(event.messageId) ?? []}
    this.pendingFunctions.delete(event.messageId)
    this.addMarks(row, event.deliveries)
    this.bySeq.set(event.seq, row)
    this.byMessageId.set(event.messageId, row)
    insertBySeq(this.paused ? this.held : this.events, row)
  }

  private addMarks(row: TailRow, marks: readonly DeliveryMark[] | undefined): void {
    for (const mark of marks ?? []) {
      const previous = row.deliveries.get(mark.destination)
      row.deliveries.set(mark.destination, {
        destination: mark.destination,
        status: mark.status,
        attempts: mark.attempts,
        httpStatus: previous?.httpStatus,
        lastError: previous?.lastError,
        nextAttemptAt: mark.status === 'retrying' ? previous?.nextAttemptAt : undefined,
      })
      this.noteDestination(mark.destination)
    }
  }

  /** The latest item wins: the daemon sends one event's deliveries in the order they happened. */
  private addDelivery(delivery: StreamDelivery): void {
    const row = this.bySeq.get(delivery.seq)
    // Its event was never seen or already let go: there is no row to mark.
    if (row === undefined) return
    const previous = row.deliveries.get(delivery.destination)
    row.deliveries.set(delivery.destination, {
      destination: delivery.destination,
      status: delivery.status,
      attempts: delivery.attempts,
      httpStatus: delivery.httpStatus ?? previous?.httpStatus,
      lastError: delivery.error ?? previous?.lastError,
      nextAttemptAt: delivery.status === 'retrying' ? delivery.nextAttemptAt : undefined,
    })
    this.noteDestination(delivery.destination)
  }

  /**
   * A function's record goes with its event. One that ran before storage comes first and waits for
   * it; one whose event was dropped waits until newer ones push it out. A source function's request
   * (no messageId) has no event to go with.
   */
  private addFunctionRun(run: FunctionRunRecord): void {
    this.functionsSeen = true
    if (run.messageId === undefined) return
    const row = this.byMessageId.get(run.messageId)
    if (row !== undefined) {
      row.functions.push(run)
      return
    }
    const waiting = this.pendingFunctions.get(run.messageId)
    if (waiting !== undefined) {
      waiting.push(run)
      return
    }
    this.pendingFunctions.set(run.messageId, [run])
    if (this.pendingFunctions.size > pendingFunctionEvents) this.pendingFunctions.delete(this.pendingFunctions.keys().next().value as string)
  }

  private noteDestination(destination: string): void {
    if (!this.destinations.includes(destination)) this.destinations.push(destination)
  }

  /** Keep memory bounded, at 1,000 events/s for hours: the oldest events go. */
  private trim(): void {
    for (const rows of [this.events, this.held]) {
      const excess = rows.length - this.capacity
      if (excess <= 0) continue
      for (const row of rows.splice(0, excess)) {
        this.bySeq.delete(row.event.seq)
        if (this.byMessageId.get(row.event.messageId) === row) this.byMessageId.delete(row.event.messageId)
      }
      this.evicted += excess
    }
  }

  private maxDetailScroll(contentLines: number): number {
    return Math.max(0, contentLines - this.detailHeight)
  }

  private windowTop(): number {
    return this.topSeq === undefined ? 0 : lowerBound(this.matching, this.topSeq)
  }

  private filtered(): readonly TailRow[] {
    const needle = this.filter.toLowerCase()
    if (needle === '' && !this.violationsOnly) return this.events
    return this.events.filter((row) => (!this.violationsOnly || hasViolations(row.event)) && matchesText(row.event, needle))
  }

  private settle(): void {
    const matching = this.filtered()
    this.matching = matching
    const count = matching.length
    const height = this.listHeight

    let selected = -1
    if (count > 0) {
      // A selected event that left (let go, or filtered out) hands the selection to the next one.
      selected = this.following || this.selectedSeq === undefined ? count - 1 : Math.min(lowerBound(matching, this.selectedSeq), count - 1)
    }
    this.selectedAt = selected
    this.selectedSeq = selected < 0 ? undefined : matching[selected].event.seq

    let top: number
    if (this.following) top = Math.max(0, count - height)
    else {
      top = this.windowTop()
      if (selected < top) top = selected
      if (selected >= top + height) top = selected - height + 1
      top = clamp(top, 0, Math.max(0, count - height))
    }
    this.topSeq = matching[top]?.event.seq

    let withViolations = 0
    for (const row of this.events) if (hasViolations(row.event)) withViolations++

    const rows = matching.slice(top, top + height)
    this.snapshot = {
      mode: this.mode,
      rows,
      selectedIndex: selected < 0 ? -1 : selected - top,
      selected: selected < 0 ? undefined : matching[selected],
      position: selected + 1,
      matching: count,
      total: this.events.length,
      withViolations,
      following: this.following,
      paused: this.paused,
      held: this.held.length,
      skipped: this.skipped,
      replays: [...this.replays.values()],
      evicted: this.evicted,
      filter: this.filter,
      filterDraft: this.filterDraft,
      violationsOnly: this.violationsOnly,
      destinations: [...this.destinations],
      functions: this.functionsSeen,
      listHeight: this.listHeight,
      detailHeight: this.detailHeight,
      detail: this.detailRow,
      detailScroll: this.detailScroll,
    }
  }
}
