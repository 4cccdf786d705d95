import {depthOf} from './json-text.js'
import type {FuzzCase} from './mutator.js'

/** What came back for one request: an answer, or the error that stood for one. */
export interface Outcome {
  status?: number
  headers?: Record<string, string | string[] | undefined>
  body?: Buffer
  /** The socket error or timeout when no complete answer came. */
  error?: {code: string; message: string}
  timedOut: boolean
  /** The request went out on a keep-alive socket that had served another before. */
  reusedSocket: boolean
  ms: number
}

/** One message the daemon acknowledged, with what it was sent as. */
export interface Acked {
  caseIndex: number
  /** The messageId it is stored under, or undefined when the daemon had to make one. */
  messageId?: string
  item: Record<string, unknown>
  /** The type the endpoint implies; undefined for a batch item (its own type counts). */
  endpointType?: string
  batch?: {context?: unknown; integrations?: unknown; sentAt?: unknown}
  source?: string
}

export interface Judgement {
  /** Each is "class: detail"; the class groups failures in the summary. */
  problems: string[]
  acked: Acked[]
  /** An acknowledgement whose body the fuzzer cannot read back (garbage that parsed): nothing to compare. */
  unverifiableAck: boolean
  /** messageIds the daemon refused: none may be stored (unless acknowledged elsewhere). */
  refused: string[]
  /** messageIds whose fate is unknown (no answer, 5xx): stored or not, either is allowed. */
  maybe: string[]
  /** Messages without a messageId whose fate is unknown. */
  maybeUnnamed: number
}

export type OutcomeClass = '2xx' | '4xx' | '5xx' | 'no-answer' | 'hang'

export function outcomeClass(outcome: Outcome): OutcomeClass {
  if (outcome.timedOut) return 'hang'
  if (outcome.status === undefined) return 'no-answer'
  if (outcome.status >= 500) return '5xx'
  if (outcome.status >= 400) return '4xx'
  return '2xx'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function parseBody(outcome: Outcome): unknown {
  if (!outcome.body || outcome.body.length === 0) return undefined
  try {
    return JSON.parse(outcome.body.toString('utf8'))
  } catch {
    return undefined
  }
}

/** The messageId a message is stored under: its own (numbers as strings), or none when the daemon makes one. */
export function storedIdOf(item: unknown): string | undefined {
  if (!isObject(item)) return undefined
  const id = item.messageId
  if (id === undefined || id === null || id === '') return undefined
  if (typeof id === 'number') return String(id)
  return typeof id === 'string' ? id : undefined
}

/** The messages of a Tracking API payload, with the batch-level fields they inherit. */
function messagesOf(c: FuzzCase): {items: unknown[]; batch?: Acked['batch']} | undefined {
  if (!isObject(c.payload)) return undefined
  if (c.endpoint === 'batch') {
    if (!Array.isArray(c.payload.batch)) return undefined
    return {items: c.payload.batch, batch: {context: c.payload.context, integrations: c.payload.integrations, sentAt: c.payload.sentAt}}
  }
  return {items: [c.payload]}
}

function idsOf(c: FuzzCase): string[] {
  const messages = messagesOf(c)
  if (!messages) return []
  return messages.items.map(storedIdOf).filter((id): id is string => id !== undefined)
}

/**
 * Judges one answer against what the request was: never a 5xx, no hang, no lost answer; the
 * certain outcomes the generator promised; a JSON error body on every 4xx; and, for the Tracking
 * API, which messages were acknowledged (200, or not listed as rejected in a partial batch).
 */
export function judge(c: FuzzCase, outcome: Outcome): Judgement {
  const judgement: Judgement = {problems: [], acked: [], unverifiableAck: false, refused: [], maybe: [], maybeUnnamed: 0}
  const unknownFate = () => {
    judgement.maybe = idsOf(c)
    judgement.maybeUnnamed = (messagesOf(c)?.items.length ?? 0) - judgement.maybe.length
  }
  const problem = (text: string) => judgement.problems.push(text)
  const status = outcome.status
  if (outcome.timedOut) {
    problem(`hang: no answer within ${outcome.ms} ms`)
    unknownFate()
    return judgement
  }
  if (status === undefined) {
    const error = outcome.error ?? {code: 'unknown', message: 'no answer'}
    problem(`no answer: ${error.code} (${error.message})${outcome.reusedSocket ? ' on a reused keep-alive socket' : ' on a new socket'}`)
    unknownFate()
    return judgement
  }
  const body = parseBody(outcome)
  const errorBody = isObject(body) ? `${String(body.code)}: ${String(body.error).slice(0, 200)}` : (outcome.body?.toString('utf8').slice(0, 200) ?? '')
  if (status >= 500) {
    problem(`5xx: ${status} ${errorBody}`)
    unknownFate()
    return judgement
  }
  if (c.expect === 'success' && status !== 200) problem(`expected 200: got ${status} ${errorBody}`)
  if (c.expect === 'client-error' && (status < 400 || status >= 500)) problem(`expected a 4xx: got ${status}`)
  if (status >= 400 && c.method !== 'HEAD' && !(isObject(body) && body.success === false && typeof body.code === 'string' && typeof body.error === 'string' && body.error.length > 0)) {
    problem(`unclear error: ${status} without a JSON {success: false, code, error} body: ${errorBody}`)
  }
  if (c.endpoint === undefined) return judgement

  const messages = messagesOf(c)
  if (status === 200) {
    if (!(isObject(body) && body.success === true)) problem(`unclear success: 200 with body ${errorBody}`)
    if (!messages) {
      judgement.unverifiableAck = true
      return judgement
    }
    messages.items.forEach((item, index) => {
      if (c.itemExpect?.[index] === 'reject') problem(`expected item ${index} to be rejected: the whole batch got 200`)
      acknowledge(judgement, c, item, index, messages.batch)
    })
    return judgement
  }
  if (status === 400 && isObject(body) && body.code === 'invalid_messages' && messages) {
    const rejected = new Set<number>()
    for (const entry of Array.isArray(body.rejected) ? body.rejected : []) {
      if (isObject(entry) && typeof entry.index === 'number') rejected.add(entry.index)
      else problem(`unclear partial batch: a rejected entry without an index: ${JSON.stringify(entry).slice(0, 200)}`)
    }
    const acceptedCount = messages.items.length - rejected.size
    if (body.accepted !== acceptedCount) problem(`unclear partial batch: says ${String(body.accepted)} accepted, but ${acceptedCount} of ${messages.items.length} are not listed as rejected`)
    messages.items.forEach((item, index) => {
      if (rejected.has(index)) {
        if (c.itemExpect?.[index] === 'accept') problem(`expected item ${index} to be accepted: rejected`)
        const id = storedIdOf(item)
        if (id !== undefined) judgement.refused.push(id)
      } else {
        if (c.itemExpect?.[index] === 'reject') problem(`expected item ${index} to be rejected: accepted`)
        acknowledge(judgement, c, item, index, messages.batch)
      }
    })
    return judgement
  }
  // Any other answer refuses the whole request: nothing in it may be stored.
  judgement.refused = idsOf(c)
  return judgement
}

function acknowledge(judgement: Judgement, c: FuzzCase, item: unknown, index: number, batch: Acked['batch']): void {
  if (!isObject(item)) {
    judgement.problems.push(`acknowledged a non-message: item ${index} is ${JSON.stringify(item)}`)
    return
  }
  judgement.acked.push({
    caseIndex: c.index,
    messageId: storedIdOf(item),
    item,
    endpointType: c.endpoint === 'batch' ? undefined : c.endpoint,
    batch: c.endpoint === 'batch' ? batch : undefined,
    source: c.source,
  })
}

/** Deep equality of parsed JSON, key order aside; own keys only, so `__proto__` counts as a key. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  for (const key of keysA) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false
    if (!sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false
  }
  return true
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

/** An ISO date whose day does not exist (2024-02-30): JavaScript rolls it into the next month. */
export function isImpossibleDate(value: unknown): boolean {
  if (typeof value !== 'string') return false
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value)
  if (!match) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return month >= 1 && month <= 12 && day > daysInMonth(year, month)
}

