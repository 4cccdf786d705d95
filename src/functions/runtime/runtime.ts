/**
 * FunctionRuntime over isolated-vm: one isolate per function, its code compiled once, one
 * `apply` per call carrying the whole batch as JSON text, the answer back as one JSON text.
 *
 * Limits: ivm's `timeout` bounds every slice of user code (see instance.ts); a host timer bounds
 * the whole call, awaits included. A call over its time fails alone with TimeoutError; when it
 * left work pending in the isolate, that isolate takes no new calls and is disposed once the
 * calls still in it end. A call that exhausts the heap fails with MemoryLimitError: isolated-vm
 * has disposed the isolate, and the next call gets a fresh one (the file loaded again).
 */
import type {
  CallLog,
  ConsoleLine,
  DestinationOutcome,
  DestinationRun,
  FunctionDefinition,
  FunctionFailure,
  FunctionRuntime,
  InsertOutcome,
  InsertRun,
  JsonObject,
  SourceRequest,
  SourceRun,
  EmittedMessage,
} from '../types.js'
import {FunctionLoadError} from '../types.js'
import type {Logger} from '../../log.js'
import type {FetchImplementation, HostCall} from './host-api.js'
import {Instance} from './instance.js'
import type {PreparedSource} from './source.js'

const maxMessage = 4000

interface RawFailure {
  c?: unknown
  m?: unknown
  t?: unknown
  s?: unknown
}

type CallAnswer = {text: string} | {failure: FunctionFailure}

export interface RuntimeOptions {
  fetch?: FetchImplementation
  sourceName?: string
  log?: Logger
}

export class IsolatedFunction implements FunctionRuntime {
  handlers: readonly string[] = []
  private instance?: Instance
  private starting?: Promise<Instance>
  private nextId = 1
  private disposed = false

  constructor(
    readonly definition: FunctionDefinition,
    private readonly source: PreparedSource,
    private readonly options: RuntimeOptions,
  ) {}

  /** Loads the first isolate; throws FunctionLoadError. */
  async start(): Promise<void> {
    const instance = await this.acquire()
    this.handlers = Object.freeze([...instance.handlers])
  }

  private acquire(): Promise<Instance> {
    const current = this.instance
    if (current !== undefined && current.dead === undefined && !current.retiring) return Promise.resolve(current)
    if (this.starting === undefined) {
      this.starting = Instance.create({
        definition: this.definition,
        source: this.source,
        fetch: this.options.fetch,
        sourceName: this.options.sourceName,
        log: this.options.log,
      }).then(
        (instance) => {
          this.starting = undefined
          if (this.disposed) instance.dispose('disposed')
          else this.instance = instance
          return instance
        },
        (error: unknown) => {
          this.starting = undefined
          throw error
        },
      )
    }
    return this.starting
  }

  private readonly deadlines = new DeadlineQueue()

  private async call(mode: 'i' | 'd' | 's', args: unknown[], labelOf: () => string, settings?: JsonObject): Promise<CallAnswer> {
    if (this.disposed) return {failure: {errorClass: 'Error', message: `function ${this.definition.name} has been unloaded`, retryable: true}}
    let instance: Instance
    try {
      instance = await this.acquire()
    } catch (error) {
      const message = error instanceof FunctionLoadError ? error.message : error instanceof Error ? error.message : String(error)
      return {failure: {errorClass: 'LoadError', message, retryable: true}}
    }
    const timeoutMs = this.definition.timeoutMs
    const call: HostCall = {id: this.nextId++, deadline: Date.now() + timeoutMs, ended: false}
    const timeout = (): FunctionFailure => ({
      errorClass: 'TimeoutError',
      message: `${labelOf()} did not finish within ${timeoutMs} ms (the function's time limit, timeoutMs)`,
      retryable: true,
    })
    // One settle per call, from whichever comes first: the isolate's answer or the time limit.
    let settle!: (answer: CallAnswer) => void
    const answered = new Promise<CallAnswer>((resolve) => (settle = resolve))
    call.timeOut = () => settle({failure: timeout()})
    this.deadlines.add(call)
    // '' keeps the function's own settings; a call's own (a destination's over the function's) go as JSON.
    args.unshift(call.id, mode, settings === undefined ? '' : JSON.stringify(settings))
    instance.dispatch(call, args).then(
      (text) => settle({text}),
      (error: unknown) => settle({failure: this.applyFailure(error, instance, labelOf(), timeout)}),
    )
    const answer = await answered
    if ('failure' in answer && answer.failure.errorClass === 'TimeoutError' && instance.dead === undefined && !call.ended) {
      // Its promise may still be pending in the isolate (a fetch, a timer, terminated code):
      // retire the isolate so nothing of this call lingers; the next call gets a fresh one.
      instance.retiring = true
    }
    instance.end(call)
    return answer
  }

