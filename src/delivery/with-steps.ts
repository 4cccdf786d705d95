import type {DestinationConfig} from '../config/schema.js'
import {hasSteps, noFunctions, runSteps, type StepResult} from '../functions/steps.js'
import type {SegmentMessage} from '../message/types.js'
import {DeliveryError, type AdapterContext, type DestinationAdapter, type EventSendResult, type OutgoingEvent} from './types.js'

function outgoingWith(event: OutgoingEvent, message: SegmentMessage): OutgoingEvent {
  return {seq: event.seq, messageId: event.messageId, source: event.source, userKey: event.userKey, json: JSON.stringify(message), message}
}

/**
 * A destination's transformations and insert function, run on each batch after the destination's
 * filter and before its adapter: on live delivery and on anything sent again (retries, replays).
 * A dropped event counts as done; a failed one is retried or dead-lettered like a failed send
 * (Segment's final classes at once). Destinations without steps get their adapter as it is.
 */
export function withSteps(adapter: DestinationAdapter, config: DestinationConfig, context: AdapterContext): DestinationAdapter {
  if (!hasSteps(config)) return adapter
  const functions = context.functions ?? noFunctions
  const prepare = (batch: readonly OutgoingEvent[]): Promise<StepResult[]> => runSteps(batch, config, {stage: 'destination', target: config.name}, functions)
  return {
    open: adapter.open?.bind(adapter),
    close: () => adapter.close(),
    prepare,
    async send(batch, signal, prepared) {
      const steps = Array.isArray(prepared) && prepared.length === batch.length ? (prepared as StepResult[]) : await prepare(batch)
      const results: EventSendResult[] = new Array(batch.length)
      // What goes on to the adapter, and for each the batch positions it came from.
      const onward: OutgoingEvent[] = []
      const origin: number[] = []
      steps.forEach((step, index) => {
        if (step.failure) {
          const where = step.failure.location ? ` (${step.failure.location})` : ''
          results[index] = {status: 'failed', error: new DeliveryError(`insert function "${config.insert}": ${step.failure.errorClass}: ${step.failure.message}${where}`, {retryable: step.failure.retryable})}
        } else if (step.unchanged) {
          onward.push(batch[index])
          origin.push(index)
        } else if (step.messages.length === 0) {
          results[index] = {status: 'dropped', reason: `dropped by insert function "${config.insert}"`}
        } else {
          // Several events from one (a RudderStack transformation): they stand or fall together.
          for (const message of step.messages) {
            onward.push(outgoingWith(batch[index], message))
            origin.push(index)
          }
        }
      })
      if (onward.length > 0) {
        let sent: void | EventSendResult[]
        try {
          sent = await adapter.send(onward, signal)
        } catch (error) {
          if (onward.length === batch.length && steps.every((step) => step.unchanged || step.messages.length === 1)) throw error
          const failure = error instanceof DeliveryError ? error : new DeliveryError(error instanceof Error ? error.message : String(error), {retryable: true})
          sent = onward.map(() => ({status: 'failed', error: failure}))
        }
        onward.forEach((_event, position) => {
          const index = origin[position]
          const result: EventSendResult = sent ? sent[position] : {status: 'delivered'}
          // The first failure of an event's outputs is its fate.
          if (results[index] === undefined || (results[index].status !== 'failed' && result.status === 'failed')) results[index] = result
        })
      }
      return results
    },
  }
}
