import type {TransformationConfig} from '../config/transformations-schema.js'
import {compileTransformations, type Transformer} from './transformations.js'
import type {ConsoleLine, FunctionFailure, FunctionRunRecord, FunctionRunSink, FunctionRuntime, InsertOutcome, JsonObject} from './types.js'
import {normalizeMessage} from '../message/normalize.js'
import type {SegmentMessage} from '../message/types.js'

/** Where the pipeline and delivery find loaded functions by name (the daemon's FunctionRegistry). */
export interface FunctionLookup {
  get(name: string): FunctionRuntime | undefined
  /** Why a function cannot run, for the error that says so. */
  unavailable(name: string): string
}

/** What a source or destination runs on its events before they go on: declarative transformations, then an insert function. */
/** Where there are no functions (a caller built without them): every one is unavailable, no record is kept. */
export const noFunctions: {lookup: FunctionLookup; sink: FunctionRunSink} = {
  lookup: {get: () => undefined, unavailable: (name) => `function "${name}" is not loaded (no functions run here)`},
  sink: {record: () => undefined},
}

export interface StepsConfig {
  transformations?: readonly TransformationConfig[]
  insert?: string
}

export function hasSteps(config: StepsConfig | undefined): boolean {
  return config !== undefined && (config.insert !== undefined || (config.transformations?.length ?? 0) > 0)
}

const compiled = new WeakMap<readonly TransformationConfig[], Transformer>()

/** The transformations' compiled form, made once per list (a cdp.json reload makes a new list). */
export function transformerOf(list: readonly TransformationConfig[] | undefined): Transformer | undefined {
  if (!list || list.length === 0) return undefined
  let transformer = compiled.get(list)
  if (!transformer) {
    transformer = compileTransformations(list)
    compiled.set(list, transformer)
  }
  return transformer
}

/**
 * One event on its way through the steps: its message (which may be parsed only when read), and
 * its JSON text when the caller has it (a stored row), so that an insert function can take the
 * text as it is.
 */
export interface StepInput {
  readonly messageId: string
  readonly message: SegmentMessage
  readonly json?: string
}

/** One event in, what goes on out: itself unchanged, nothing (dropped or failed), or one or more messages. */
export interface StepResult {
  /** The event goes on as it came in (no step changed it). */
  unchanged?: true
  /** The messages to go on, in order, when the steps changed the event (none when they dropped it). */
  messages: SegmentMessage[]
  /** Set when the insert function failed on this event. */
  failure?: FunctionFailure
}

const unchangedResult: StepResult = {unchanged: true, messages: []}

/** A function's console lines for one event of a call: its own, and those written outside any event go with the first. */
export function linesOf(lines: readonly ConsoleLine[], index: number): ConsoleLine[] {
  if (lines.length === 0) return []
  return lines.filter((line) => line.eventIndex === index || (line.eventIndex === undefined && index === 0))
}

/**
 * An insert function's output, checked again by Segment's message rules (a handler may have
 * removed userId, say), keeping the timestamp it was given. A second event returned for one
 * input (a RudderStack transformEvent may return several) that kept the input's messageId gets
 * `<messageId>:<n>`, so that the store keeps it rather than taking it for a duplicate.
 */
function checkedOutput(output: JsonObject, input: SegmentMessage, position: number): {message?: SegmentMessage; problem?: string} {
  let candidate = output
  if (position > 0 && output.messageId === input.messageId) candidate = {...output, messageId: `${input.messageId}:${position}`}
  const result = normalizeMessage(candidate, {receivedAt: Date.parse(input.receivedAt), receivedAtIso: input.receivedAt, renormalize: true, newMessageId: () => `${input.messageId}:${position}`})
  return result.ok ? {message: result.message} : {problem: result.problem.message}
}

/**
 * Runs a source's or destination's steps over a batch of messages: the transformations, then the
 * insert function (one call for the batch). Returns one result per message, in order, and hands
 * the function's records to the sink. Never throws for what the user's function does; the
 * caller decides what a failure means where it runs.
 */
export async function runSteps(
  inputs: readonly StepInput[],
  config: StepsConfig,
  where: {stage: 'source' | 'destination'; target: string},
  functions: {lookup: FunctionLookup; sink: FunctionRunSink; settings?: JsonObject},
): Promise<StepResult[]> {
  const transformer = transformerOf(config.transformations)
  // A transformation that changed an event makes a new input: its stored text no longer says what it is.
  const transformed: readonly StepInput[] = transformer
    ? inputs.map((input) => {
        const message = transformer(input.message) as SegmentMessage
        return message === input.message ? input : {messageId: input.messageId, message}
      })
    : inputs
  const changedBefore = transformed.map((input, index) => input !== inputs[index])
  const asIs = (input: StepInput, index: number): StepResult => (changedBefore[index] ? {messages: [input.message]} : unchangedResult)
  if (config.insert === undefined) return transformed.map(asIs)
  const name = config.insert
  const runtime = functions.lookup.get(name)
  if (!runtime) {
    const failure: FunctionFailure = {errorClass: 'FunctionUnavailable', message: functions.lookup.unavailable(name), retryable: true}
    return transformed.map(() => ({messages: [], failure}))
  }
  // Stored rows go as the text they are; anything else is serialised by the runtime.
  const texts = transformed.every((input) => input.json !== undefined) ? transformed.map((input) => input.json as string) : undefined
  const run = texts ? await runtime.runInsertJson(texts, functions.settings) : await runtime.runInsert(transformed.map((input) => input.message), functions.settings)
  const at = new Date().toISOString()
  const records: FunctionRunRecord[] = []
  const results = transformed.map((input, index): StepResult => {
    const outcome: InsertOutcome = run.outcomes[index] ?? {result: 'error', error: {errorClass: 'Error', message: 'the function gave no outcome for this event', retryable: true}}
    const record: FunctionRunRecord = {at, function: name, kind: 'insert', stage: where.stage, target: where.target, messageId: input.messageId, result: outcome.result, console: linesOf(run.console, index), ms: run.ms}
    records.push(record)
    switch (outcome.result) {
      case 'unchanged':
        return asIs(input, index)
      case 'changed': {
        const kept: SegmentMessage[] = []
        for (let position = 0; position < outcome.events.length; position++) {
          const checked = checkedOutput(outcome.events[position], input.message, position)
          if (checked.message) {
            kept.push(checked.message)
            continue
          }
          // Refused by Segment's rules: the function's mistake, final like Segment's InvalidEventPayload.
          const failure: FunctionFailure = {errorClass: 'InvalidEventPayload', message: `the event "${name}" returned is not a valid Segment message: ${checked.problem}`, retryable: false}
          Object.assign(record, {result: 'error', errorClass: failure.errorClass, message: failure.message})
          return {messages: [], failure}
        }
        return {messages: kept}
      }
      case 'dropped':
        record.message = outcome.reason
        return {messages: []}
      case 'error':
        record.errorClass = outcome.error.errorClass
        record.message = outcome.error.message
        return {messages: [], failure: outcome.error}
    }
  })
  functions.sink.record(records)
  return results
}
