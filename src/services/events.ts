import {workspacePaths} from '../config/workspace.js'
import type {SegmentMessage} from '../message/types.js'
import {parseEventFilter, parseViolationFilter, type EventFilterInput, type ViolationFilterInput} from '../query/filter-input.js'
import {openStorage} from '../store/open-storage.js'
import type {Storage} from '../store/storage.js'
import type {StoredEvent, StoredViolation} from '../store/types.js'

export interface EventsOptions extends EventFilterInput {
  dir: string
}

export interface EventsResult {
  events: StoredEvent[]
}

/** Opens the workspace's storage to read (beside a running daemon), reads, and closes it. */
export async function withReader<T>(dir: string, read: (storage: Storage) => Promise<T> | T): Promise<T> {
  const storage = await openStorage(workspacePaths(dir), {role: 'reader'})
  try {
    return await read(storage)
  } finally {
    await storage.close()
  }
}

/** Reads stored events from the workspace's store, alongside a running daemon if there is one. */
export async function listEvents(options: EventsOptions): Promise<EventsResult> {
  const filter = parseEventFilter(options)
  return withReader(options.dir, async ({events}) => ({events: await events.queryEvents(filter)}))
}

export interface ViolationsOptions extends ViolationFilterInput {
  dir: string
}

/** Reads recorded tracking-plan violations, newest last. */
export async function listViolations(options: ViolationsOptions): Promise<StoredViolation[]> {
  const filter = parseViolationFilter(options)
  return withReader(options.dir, ({events}) => events.queryViolations(filter))
}

export function messagesOf(result: EventsResult): SegmentMessage[] {
  return result.events.map((stored) => stored.message)
}
