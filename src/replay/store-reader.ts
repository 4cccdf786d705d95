import type {EventStore, ReplayFilter} from '../store/types.js'
import type {ReplayReader, ReplaySelection} from './types.js'

/** The store's filter for a selection: the filters of `cdp events`, bounded by the replay's `through` seq. */
export function replayFilterOf(selection: ReplaySelection, through?: number | null): ReplayFilter {
  return {
    types: selection.types,
    events: selection.events,
    user: selection.user,
    source: selection.source,
    since: selection.since,
    until: selection.until,
    valid: selection.valid,
    through: through ?? undefined,
  }
}

/**
 * Reads a replay's events from the store, a page (what the worker asks for) at a time: positions
 * are the events' seqs. `through` is the newest seq when the replay was created (StoredReplay's):
 * without it every page reads up to the newest event stored at that moment, so a replay beside a
 * running cdp dev would follow what it stores.
 */
export function openStoreReader(events: Pick<EventStore, 'replayEvents'>, selection: ReplaySelection, through?: number | null): ReplayReader {
  const filter = replayFilterOf(selection, through)
  return {
    corrupt: [],
    async read(after, limit) {
      return events.replayEvents(after, filter, limit)
    },
    async close() {},
  }
}
