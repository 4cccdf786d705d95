import type {Violation} from '../plan/violations.js'
import type {MessageType} from '../spec/types.js'
import type {NewEvent} from './types.js'

/*
 * Events cross to the writer thread as one string: each field as `length:value`, or `~` for null.
 * Structured-cloning thousands of small objects cost more than the writes themselves; one flat
 * string is copied in one piece. Lengths make any content safe, whatever characters it holds.
 */

function field(value: string | null): string {
  return value === null ? '~' : `${value.length}:${value}`
}

export function encodeEvents(events: readonly NewEvent[]): string {
  let out = `${events.length};`
  for (const e of events) {
    out +=
      field(e.messageId) + field(e.source) + field(e.type) + field(e.event) + field(e.userId) +
      field(e.anonymousId) + field(e.timestamp) + field(e.receivedAt) + field(e.raw) + field(e.message) +
      field(e.valid === null ? null : e.valid ? '1' : '0') + field(e.violations.length === 0 ? null : JSON.stringify(e.violations)) +
      field(e.policy)
  }
  return out
}

const validOf = (text: string | null): boolean | null => (text === null ? null : text === '1')
const violationsOf = (text: string | null): Violation[] => (text === null ? [] : (JSON.parse(text) as Violation[]))

export function decodeEvents(text: string): NewEvent[] {
  let at = text.indexOf(';')
  const count = Number(text.slice(0, at))
  at++
  const next = (): string | null => {
    if (text.charCodeAt(at) === 126 /* ~ */) {
      at++
      return null
    }
    const colon = text.indexOf(':', at)
    const length = Number(text.slice(at, colon))
    const value = text.slice(colon + 1, colon + 1 + length)
    at = colon + 1 + length
    return value
  }
  const events = new Array<NewEvent>(count)
  for (let i = 0; i < count; i++) {
    events[i] = {
      messageId: next() as string,
      source: next() as string,
      type: next() as MessageType,
      event: next(),
      userId: next(),
      anonymousId: next(),
      timestamp: next() as string,
      receivedAt: next() as string,
      raw: next() as string,
      message: next() as string,
      valid: validOf(next()),
      violations: violationsOf(next()),
      policy: next() as NewEvent['policy'],
    }
  }
  return events
}
