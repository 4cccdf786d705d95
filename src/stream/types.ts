import type {DeliveryResult} from '../delivery/types.js'
import type {FunctionRunRecord} from '../functions/types.js'
import type {Violation} from '../plan/violations.js'
import type {MessageType, SegmentMessage} from '../message/types.js'
import type {DeliveryStatus} from '../store/types.js'
import type {ReplayCounts, ReplayStatus} from '../replay/types.js'

/**
 * What the daemon's live stream (GET /api/stream, Server-Sent Events) carries. Each item is one SSE
 * message whose `event:` is its kind and whose `data:` is the item as JSON. New kinds are added as
 * new variants; readers ignore kinds they do not know.
 */

/** Where an event stands at one destination. */
export interface DeliveryMark {
  destination: string
  status: DeliveryStatus
  attempts: number
}

/** An event as stored: its summary, plan outcome and the message itself. */
export interface StreamEvent {
  kind: 'event'
  seq: number
  source: string
  messageId: string
  type: MessageType
  /** The track's event name, or the page/screen name. */
  name: string | null
  userId: string | null
  anonymousId: string | null
  timestamp: string
  receivedAt: string
  /** null: no plan applies to the source. */
  valid: boolean | null
  /** What a Protocols policy did: quarantined, or offending values removed. */
  policy: 'blocked' | 'omitted' | null
  violations: Violation[]
  message: SegmentMessage
  /** Only on history items: where the event stood at each destination when the reader connected. */
  deliveries?: DeliveryMark[]
}

/** One delivery attempt's outcome for one event at one destination: the worker's result, as the stream sends it. */
export interface StreamDelivery extends DeliveryResult {
  kind: 'delivery'
}

/**
 * What one user function did to one event (or one source function's request), as it happened:
 * live only, never in history. Records of functions that ran before storage (stage 'source', and
 * 'request') come before their event's item, or alone when the event was dropped; a reader
 * matches them to events by messageId. Which readers get them: see StreamHub.publishFunctionRuns.
 */
export interface StreamFunctionRun {
  kind: 'function'
  run: FunctionRunRecord
}

/**
 * Where a `cdp replay` stands (it runs in its own process; the daemon reads its progress from the
 * store each second while anyone follows the stream): live only, to every reader.
 */
export interface StreamReplay {
  kind: 'replay'
  replay: {
    id: string
    destination: string
    status: ReplayStatus
    counts: ReplayCounts
    updatedAt: string
    finishedAt: string | null
    lastError: string | null
  }
}

/** The reader fell behind: this many items were dropped for it, the stream goes on from here. */
export interface StreamSkipped {
  kind: 'skipped'
  count: number
}

export type StreamItem = StreamEvent | StreamDelivery | StreamFunctionRun | StreamReplay | StreamSkipped

/** Which items a reader wants; absent fields take everything. */
export interface StreamFilter {
  type?: string
  /** Track event or page/screen name. */
  event?: string
  source?: string
  /** userId or anonymousId. */
  user?: string
  /** Only events with violations (and their deliveries). */
  violations?: boolean
}
