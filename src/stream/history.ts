import type {DestinationConfig} from '../config/schema.js'
import {destinationMatch} from '../store/filter-spec.js'
import type {DeliveryStore, EventStore, StoredEvent} from '../store/types.js'
import {streamEventMatch} from './filter.js'
import {historyScanWindow} from './limits.js'
import type {DeliveryMark, StreamEvent, StreamFilter} from './types.js'

/** A reader's history, given a slice at a time so that no step holds the event loop for long. */
export interface HistoryCursor {
  /**
   * The next events (at most `most`), oldest first, after a bounded piece of work: [] while it is
   * still looking for them (a filter that matches few events scans the store a window at a
   * time), undefined once every one was given.
   */
  next(most: number): StreamEvent[] | undefined
}

/**
 * The stored events a reader sees before the live ones: the newest `limit` after `after` that
 * match its filter, each with its violations and where it stands at each destination.
 *
 * Create it in the same turn of the event loop as the reader's subscription: everything stored
 * until then is history, everything stored later reaches the reader live, and nothing falls
 * between or comes twice.
 */
export function historyEvents(
  store: Pick<EventStore, 'eventsAfter' | 'seqsAfter' | 'violationsOf'>,
  deliveries: Pick<DeliveryStore, 'recordsOf' | 'destinationState'>,
  destinations: readonly DestinationConfig[],
  filter: StreamFilter,
  options: {limit: number; after: number},
): HistoryCursor {
  const {limit, after} = options
  const storeFilter = streamEventMatch(filter)
  // The newest stored seq now: the search goes down from it, a window at a time, until it has
  // found `limit` events or reached `after`. Only sequence numbers are kept meanwhile.
  let searchedDownTo = limit > 0 ? (store.seqsAfter(after, {limit: 1})[0] ?? after) : after
  const found: number[][] = []
  let foundCount = 0
  let toSend: number[] | undefined
  let sentCount = 0

  const search = (): void => {
    const from = Math.max(after, searchedDownTo - historyScanWindow)
    const seqs = store.seqsAfter(from, {...storeFilter, before: searchedDownTo + 1, limit: limit - foundCount})
    if (seqs.length > 0) found.push(seqs)
    foundCount += seqs.length
    searchedDownTo = from
  }

  const read = (seqs: readonly number[]): StreamEvent[] => {
    // The slice's seqs bound the query: the events between them that match are exactly these.
    const stored = store.eventsAfter(seqs[0] - 1, {...storeFilter, before: seqs[seqs.length - 1] + 1, limit: seqs.length})
    return withDeliveryState(stored, store, deliveries, destinations)
  }

  return {
    next(most) {
      if (!toSend) {
        if (foundCount < limit && searchedDownTo > after) {
          search()
          return []
        }
        toSend = found.reverse().flat()
        found.length = 0
      }
      if (sentCount >= toSend.length) return undefined
      const slice = toSend.slice(sentCount, sentCount + Math.max(1, most))
      sentCount += slice.length
      return read(slice)
    },
  }
}

/** Stored events as the stream sends them: with their violations and each destination's state now. */
function withDeliveryState(
  stored: readonly StoredEvent[],
  store: Pick<EventStore, 'violationsOf'>,
  deliveries: Pick<DeliveryStore, 'recordsOf' | 'destinationState'>,
  destinations: readonly DestinationConfig[],
): StreamEvent[] {
  if (stored.length === 0) return []
  const seqs = stored.map((event) => event.seq)
  const violations = store.violationsOf(seqs)
  const records = new Map(deliveries.recordsOf(seqs).map((record) => [`${record.seq} ${record.destination}`, record]))
  const active = destinations
    .filter((d) => d.enabled !== false)
    .map((config) => ({config, takes: destinationMatch.matcher(config), state: deliveries.destinationState(config.name) ?? {cursor: 0, firstSeq: 0}}))
  return stored.map(({seq, source, message, valid, policy}): StreamEvent => {
    const name = (message.type === 'track' ? message.event : message.name) ?? null
    const marks: DeliveryMark[] = []
    for (const {config, takes, state} of active) {
      if (seq <= state.firstSeq || !takes({type: message.type, event: name, source, policy})) continue
      const cursor = state.cursor
      const record = records.get(`${seq} ${config.name}`)
      if (record) marks.push({destination: config.name, status: record.status, attempts: record.attempts})
      else marks.push({destination: config.name, status: seq <= cursor ? 'delivered' : 'pending', attempts: seq <= cursor ? 1 : 0})
    }
    return {
      kind: 'event',
      seq,
      source,
      messageId: message.messageId,
      type: message.type,
      name: name as string | null,
      userId: message.userId ?? null,
      anonymousId: message.anonymousId ?? null,
      timestamp: message.timestamp,
      receivedAt: message.receivedAt,
      valid,
      policy,
      violations: violations.get(seq) ?? [],
      message,
      deliveries: marks,
    }
  })
}
