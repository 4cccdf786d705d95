import type {DestinationConfig} from '../config/schema.js'
import {destinationTakes} from '../delivery/filter.js'
import type {DeliveryStore, EventStore} from '../store/types.js'
import type {DeliveryMark, StreamEvent, StreamFilter} from './types.js'

/**
 * The stored events a reader sees before the live ones: the newest `limit` after `after` that
 * match its filter, each with its violations and where it stands at each destination.
 */
export function historyEvents(
  store: Pick<EventStore, 'eventsAfter' | 'violationsOf'>,
  deliveries: Pick<DeliveryStore, 'recordsOf' | 'destinationState'>,
  destinations: readonly DestinationConfig[],
  filter: StreamFilter,
  options: {limit: number; after: number},
): StreamEvent[] {
  if (options.limit <= 0) return []
  const stored = store.eventsAfter(options.after, {
    type: filter.type,
    event: filter.event,
    source: filter.source,
    user: filter.user,
    valid: filter.violations ? false : undefined,
    limit: options.limit,
  })
  const seqs = stored.map((event) => event.seq)
  const violations = store.violationsOf(seqs)
  const records = new Map(deliveries.recordsOf(seqs).map((record) => [`${record.seq} ${record.destination}`, record]))
  const active = destinations
    .filter((d) => d.enabled !== false)
    .map((config) => ({config, state: deliveries.destinationState(config.name) ?? {cursor: 0, firstSeq: 0}}))
  return stored.map(({seq, source, message, valid, policy}): StreamEvent => {
    const name = (message.type === 'track' ? message.event : message.name) ?? null
    const marks: DeliveryMark[] = []
    for (const {config, state} of active) {
      if (seq <= state.firstSeq || !destinationTakes(config, {type: message.type, name, source, policy})) continue
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
