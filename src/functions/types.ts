/**
 * The contract between the functions runtime (src/functions/runtime/, user code in isolated-vm)
 * and what uses it: the pipeline (source insert functions), delivery (destination insert
 * functions, function destinations), the server (source functions) and `cdp fn`.
 *
 * Everything that crosses it is plain JSON data: no host object ever reaches user code, and no
 * object made by user code reaches the host (results come back as JSON text and are parsed here).
 */

/** A JSON object as parsed from text (own keys only, `__proto__` may be one of them). */
export type JsonObject = {[key: string]: unknown}

export type FunctionKind = 'source' | 'insert' | 'destination'

export const functionKinds: readonly FunctionKind[] = ['source', 'insert', 'destination']

/** Segment's time limit per call, and the memory limit per function. */
export const defaultTimeoutMs = 5000
export const defaultMemoryMb = 128

/** One function as cdp.json declares it, resolved: its file found, its settings' env references read. */
export interface FunctionDefinition {
  name: string
  kind: FunctionKind
  /** Absolute path of functions/NAME.js or functions/NAME.ts. */
  file: string
  /** The settings object the handlers get as their second argument. */
  settings: JsonObject
  /** Time limit of one call (one event, one batch, one request), in ms. */
  timeoutMs: number
  /** Heap limit of the function's isolate, in MB. */
  memoryMb: number
  /**
   * Hosts fetch() may reach: "api.example.com" (any port), "127.0.0.1:8080" (that port only),
   * "*.example.com" (any subdomain). Every other host is refused before a connection is made.
   */
  allowedHosts: string[]
  /** Source functions: the cdp.json source whose events they emit (its plan, insert function, destinations). */
  source?: string
}

/** One line a function wrote with console.log/info/warn/error/debug. */
export interface ConsoleLine {
  level: 'log' | 'info' | 'warn' | 'error' | 'debug'
  /** The arguments formatted as console.log formats them (strings as is, the rest as JSON). */
  message: string
  /** Which event of the call's batch was being handled, when the runtime called a handler per event. */
  eventIndex?: number
}

/**
 * Why a call failed, with Segment's meaning: errorClass is one of Segment's classes
 * (EventNotSupported, InvalidEventPayload, ValidationError, RetryError, DropEvent is never an
 * error), 'TimeoutError' (the call's time limit), 'MemoryLimitError' (the isolate's heap limit),
 * 'FetchError' (fetch failed: refused host, connection error), 'LoadError' (the file does not
 * compile or does not load), or the thrown value's own name (TypeError, Error, …).
 */
export interface FunctionFailure {
  errorClass: string
  message: string
  /**
   * Trying again may help: RetryError, TimeoutError, MemoryLimitError, FetchError. Anything else a
   * function throws (Segment's final classes, a TypeError from a bug) is final, as Segment discards it.
   */
  retryable: boolean
  /** Where in the user's file it was thrown ("functions/crm.js:12:5", relative to the current folder), when the stack says. */
  location?: string
}

/** Segment's final error classes: the event is refused for good (dead-lettered), never retried. */
export const finalErrorClasses: readonly string[] = ['EventNotSupported', 'InvalidEventPayload', 'ValidationError', 'InvalidSettingsError']

/** What an insert function did to one event. */
export type InsertOutcome =
  /**
   * The event(s) to go on: one for a Segment handler; a RudderStack transformEvent may return
   * several. For 'unchanged', the input itself (none from runInsertJson).
   */
  | {result: 'unchanged' | 'changed'; events: JsonObject[]}
  /** DropEvent thrown, no handler for the event's type, or the handler returned nothing (null, undefined). */
  | {result: 'dropped'; reason: string}
  | {result: 'error'; error: FunctionFailure}

/** What a destination function did with one event. */
export type DestinationOutcome =
  | {result: 'delivered'}
  /** onBatch's per-event status other than 2xx, or a thrown error: retried or dead-lettered by failure.retryable. */
  | {result: 'error'; error: FunctionFailure; status?: number}

/** The request a source function's onRequest(request, settings) gets. */
export interface SourceRequest {
  /** The body as received (after gzip/deflate), as text: request.text() returns it, request.json() parses it. */
  body: string
  /** Header names in lower case. */
  headers: {[name: string]: string}
  /** The full URL the request was made to, query string included. */
  url: string
}

