import {normalizeMessage} from '../message/normalize.js'
import type {AcceptedMessage} from '../message/request.js'
import type {EmittedMessage} from './types.js'

/** A source function's messages, each checked by Segment's rules; the first refused one names its call. */
export type EmittedCheck = {ok: true; accepted: AcceptedMessage[]} | {ok: false; call: number; problem: string; field?: string}

/**
 * What a source function emitted with Segment.track() and the like, normalised as the Tracking API
 * would its calls (received at `receivedAt`). One message Segment would refuse (a missing userId
 * and anonymousId, a track without event) refuses them all, naming the call: `cdp dev` stores none
 * of them and `cdp fn run` says so, the same way.
 */
export function checkEmitted(messages: readonly EmittedMessage[], receivedAt: number): EmittedCheck {
  const accepted: AcceptedMessage[] = []
  const receivedAtIso = new Date(receivedAt).toISOString()
  for (const [index, emitted] of messages.entries()) {
    const result = normalizeMessage(emitted.payload, {receivedAt, receivedAtIso, endpointType: emitted.type})
    if (!result.ok) {
      return {ok: false, call: index + 1, problem: `Segment.${emitted.type}() call ${index + 1} of ${messages.length}: ${result.problem.message}`, ...(result.problem.field ? {field: result.problem.field} : {})}
    }
    accepted.push({index, message: result.message, raw: JSON.stringify(emitted.payload)})
  }
  return {ok: true, accepted}
}