  private applyFailure(error: unknown, instance: Instance, label: string, timeout: () => FunctionFailure): FunctionFailure {
    const message = error instanceof Error ? error.message : String(error)
    if (/memory limit/i.test(message) || (instance.isolate.isDisposed && instance.dead === undefined)) {
      instance.dead = 'memory'
    }
    if (instance.dead === 'memory') {
      return {
        errorClass: 'MemoryLimitError',
        message: `${label} exceeded the function's memory limit of ${this.definition.memoryMb} MB (memoryMb); the function's isolate was restarted`,
        retryable: true,
      }
    }
    if (/timed out/i.test(message)) return timeout()
    if (instance.dead !== undefined || instance.isolate.isDisposed) {
      return {errorClass: 'Error', message: `${label} was stopped: the function's isolate was disposed while it ran`, retryable: true}
    }
    return {errorClass: 'Error', message: `${label} failed in the runtime: ${message}`, retryable: true}
  }

  private failure(raw: unknown): FunctionFailure {
    const f = (raw !== null && typeof raw === 'object' ? raw : {}) as RawFailure
    const errorClass = typeof f.c === 'string' && f.c !== '' ? f.c.slice(0, 100) : 'Error'
    let message = typeof f.m === 'string' ? f.m : ''
    if (message.length > maxMessage) message = message.slice(0, maxMessage) + '…'
    const failure: FunctionFailure = {errorClass, message, retryable: typeof f.t === 'boolean' ? f.t : true}
    const location = typeof f.s === 'string' ? this.source.locate(f.s) : undefined
    if (location !== undefined) failure.location = location
    return failure
  }

