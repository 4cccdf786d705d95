import type {DestinationConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import type {DeliveryQuery, DeliveryRecord, DeliveryStatus, DeliveryStore} from '../store/types.js'
import {LatencyHistogram} from './latency.js'

export interface DestinationReport {
  name: string
  type: string
  enabled: boolean
  delivered: number
  pending: number
  /** The backlog was counted only up to `pending`: there are at least that many. */
  pendingCapped: boolean
  retrying: number
  dead: number
  /** Attempts that failed, each event counted once per attempt. */
  failedAttempts: number
  /** delivered ÷ (delivered + dead); null before any event reached either. */
  successRate: number | null
  /** From receipt to delivery, within 10%; null before the first delivery. */
  latencyMs: {p50: number; p99: number} | null
  lastDeliveredAt: string | null
}

export interface DeliveriesReport {
  destinations: DestinationReport[]
  /** Delivery records: retrying and dead-lettered ones, or those of the status asked for. */
  records: DeliveryRecord[]
}

/** Refuses a destination name cdp.json does not have, listing the ones it has. */
export function checkDestinationName(destinations: readonly DestinationConfig[], name: string | undefined): void {
  if (name === undefined || destinations.some((d) => d.name === name)) return
  throw new UserError(`No destination named "${name}".`, {
    hint: destinations.length > 0 ? `cdp.json has: ${destinations.map((d) => d.name).join(', ')}.` : 'cdp.json has no destinations; add one to "destinations".',
    code: 'unknown_destination',
  })
}

/** Where delivery stands, per destination, with the records of events that failed. */
export async function deliveryReport(store: DeliveryStore, destinations: readonly DestinationConfig[], query: DeliveryQuery): Promise<DeliveriesReport> {
  checkDestinationName(destinations, query.destination)
  const chosen = destinations.filter((d) => query.destination === undefined || d.name === query.destination)
  const reports: DestinationReport[] = []
  for (const config of chosen) {
    const state = store.destinationState(config.name)
    const counts = state
      ? await store.countDeliveries(config.name, state.cursor, {types: config.types, events: config.events, sources: config.sources})
      : {pending: 0, pendingCapped: false, retrying: 0, dead: 0}
    const histogram = new LatencyHistogram(state?.latency)
    const delivered = state?.delivered ?? 0
    const settled = delivered + counts.dead
    reports.push({
      name: config.name,
      type: config.type,
      enabled: config.enabled !== false,
      delivered,
      ...counts,
      failedAttempts: state?.failedAttempts ?? 0,
      successRate: settled === 0 ? null : delivered / settled,
      latencyMs: histogram.count === 0 ? null : {p50: histogram.quantile(0.5) as number, p99: histogram.quantile(0.99) as number},
      lastDeliveredAt: state?.lastDeliveredAt ?? null,
    })
  }
  const statuses: (DeliveryStatus | undefined)[] = query.status ? [query.status] : ['retrying', 'dead']
  const records: DeliveryRecord[] = []
  for (const status of statuses) {
    for (const config of chosen) records.push(...(await store.queryDeliveries({destination: config.name, status, limit: query.limit})))
  }
  records.sort((a, b) => a.id - b.id)
  records.splice(0, Math.max(0, records.length - query.limit))
  return {destinations: reports, records}
}

