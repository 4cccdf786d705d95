import {isPlainObject} from './json-value.js'
import type {JsonObject, SegmentMessage} from './types.js'

/** Where a message's traits were found: its top-level `traits`, or `context.traits`. */
export type TraitsPlace = 'traits' | 'context.traits'

export interface MessageTraits {
  /** The traits object itself (the message's own, not a copy); empty when the message has none. */
  traits: JsonObject
  /** Where they are in the message, as a dotted path: violation paths start here. */
  place: TraitsPlace
}

const none: MessageTraits = Object.freeze({traits: Object.freeze({}) as JsonObject, place: 'traits'})

/**
 * The traits of a message, the one rule for everything that reads them (the plan's identify and
 * group rules, cdp schema, cdp plan infer, the warehouse's rows). Segment's SDKs send an
 * identify's or group's traits as top-level `traits`; RudderStack's browser SDK (and any caller
 * of rudder-sdk-node that sets only `context.traits`) sends an identify's traits in
 * `context.traits` alone. So an identify or group without top-level `traits` has the object in
 * `context.traits` as its traits. Top-level `traits`, when present, always win (rudder-sdk-node
 * sends both, the same object). Other message types have only their top-level `traits`.
 * Messages are never changed: stored events stay as sent.
 */
export function messageTraits(message: SegmentMessage): MessageTraits {
  const top = message.traits
  if (isPlainObject(top)) return {traits: top, place: 'traits'}
  if (message.type === 'identify' || message.type === 'group') {
    const context = message.context
    // Own key only: a context without "traits" must not read through to anything inherited.
    const inContext = isPlainObject(context) && Object.hasOwn(context, 'traits') ? context.traits : undefined
    if (isPlainObject(inContext)) return {traits: inContext, place: 'context.traits'}
  }
  return none
}