/** A message a source function emitted with Segment.track() and the like, before any check. */
export interface EmittedMessage {
  /** The call that emitted it: 'track', 'identify', 'page', 'screen', 'group', 'alias'. */
  type: 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias'
  /** Its argument as given (a plain object, or whatever the user passed), as JSON data. */
  payload: unknown
}

export interface CallLog {
  console: ConsoleLine[]
  /** Wall time of the call, in ms. */
  ms: number
}

export interface InsertRun extends CallLog {
  /** One outcome per input event, in order. When the whole call failed (a time-out), every event gets that error. */
  outcomes: InsertOutcome[]
}

export interface DestinationRun extends CallLog {
  outcomes: DestinationOutcome[]
}

export interface SourceRun extends CallLog {
  /** Emitted in call order. On an error, what was emitted before it is still here (the caller decides). */
  messages: EmittedMessage[]
  /** Segment.set(…) calls: accepted, not supported locally; the caller reports them. */
  unsupported: string[]
  error?: FunctionFailure
}

/** A function file that does not compile or does not load, with where. */
export class FunctionLoadError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}${column === undefined ? '' : `:${column}`}: ${message}`)
    this.name = 'FunctionLoadError'
  }
}

/**
 * One loaded function: its own isolate (memory limit), its code compiled once. Calls may overlap;
 * each has its own time limit. A call that hits a limit fails alone with TimeoutError or
 * MemoryLimitError; the runtime makes a fresh isolate for the next call when it had to dispose one.
 */
export interface FunctionRuntime {
  readonly definition: FunctionDefinition
  /** Which handlers the file defines (onTrack, onBatch, transformEvent, onRequest, …). */
  readonly handlers: readonly string[]
  /** Insert functions (and RudderStack transformations): each event through its handler, or the batch through onBatch/transformBatch. */
  runInsert(events: readonly JsonObject[], settings?: JsonObject): Promise<InsertRun>
  /**
   * runInsert over events the caller has as JSON text already (the store's rows): they are neither
   * parsed nor serialised again on the host. An 'unchanged' outcome's `events` is then empty: the
   * caller keeps the event it has.
   */
  runInsertJson(texts: readonly string[], settings?: JsonObject): Promise<InsertRun>
  /**
   * Destination functions: each event through its handler, or the batch through onBatch.
   * `settings`, when given, replaces definition.settings for this call (a destination's own settings over the function's).
   */
  runDestination(events: readonly JsonObject[], settings?: JsonObject): Promise<DestinationRun>
  /** Source functions: onRequest(request, settings). */
  runSource(request: SourceRequest, settings?: JsonObject): Promise<SourceRun>
  /** Frees the isolate; calls in flight fail with an error, later calls are refused. */
  dispose(): void
}

/**
 * What one function did to one event (or one request, for source functions), as the daemon
 * records it: kept in the store for `cdp fn logs` and the counts of `cdp deliveries`, and sent to
 * the live stream, where `cdp tail` shows it with its event. A call over a batch gives one record
 * per event; console lines go with the event being handled when they were written.
 */
export interface FunctionRunRecord {
  /** ISO time the call ended. */
  at: string
  function: string
  kind: FunctionKind
  /** Where it ran: on a source's events before storage, on a destination's before sending, or as a source function's request. */
  stage: 'source' | 'destination' | 'request'
  /** The source or destination name (for 'request', the source the function emits as). */
  target: string
  /** The event's messageId (the incoming one; for 'request', absent). */
  messageId?: string
  /**
   * insert: changed, unchanged, dropped, error; destination: delivered, error;
   * request: emitted (its messages entered the pipeline), error.
   */
  result: 'changed' | 'unchanged' | 'dropped' | 'error' | 'delivered' | 'emitted'
  errorClass?: string
  /** The error's message, a drop's reason, or for 'emitted' how many messages. */
  message?: string
  console: ConsoleLine[]
  ms: number
}

/** Where the daemon's parts hand their function records: the store and the live stream. Never throws. */
export interface FunctionRunSink {
  record(records: readonly FunctionRunRecord[]): void
}