const idFields = ['userId', 'anonymousId', 'previousId', 'groupId']
/** Fields the daemon sets or rewrites by its documented normalisation; everything else is kept as sent. */
const normalisedFields = new Set(['type', 'messageId', 'context', 'integrations', 'timestamp', 'originalTimestamp', 'sentAt', 'receivedAt', 'writeKey'])
const timeFormat = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

function asJavaScriptReadsIt(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value))
}

function shown(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? 'absent' : text.length > 120 ? `${text.slice(0, 120)}…` : text
}

/** The time a client's ISO string names, in ms (the oracle reads only what the daemon acknowledged). */
function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const ms = Date.parse(value.replace(',', '.'))
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * Whether a stored message is the acknowledged one as sent, modulo the documented normalisation:
 * type from the endpoint or lowercased, writeKey removed, numeric ids as strings, context and
 * integrations defaulted to {} (batch-level ones merged under the item's own), receivedAt set,
 * timestamp corrected for clock skew with the client's kept as originalTimestamp, sentAt kept.
 */
export function compareStored(acked: Acked, stored: {source: string; message: Record<string, unknown>}, window: {start: number; end: number}): string[] {
  const problems: string[] = []
  const differs = (what: string, sent: unknown, got: unknown) => problems.push(`stored differs: ${what}: sent ${shown(sent)}, stored ${shown(got)}`)
  const message = stored.message
  if (acked.source !== undefined && stored.source !== acked.source) differs('source', acked.source, stored.source)
  const depth = Math.max(depthOf(acked.item), depthOf(acked.batch) + 1, depthOf(message))
  if (depth > 200) {
    problems.push(`stored differs: a message nested ${depth} levels deep was acknowledged and stored`)
    return problems
  }
  // Compared as JavaScript reads JSON: 1e400 is Infinity and serialises as null, 2^64 rounds.
  // Those changes are JSON's in any JavaScript service, not the daemon's normalisation.
  const item = asJavaScriptReadsIt(acked.item) as Record<string, unknown>
  const batch = asJavaScriptReadsIt(acked.batch) as Acked['batch']
  for (const key of Object.keys(item)) {
    if (normalisedFields.has(key)) continue
    const sent = item[key]
    const got = message[key]
    if (!Object.prototype.hasOwnProperty.call(message, key)) {
      // properties or traits sent as null are dropped.
      if (sent === null && (key === 'properties' || key === 'traits')) continue
      differs(`key ${JSON.stringify(key)} is missing`, sent, undefined)
      continue
    }
    if (idFields.includes(key) && typeof sent === 'number' && got === String(sent)) continue
    if (!sameJson(sent, got)) differs(`key ${JSON.stringify(key)}`, sent, got)
  }
  const allowed = new Set([...Object.keys(item), ...normalisedFields])
  for (const key of Object.keys(message)) if (!allowed.has(key)) differs(`key ${JSON.stringify(key)} was added`, undefined, message[key])
  if ('writeKey' in message) differs('writeKey is kept', undefined, message.writeKey)

  const expectedType = acked.endpointType ?? String(item.type).toLowerCase()
  if (message.type !== expectedType) differs('type', expectedType, message.type)
  if (acked.messageId !== undefined && message.messageId !== acked.messageId) differs('messageId', acked.messageId, message.messageId)
  if (typeof message.messageId !== 'string' || message.messageId.length === 0 || message.messageId.length > 100) differs('messageId (1 to 100 characters)', item.messageId, message.messageId)

  for (const field of ['context', 'integrations'] as const) {
    const fromBatch = isObject(batch?.[field]) ? (batch?.[field] as Record<string, unknown>) : undefined
    const own = isObject(item[field]) ? (item[field] as Record<string, unknown>) : undefined
    // The item's own keys win over the batch's (built with defineProperty so `__proto__` stays a key).
    const expected: Record<string, unknown> = {}
    for (const source of [fromBatch, own]) {
      if (!source) continue
      for (const key of Object.keys(source)) Object.defineProperty(expected, key, {value: source[key], enumerable: true, writable: true, configurable: true})
    }
    if (!sameJson(expected, message[field])) differs(field, expected, message[field])
  }

  const receivedAt = typeof message.receivedAt === 'string' && timeFormat.test(message.receivedAt) ? Date.parse(message.receivedAt) : NaN
  if (!(receivedAt >= window.start - 1000 && receivedAt <= window.end + 1000)) differs('receivedAt (the time of arrival)', new Date(window.start).toISOString(), message.receivedAt)
  const sentAtValue = item.sentAt ?? batch?.sentAt
  if (sentAtValue !== undefined && sentAtValue !== null) {
    if (message.sentAt !== sentAtValue) differs('sentAt', sentAtValue, message.sentAt)
  } else if (!sameJson(item.sentAt, message.sentAt)) differs('sentAt', item.sentAt, message.sentAt)
  for (const [field, value] of [['timestamp', item.timestamp], ['originalTimestamp', item.originalTimestamp], ['sentAt', sentAtValue]] as const) {
    if (isImpossibleDate(value)) problems.push(`impossible date acknowledged: ${field} ${shown(value)} names a day that does not exist (stored as ${shown(message.timestamp)})`)
  }
  const clientTime = timeOf(item.timestamp) ?? timeOf(item.originalTimestamp)
  if (typeof message.timestamp !== 'string' || !timeFormat.test(message.timestamp)) {
    differs('timestamp (an ISO time)', item.timestamp, message.timestamp)
  } else if (clientTime === undefined) {
    if (message.timestamp !== message.receivedAt) differs('timestamp (receivedAt when none was sent)', message.receivedAt, message.timestamp)
    if (!sameJson(item.originalTimestamp, message.originalTimestamp)) differs('originalTimestamp', item.originalTimestamp, message.originalTimestamp)
  } else {
    const original = item.originalTimestamp ?? item.timestamp
    if (message.originalTimestamp !== original) differs('originalTimestamp (the client\'s time)', original, message.originalTimestamp)
    const sentAt = timeOf(sentAtValue)
    const expected = sentAt === undefined ? clientTime : receivedAt - (sentAt - clientTime)
    if (Date.parse(message.timestamp) !== expected) {
      differs('timestamp (corrected for clock skew: receivedAt − (sentAt − timestamp))', Number.isFinite(expected) ? new Date(expected).toISOString() : expected, message.timestamp)
    }
  }
  return problems
}

/** What must hold of every stored message, whoever sent it. */
export function storedInvariants(message: Record<string, unknown>): string[] {
  const problems: string[] = []
  const depth = depthOf(message)
  if (depth > 64) problems.push(`invariant: a stored message nests ${depth} levels (the limit is 64)`)
  if (typeof message.messageId !== 'string' || message.messageId.length > 100) problems.push(`invariant: stored messageId ${shown(message.messageId)}`)
  if (!['track', 'identify', 'page', 'screen', 'group', 'alias'].includes(message.type as string)) problems.push(`invariant: stored type ${shown(message.type)}`)
  if ('writeKey' in message) problems.push('invariant: a stored message keeps its writeKey')
  return problems
}