  private parse(text: string): {[key: string]: unknown} | undefined {
    try {
      const value = JSON.parse(text) as unknown
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as {[key: string]: unknown}) : undefined
    } catch {
      return undefined
    }
  }

  private consoleLines(raw: unknown): ConsoleLine[] {
    if (!Array.isArray(raw)) return []
    const levels = new Set(['log', 'info', 'warn', 'error', 'debug'])
    const out: ConsoleLine[] = []
    for (const item of raw.slice(0, 101)) {
      if (item === null || typeof item !== 'object') continue
      const {level, message, eventIndex} = item as {[key: string]: unknown}
      if (typeof level !== 'string' || !levels.has(level) || typeof message !== 'string') continue
      const line: ConsoleLine = {level: level as ConsoleLine['level'], message: message.slice(0, 4200)}
      if (typeof eventIndex === 'number') line.eventIndex = eventIndex
      out.push(line)
    }
    return out
  }

  private unreadable(label: string): FunctionFailure {
    return {errorClass: 'Error', message: `${label}: the function's answer could not be read`, retryable: true}
  }

  /** Handler label for messages: the handler a single event goes to, or the batch handler. */
  private label(events: readonly JsonObject[], destination: boolean): string {
    const h = this.handlers
    if (!destination && h.includes('transformBatch') && events.length > 1) return 'transformBatch'
    if (!destination && h.includes('transformEvent')) return 'transformEvent'
    if (h.includes('onBatch') && (destination || events.length > 1)) return 'onBatch'
    if (events.length === 1) {
      const type = events[0]?.type
      if (typeof type === 'string' && /^[a-z]+$/.test(type)) return `on${type[0]!.toUpperCase()}${type.slice(1)}`
    }
    return 'the call'
  }

  async runInsert(events: readonly JsonObject[], settings?: JsonObject): Promise<InsertRun> {
    return this.runEvents(events, false, settings) as Promise<InsertRun>
  }

  async runInsertJson(texts: readonly string[], settings?: JsonObject): Promise<InsertRun> {
    return this.runEvents(texts, false, settings, true) as Promise<InsertRun>
  }

  async runDestination(events: readonly JsonObject[], settings?: JsonObject): Promise<DestinationRun> {
    return this.runEvents(events, true, settings) as Promise<DestinationRun>
  }

  private async runEvents(given: readonly (JsonObject | string)[], destination: boolean, settings?: JsonObject, asText = false): Promise<InsertRun | DestinationRun> {
    const started = performance.now()
    if (given.length === 0) return {outcomes: [], console: [], ms: 0}
    const texts: unknown[] = asText ? [...given] : given.map((event) => JSON.stringify(event))
    // Objects only where a message needs them (the handler's name for an error), or an unchanged event is returned.
    const events = (asText ? [] : given) as readonly JsonObject[]
    const label = () => this.label(asText ? (given as string[]).slice(0, 1).map((text) => JSON.parse(text) as JsonObject) : events, destination)
    const answer = await this.call(destination ? 'd' : 'i', texts, label, settings)
    const log = (lines: ConsoleLine[]): CallLog => ({console: lines, ms: performance.now() - started})
    const failAll = (failure: FunctionFailure, lines: ConsoleLine[] = []) => ({
      outcomes: given.map((): InsertOutcome & DestinationOutcome => ({result: 'error', error: failure})),
      ...log(lines),
    })
    if ('failure' in answer) return failAll(answer.failure)
    const parsed = this.parse(answer.text)
    const lines = this.consoleLines(parsed?.c)
    if (parsed === undefined) return failAll(this.unreadable(label()))
    if (parsed.x !== undefined) return failAll(this.failure(parsed.x), lines)
    const raw = parsed.o
    if (!Array.isArray(raw) || raw.length !== given.length) return failAll(this.unreadable(label()), lines)
    const outcomes = raw.map((item: unknown, i) =>
      destination ? this.destinationOutcome(item) : this.insertOutcome(item, events[i]),
    )
    return {outcomes, ...log(lines)} as InsertRun | DestinationRun
  }

  private insertOutcome(item: unknown, input: JsonObject | undefined): InsertOutcome {
    const o = (item !== null && typeof item === 'object' ? item : {}) as {[key: string]: unknown}
    switch (o.r) {
      case 'u':
        return {result: 'unchanged', events: input === undefined ? [] : [input]}
      case 'c':
        if (Array.isArray(o.e) && o.e.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e))) {
          return {result: 'changed', events: o.e as JsonObject[]}
        }
        break
      case 'd':
        return {result: 'dropped', reason: typeof o.why === 'string' ? o.why.slice(0, maxMessage) : 'dropped'}
      case 'x':
        return {result: 'error', error: this.failure(o.f)}
    }
    return {result: 'error', error: this.unreadable('the insert function')}
  }

  private destinationOutcome(item: unknown): DestinationOutcome {
    const o = (item !== null && typeof item === 'object' ? item : {}) as {[key: string]: unknown}
    if (o.r === 'ok') return {result: 'delivered'}
    if (o.r === 'x') {
      const outcome: DestinationOutcome = {result: 'error', error: this.failure(o.f)}
      if (typeof o.status === 'number') outcome.status = o.status
      return outcome
    }
    return {result: 'error', error: this.unreadable('the destination function')}
  }

  async runSource(request: SourceRequest, settings?: JsonObject): Promise<SourceRun> {
    const started = performance.now()
    const answer = await this.call('s', [request.body, JSON.stringify(request.headers), request.url], () => 'onRequest', settings)
    const done = (run: Omit<SourceRun, 'ms'>): SourceRun => ({...run, ms: performance.now() - started})
    if ('failure' in answer) return done({messages: [], unsupported: [], console: [], error: answer.failure})
    const parsed = this.parse(answer.text)
    if (parsed === undefined) return done({messages: [], unsupported: [], console: [], error: this.unreadable('onRequest')})
    const lines = this.consoleLines(parsed.c)
    if (parsed.x !== undefined) return done({messages: [], unsupported: [], console: lines, error: this.failure(parsed.x)})
    const types = new Set(['track', 'identify', 'page', 'screen', 'group', 'alias'])
    const messages: EmittedMessage[] = []
    for (const m of Array.isArray(parsed.m) ? parsed.m : []) {
      const {type, payload} = (m ?? {}) as {type?: unknown; payload?: unknown}
      if (typeof type === 'string' && types.has(type)) messages.push({type: type as EmittedMessage['type'], payload})
    }
    const unsupported = Array.isArray(parsed.u) ? parsed.u.filter((u): u is string => typeof u === 'string') : []
    const run: SourceRun = done({messages, unsupported, console: lines})
    if (parsed.f !== undefined) run.error = this.failure(parsed.f)
    return run
  }

  dispose(): void {
    this.disposed = true
    this.deadlines.clear()
    this.instance?.dispose('disposed')
    this.instance = undefined
  }
}

/**
 * The time limits of the calls in flight. Every call of a function has the same timeoutMs, so
 * deadlines come in the order calls start: a queue with one host timer armed for its head costs
 * O(1) per call, where a timer per call costs a timer-heap insert and removal each.
 */
class DeadlineQueue {
  private items: HostCall[] = []
  private head = 0
  private timer?: NodeJS.Timeout

  add(call: HostCall): void {
    this.items.push(call)
    if (this.timer === undefined) this.arm()
  }

  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.items = []
    this.head = 0
  }

  private arm(): void {
    while (this.head < this.items.length && this.items[this.head]!.ended) this.head++
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    if (this.head >= this.items.length) {
      this.items = []
      this.head = 0
      this.timer = undefined
      return
    }
    const next = this.items[this.head]!.deadline
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - Date.now()))
  }

  private fire(): void {
    this.timer = undefined
    const now = Date.now()
    while (this.head < this.items.length) {
      const call = this.items[this.head]!
      if (!call.ended && call.deadline > now) break
      this.head++
      if (!call.ended) call.timeOut?.()
    }
    this.arm()
  }
}
