import {workspacePaths} from '../config/workspace.js'
import type {SegmentMessage} from '../message/types.js'
import {parseEventFilter, parseViolationFilter, type EventFilterInput, type ViolationFilterInput} from '../store/event-filter.js'
import {SqliteStore} from '../store/sqlite-store.js'
import type {StoredEvent, StoredViolation} from '../store/types.js'

export interface EventsOptions extends EventFilterInput {
  dir: string
}

export interface EventsResult {
  events: StoredEvent[]
}

/** Opens the workspace's store read-only (beside a running daemon), reads, and closes it. */
export function withReader<T>(dir: string, read: (store: SqliteStore) => T): T {
  const store = new SqliteStore(workspacePaths(dir).database, {readonly: true})
  try {
    return read(store)
  } finally {
    store.close()
  }
}

/** Reads stored events from the workspace's store, alongside a running daemon if there is one. */
export function listEvents(options: EventsOptions): EventsResult {
  const filter = parseEventFilter(options)
  return withReader(options.dir, (store) => ({events: store.queryEvents(filter)}))
}

export interface ViolationsOptions extends ViolationFilterInput {
  dir: string
}

/** Reads recorded tracking-plan violations, newest last. */
export function listViolations(options: ViolationsOptions): StoredViolation[] {
  const filter = parseViolationFilter(options)
  return withReader(options.dir, (store) => store.queryViolations(filter))
}

export function messagesOf(result: EventsResult): SegmentMessage[] {
  return result.events.map((stored) => stored.message)
}
