import {workspacePaths} from '../config/workspace.js'
import type {SegmentMessage} from '../spec/types.js'
import {parseEventFilter, type EventFilterInput} from '../store/event-filter.js'
import {SqliteStore} from '../store/sqlite-store.js'
import type {StoredEvent} from '../store/types.js'

export interface EventsOptions extends EventFilterInput {
  dir: string
}

export interface EventsResult {
  events: StoredEvent[]
}

/** Reads stored events from the workspace's store, alongside a running daemon if there is one. */
export function listEvents(options: EventsOptions): EventsResult {
  const filter = parseEventFilter(options)
  const store = new SqliteStore(workspacePaths(options.dir).database, {readonly: true})
  try {
    return {events: store.queryEvents(filter)}
  } finally {
    store.close()
  }
}

export function messagesOf(result: EventsResult): SegmentMessage[] {
  return result.events.map((stored) => stored.message)
}
