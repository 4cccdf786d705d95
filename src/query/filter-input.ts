import {UserError} from '../errors.js'
import {messageTypes} from '../message/types.js'
import {readIsoTime} from '../message/time.js'
import {violationKinds} from '../plan/violations.js'
import {deliveryStatuses, type DeliveryQuery, type DeliveryStatus, type EventFilter, type ViolationFilter} from '../store/types.js'

/**
 * What people type (flags of cdp events, violations and deliveries; the query string of
 * GET /api/events, /api/violations and /api/deliveries) read into the typed filters the store
 * runs, checked the same way for both, with a UserError that says what is wrong. The store takes
 * only the typed filters (store/types.ts); it never sees text to check. Its own layer, below
 * services and the HTTP server, which both import it.
 */

export interface EventFilterInput {
  /** "true" / "false" (or booleans): checked events that passed or broke the plan. */
  valid?: string | boolean
  type?: string
  event?: string
  user?: string
  source?: string
  since?: string
  limit?: string | number
}

export const defaultEventLimit = 100
export const maxEventLimit = 100_000

const units: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}
const unitNames: Record<string, string> = {s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks'}

/** The earliest time a filter can name: ISO 8601 strings (what the store compares) start at year 0000. */
const earliestMs = Date.parse('0000-01-01T00:00:00Z')
const sinceHint = 'Give a span back from now such as 30s, 15m, 2h, 7d or 4w, or an ISO 8601 date or time such as 2024-05-01 or 2024-05-01T12:00:00Z.'

/** A point in time from an ISO 8601 date or a span back from now such as 30s, 15m, 2h, 7d. */
export function parseSince(value: string, now: number = Date.now()): string {
  return parseTimePoint('since', value, now)
}

/** The end of a time range (`cdp replay --until`): read as --since is. */
export function parseUntil(value: string, now: number = Date.now()): string {
  return parseTimePoint('until', value, now)
}

/** A time range from --since and --until, refused when it is inverted or empty (until at or before since). */
export function parseTimeRange(input: {since?: string; until?: string}, now: number = Date.now()): {since?: string; until?: string} {
  const since = input.since ? parseSince(input.since, now) : undefined
  const until = input.until ? parseUntil(input.until, now) : undefined
  if (since !== undefined && until !== undefined && Date.parse(until) <= Date.parse(since)) {
    throw new UserError(`until "${input.until}" (${until}) is not after since "${input.since}" (${since}): the time range is ${until === since ? 'empty' : 'inverted'}.`, {
      hint: 'Give an --until later than --since, or leave one of them out.',
      code: 'invalid_filter',
    })
  }
  return {since, until}
}

function parseTimePoint(name: string, value: string, now: number): string {
  const text = value.trim()
  const relative = /^(\d+)\s*([smhdw])$/i.exec(text)
  if (relative) {
    const unit = relative[2].toLowerCase()
    const ms = now - Number(relative[1]) * units[unit]
    if (!(ms >= earliestMs)) {
      const most = Math.floor((now - earliestMs) / units[unit])
      throw new UserError(`${name} "${value}" reaches back before the year 0000; a span in ${unitNames[unit]} can be at most ${most}.`, {hint: sinceHint, code: 'invalid_filter'})
    }
    return new Date(ms).toISOString()
  }
  const reading = readIsoTime(text)
  if (!reading.ok) {
    if (!reading.malformed) {
      throw new UserError(`${name} "${value}" is not a real time: ${reading.reason}.`, {hint: sinceHint, code: 'invalid_filter'})
    }
    throw new UserError(`${name} "${value}" is neither an ISO 8601 time nor a span such as 15m, 2h or 7d.`, {hint: sinceHint, code: 'invalid_filter'})
  }
  return new Date(reading.time.ms).toISOString()
}

/** A message type as typed (any case), checked against the six. */
export function parseMessageType(value: string): string {
  const type = value.toLowerCase()
  if (!(messageTypes as readonly string[]).includes(type)) {
    throw new UserError(`type "${value}" is not a message type; use one of ${messageTypes.join(', ')}.`, {code: 'invalid_filter'})
  }
  return type
}

/** "true" / "false" or a boolean: checked events that passed or broke the plan; undefined for none given. */
export function parseValid(value: string | boolean | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined
  if (value === true || value === 'true') return true
  if (value === false || value === 'false') return false
  throw new UserError(`valid "${value}" must be true or false.`, {code: 'invalid_filter'})
}

function parseLimit(value: string | number | undefined): number {
  if (value === undefined || value === '') return defaultEventLimit
  const limit = Number(value)
  if (!Number.isInteger(limit) || limit < 1 || limit > maxEventLimit) {
    throw new UserError(`limit "${value}" must be a whole number from 1 to ${maxEventLimit}.`, {code: 'invalid_filter'})
  }
  return limit
}

export interface ViolationFilterInput {
  event?: string
  kind?: string
  source?: string
  since?: string
  limit?: string | number
}

/** The filter of `cdp violations` and `GET /api/violations`. */
export function parseViolationFilter(input: ViolationFilterInput, now: number = Date.now()): ViolationFilter {
  const filter: ViolationFilter = {limit: parseLimit(input.limit)}
  if (input.kind) {
    if (!(violationKinds as readonly string[]).includes(input.kind)) {
      throw new UserError(`kind "${input.kind}" is not a violation kind; use one of ${violationKinds.join(', ')}.`, {code: 'invalid_filter'})
    }
    filter.kind = input.kind
  }
  if (input.event) filter.event = input.event
  if (input.source) filter.source = input.source
  if (input.since) filter.since = parseSince(input.since, now)
  return filter
}

/** The filter of `cdp events` and `GET /api/events`, checked the same way for both. */
export function parseEventFilter(input: EventFilterInput, now: number = Date.now()): EventFilter {
  const filter: EventFilter = {limit: parseLimit(input.limit)}
  if (input.type !== undefined && input.type !== '') filter.type = parseMessageType(input.type)
  if (input.event) filter.event = input.event
  if (input.user) filter.user = input.user
  if (input.source) filter.source = input.source
  if (input.since) filter.since = parseSince(input.since, now)
  const valid = parseValid(input.valid)
  if (valid !== undefined) filter.valid = valid
  return filter
}

export interface DeliveriesQueryInput {
  destination?: string
  status?: string
  limit?: string | number
}

export function parseDeliveriesQuery(input: DeliveriesQueryInput): DeliveryQuery {
  if (input.status !== undefined && input.status !== '' && !deliveryStatuses.includes(input.status as DeliveryStatus)) {
    throw new UserError(`status "${input.status}" is not one of ${deliveryStatuses.join(', ')}.`, {code: 'invalid_filter'})
  }
  return {
    destination: input.destination || undefined,
    status: (input.status || undefined) as DeliveryStatus | undefined,
    limit: parseLimit(input.limit),
  }
}
