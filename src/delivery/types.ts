import type {DestinationSettings, DestinationType} from '../config/destinations.js'
import type {Logger} from '../log.js'
import type {SegmentMessage} from '../message/types.js'
import type {DeliveryStatus, DeliveryStore} from '../store/types.js'
import type {FunctionRunSink} from '../functions/types.js'
import type {FunctionLookup} from '../functions/steps.js'

/** One stored event on its way to a destination. */
export interface OutgoingEvent {
  /** The store's sequence number: the order events were received in. */
  seq: number
  messageId: string
  source: string
  /** userId, else anonymousId, else messageId: a destination gets one user's events in order. */
  userKey: string
  /** The normalised message as stored, as JSON text (what most adapters send as is). */
  json: string
  /** The same message parsed; parsed once, on first use. */
  readonly message: SegmentMessage
}

/** What happened to one event at one destination in a round: the worker tells the live stream. */
export interface DeliveryResult {
  destination: string
  seq: number
  messageId: string
  status: DeliveryStatus
  attempts: number
  httpStatus?: number
  error?: string
  /** Epoch ms of the next attempt, when retrying. */
  nextAttemptAt?: number
}

/**
 * One event's fate when a send settled some events of a batch one way and others another: an
 * insert function dropped one, a destination function's onBatch answered a status per event.
 */
export type EventSendResult = {status: 'delivered'} | {status: 'dropped'; reason: string} | {status: 'failed'; error: DeliveryError}

/**
 * Sends events to one destination. send() resolves when the destination has accepted the whole
 * batch and rejects with a DeliveryError otherwise; it must not keep the events after it settles.
 * It may instead resolve with one result per event, in order, when their fates differ: only the
 * failed ones are then retried.
 */
export interface DestinationAdapter {
  /** Checks the destination can be reached (a database connection, say); rejects with a clear error when not. */
  open?(): Promise<void>
  /**
   * Work on a batch that can be done before its turn to be sent (a destination's insert function):
   * the worker starts it for the next batch of a lane while the current one is sent, and hands
   * what it resolved with to that batch's send(). Opaque to the worker. A batch may be prepared
   * and then not sent (the one before it failed): preparing must have no effect the send relies on.
   */
  prepare?(batch: readonly OutgoingEvent[]): Promise<unknown>
  /** `prepared`, when given, is what prepare() resolved with for this same batch. */
  send(batch: readonly OutgoingEvent[], signal: AbortSignal, prepared?: unknown): Promise<void | EventSendResult[]>
  close(): Promise<void>
}

export interface AdapterContext {
  /** The workspace folder: relative paths in settings are relative to it. */
  dir: string
  log: Logger
  /** Loaded functions (destination functions, insert functions) and where their records go. */
  functions?: {lookup: FunctionLookup; sink: FunctionRunSink}
}

/** Makes the adapter of one destination type, from that type's settings. */
export type AdapterFactory<Type extends DestinationType> = (config: DestinationSettings<Type>, context: AdapterContext) => DestinationAdapter

/**
 * Why a send failed, and whether trying again may help. Adapters throw it; the delivery worker
 * records it and schedules the retry or dead-letters the events.
 */
export class DeliveryError extends Error {
  /** HTTP status, when the destination answered. */
  readonly status?: number
  /** The start of the answer's body, for the delivery record. */
  readonly body?: string
  readonly retryable: boolean
  /** The destination asked to wait this long (Retry-After). */
  readonly retryAfterMs?: number

  constructor(message: string, options: {retryable: boolean; status?: number; body?: string; retryAfterMs?: number}) {
    super(message)
    this.name = 'DeliveryError'
    this.retryable = options.retryable
    this.status = options.status
    this.body = options.body
    this.retryAfterMs = options.retryAfterMs
  }
}

/**
 * What of the DeliveryStore a DestinationWorker calls: the live destination's bookkeeping
 * provides it, and so does a replay's (src/replay/), which has its own cursor, records and counts.
 */
export type WorkerStore = Pick<DeliveryStore, 'openDestination' | 'queuedEvents' | 'openDeliveries' | 'heldUsers' | 'nextRetryAt' | 'recordOutcome'>
