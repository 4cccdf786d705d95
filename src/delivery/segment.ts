import {limits} from '../message/limits.js'
import {HttpClient} from './http.js'
import type {AdapterFactory, OutgoingEvent} from './types.js'

/**
 * The stored JSON's end when sentAt came with the batch: normalisation appends sentAt and then
 * receivedAt, so JSON.stringify writes them last. Matched only there, with string values free of
 * quotes and backslashes, `,"sentAt":` can only be a key of the top-level object (an unescaped
 * quote after a comma opens a string, and the text ends right after the object closes).
 */
const trailingSentAt = /^,"sentAt":"[^"\\]*"(?=,"receivedAt":"[^"\\]*"\}$)/

/**
 * The message as forwarded: unchanged but for sentAt, which belongs to the first hop. Sent again,
 * it would make the receiver "correct" the timestamp a second time against its own clock.
 */
export function forwarded(event: OutgoingEvent): string {
  const json = event.json
  // No key sentAt anywhere: JSON.stringify writes every key as it is, quotes and colon included.
  if (!json.includes('"sentAt":')) return json
  // The common case (SDK batches): cut it from the text instead of parsing and serialising again.
  const at = json.lastIndexOf(',"sentAt":"')
  if (at > 0) {
    const match = trailingSentAt.exec(json.slice(at))
    if (match) return json.slice(0, at) + json.slice(at + match[0].length)
  }
  if (!('sentAt' in event.message)) return event.json
  // Spread, not Object.assign: a message's "__proto__" key must stay a key, not become the copy's prototype.
  const message: Record<string, unknown> = {...event.message}
  delete message.sentAt
  return JSON.stringify(message)
}

/** Splits serialised messages into request bodies within Segment's batch size limit. */
export function batchBodies(messages: readonly string[], limitBytes = limits.batchBytes): string[] {
  const bodies: string[] = []
  const overhead = Buffer.byteLength('{"batch":[]}')
  let current: string[] = []
  let bytes = overhead
  for (const message of messages) {
    const size = Buffer.byteLength(message)
    // A comma goes before every message but the first of a body.
    if (current.length > 0 && bytes + 1 + size > limitBytes) {
      bodies.push(`{"batch":[${current.join(',')}]}`)
      current = []
      bytes = overhead
    }
    bytes += (current.length > 0 ? 1 : 0) + size
    current.push(message)
  }
  if (current.length > 0) bodies.push(`{"batch":[${current.join(',')}]}`)
  return bodies
}

/**
 * Forwards to a Segment-compatible Tracking API (Segment, RudderStack, another cdp) through
 * /v1/batch with the receiving source's write key, within Segment's 500 KB batch limit.
 */
export const createSegmentDestination: AdapterFactory<'segment'> = (config) => {
  const base = (config.url ?? 'https://api.segment.io').replace(/\/+$/, '')
  const url = new URL(`${base}/v1/batch`)
  const authorization = `Basic ${Buffer.from(`${config.writeKey}:`).toString('base64')}`
  const client = new HttpClient()
  return {
    async send(batch, signal) {
      for (const body of batchBodies(batch.map(forwarded))) await client.post(url, body, {authorization}, signal)
    },
    async close() {
      client.destroy()
    },
  }
}
