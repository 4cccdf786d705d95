import type {DestinationFilter, EventFilter, NewEvent} from './types.js'
import {userCondition} from './user-index.js'

/**
 * Which stored events a filter takes, written once in both of the forms cdp needs: SQL over the
 * events table, for the store's queries, and a test of an event in hand, for code that already
 * holds it (the live stream, a delivery worker's recent events, the delivery marks of history).
 * Each condition is one term with its two forms side by side, so they cannot drift apart;
 * test/store/filter-spec.test.ts feeds the same random events through both and requires the same
 * answers.
 */

/** The columns of an event that filters look at, named as in NewEvent. */
export type EventColumns = Pick<NewEvent, 'type' | 'event' | 'source' | 'userId' | 'anonymousId' | 'timestamp' | 'valid' | 'policy'>

/** What `cdp events`, GET /api/events and the live stream match on: an EventFilter without its paging. */
export type EventMatch = Pick<EventFilter, 'type' | 'event' | 'types' | 'events' | 'user' | 'source' | 'since' | 'until' | 'valid'>

/** The SQL of one condition and its parameters. */
type SqlTerm = [sql: string, ...params: unknown[]]

interface Term<Filter, Row> {
  /** Whether the filter sets this condition; a condition it does not set takes every event. */
  applies(filter: Filter): boolean
  /** The condition over the events table; `column` names a column with the query's alias. */
  sql(filter: Filter, column: (name: string) => string): SqlTerm
  /** The same condition on an event in hand. */
  test(filter: Filter, event: Row): boolean
}

/** A filter's conditions, each in both forms. */
export class FilterSpec<Filter, Row> {
  constructor(private readonly terms: readonly Term<Filter, Row>[]) {}

  /** The SQL conditions the filter sets, to be joined with AND, and their parameters in order. */
  sql(filter: Filter, alias?: string): {conditions: string[]; params: unknown[]} {
    const column = alias === undefined ? (name: string) => name : (name: string) => `${alias}.${name}`
    const conditions: string[] = []
    const params: unknown[] = []
    for (const term of this.terms) {
      if (!term.applies(filter)) continue
      const [sql, ...values] = term.sql(filter, column)
      conditions.push(sql)
      params.push(...values)
    }
    return {conditions, params}
  }

  /** The test of events in hand under one filter: the conditions it does not set are left out once, up front. */
  matcher(filter: Filter): (event: Row) => boolean {
    const terms = this.terms.filter((term) => term.applies(filter))
    return (event) => {
      for (const term of terms) if (!term.test(filter, event)) return false
      return true
    }
  }
}

/** A stored row, or a queued event (whose type is a plain string) with the policy it was stored with. */
type DestinationRow = Pick<EventColumns, 'event' | 'source' | 'policy'> & {type: string}

/** A destination's list of accepted values for one column; an event whose value is null is in no list. */
function inList(column: string, list: (f: DestinationFilter) => readonly string[] | undefined, value: (e: DestinationRow) => string | null): Term<DestinationFilter, DestinationRow> {
  return {
    applies: (f) => Boolean(list(f)),
    sql: (f, c) => {
      const values = list(f) ?? []
      return [`${c(column)} IN (${values.map(() => '?').join(', ')})`, ...values]
    },
    test: (f, e) => {
      const v = value(e)
      return v !== null && (list(f) ?? []).includes(v)
    },
  }
}

/** A list of values the column may take, any of them; an empty list sets nothing, and a null value is in no list. */
function anyOf(column: 'type' | 'event', list: (f: EventMatch) => readonly string[] | undefined): Term<EventMatch, Omit<EventColumns, 'policy'>> {
  return {
    applies: (f) => (list(f)?.length ?? 0) > 0,
    sql: (f, c) => {
      const values = list(f) ?? []
      return [`${c(column)} IN (${values.map(() => '?').join(', ')})`, ...values]
    },
    test: (f, e) => {
      const v = e[column]
      return v !== null && (list(f) ?? []).includes(v)
    },
  }
}

/**
 * The events filter: type, event (track event or page/screen name), lists of either (any of them),
 * user (userId or anonymousId), source, since (timestamp at or after), until (timestamp before) and
 * valid. Empty strings and empty lists set nothing.
 */
export const eventMatch = new FilterSpec<EventMatch, Omit<EventColumns, 'policy'>>([
  {applies: (f) => Boolean(f.type), sql: (f, c) => [`${c('type')} = ?`, f.type], test: (f, e) => e.type === f.type},
  {applies: (f) => Boolean(f.event), sql: (f, c) => [`${c('event')} = ?`, f.event], test: (f, e) => e.event === f.event},
  anyOf('type', (f) => f.types),
  anyOf('event', (f) => f.events),
  {
    applies: (f) => Boolean(f.user),
    sql: (f, c) => [userCondition(c), f.user, f.user, f.user],
    test: (f, e) => e.userId === f.user || e.anonymousId === f.user,
  },
  {applies: (f) => Boolean(f.source), sql: (f, c) => [`${c('source')} = ?`, f.source], test: (f, e) => e.source === f.source},
  // ISO 8601 times in UTC compare as text (both forms compare them as strings).
  {applies: (f) => Boolean(f.since), sql: (f, c) => [`${c('timestamp')} >= ?`, f.since], test: (f, e) => e.timestamp >= (f.since as string)},
  {applies: (f) => Boolean(f.until), sql: (f, c) => [`${c('timestamp')} < ?`, f.until], test: (f, e) => e.timestamp < (f.until as string)},
  // Stored as 1, 0 or NULL (no plan applies); NULL matches neither true nor false.
  {applies: (f) => f.valid !== undefined, sql: (f, c) => [`${c('valid')} = ?`, f.valid ? 1 : 0], test: (f, e) => e.valid === f.valid},
])

/**
 * Which events a destination takes: every one not quarantined ('blocked') whose type, event name
 * and source are in the destination's lists; an absent list takes all. An event without a name
 * (identify, group, alias) is not in any list of names.
 */
export const destinationMatch = new FilterSpec<DestinationFilter, DestinationRow>([
  // Quarantined events are stored for inspection and never forwarded.
  {applies: () => true, sql: (_f, c) => [`(${c('policy')} IS NULL OR ${c('policy')} <> 'blocked')`], test: (_f, e) => e.policy !== 'blocked'},
  inList('type', (f) => f.types, (e) => e.type),
  inList('event', (f) => f.events, (e) => e.event),
  inList('source', (f) => f.sources, (e) => e.source),
])
