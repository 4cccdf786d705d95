import {resolveSettings} from '../config/functions.js'
import {linesOf} from '../functions/steps.js'
import type {DestinationOutcome, FunctionRunRecord, JsonObject} from '../functions/types.js'
import {DeliveryError, type AdapterFactory, type EventSendResult} from './types.js'

/**
 * A destination of type "function": the user's destination function sends the events
 * (onTrack… or onBatch). Its outcome per event becomes a delivery result: a Segment final error
 * (EventNotSupported, InvalidEventPayload, ValidationError) is dead-lettered at once; RetryError,
 * a time-out or a failed fetch is retried under the destination's retry policy. The function is
 * looked up at each send, so an edited file applies to the next batch.
 */
export const createFunctionDestination: AdapterFactory<'function'> = (config, context) => {
  const functions = context.functions
  if (!functions) throw new Error(`destination "${config.name}" runs function "${config.function}", but this daemon runs no functions`)
  // The destination's settings over the function's: resolved once, when the destination starts.
  const problems: string[] = []
  const own: JsonObject = resolveSettings(config.settings, process.env, `/destinations/${config.name}/settings`, problems)
  for (const problem of problems) context.log.warn(`destination "${config.name}": ${problem}`)
  return {
    async send(batch) {
      const runtime = functions.lookup.get(config.function)
      if (!runtime) throw new DeliveryError(functions.lookup.unavailable(config.function), {retryable: true})
      const settings = Object.keys(own).length === 0 ? undefined : {...runtime.definition.settings, ...own}
      const run = await runtime.runDestination(
        batch.map((event) => event.message as unknown as JsonObject),
        settings,
      )
      const at = new Date().toISOString()
      const records: FunctionRunRecord[] = []
      const results = batch.map((event, index): EventSendResult => {
        const outcome: DestinationOutcome = run.outcomes[index] ?? {result: 'error', error: {errorClass: 'Error', message: 'the function gave no outcome for this event', retryable: true}}
        const record: FunctionRunRecord = {at, function: config.function, kind: 'destination', stage: 'destination', target: config.name, messageId: event.messageId, result: outcome.result, console: linesOf(run.console, index), ms: run.ms}
        records.push(record)
        if (outcome.result === 'delivered') return {status: 'delivered'}
        record.errorClass = outcome.error.errorClass
        record.message = outcome.error.message
        const where = outcome.error.location ? ` (${outcome.error.location})` : ''
        return {
          status: 'failed',
          error: new DeliveryError(`${outcome.error.errorClass}: ${outcome.error.message}${where}`, {retryable: outcome.error.retryable, status: outcome.status}),
        }
      })
      functions.sink.record(records)
      return results
    },
    async close() {},
  }
}
