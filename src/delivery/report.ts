import type {DestinationConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import type {FunctionRunCount, FunctionRunStage, FunctionRunStore} from '../store/function-runs.js'
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

/** How one function's runs at one place ended, since the store was created. */
export interface FunctionReport {
  function: string
  /** Where it ran: on a source's events before storage, on a destination's, or as a source function's request. */
  stage: FunctionRunStage
  /** The source or destination. */
  target: string
  changed: number
  unchanged: number
  dropped: number
  error: number
  delivered: number
  emitted: number
}

export interface DeliveriesReport {
  destinations: DestinationReport[]
  /** Delivery records: retrying and dead-lettered ones, or those of the status asked for. */
  records: DeliveryRecord[]
  /** Runs of user functions by result, when any ran (with --destination, only those on that destination). */
  functions?: FunctionReport[]
}

const functionResults: readonly string[] = ['changed', 'unchanged', 'dropped', 'error', 'delivered', 'emitted'] satisfies FunctionRunCount['result'][]

/** The counts of function runs, one report per function and place, in the store's order; with a destination, only that destination's. */
export function functionReports(counts: readonly FunctionRunCount[], destination?: string): FunctionReport[] {
  const reports = new Map<string, FunctionReport>()
  for (const count of counts) {
    if (destination !== undefined && (count.stage !== 'destination' || count.target !== destination)) continue
    const key = `${count.function}\u0000${count.stage}\u0000${count.target}`
    let report = reports.get(key)
    if (!report) {
      report = {function: count.function, stage: count.stage, target: count.target, changed: 0, unchanged: 0, dropped: 0, error: 0, delivered: 0, emitted: 0}
      reports.set(key, report)
    }
    // A result this version does not know (a newer daemon's) is left out rather than misfiled.
    if (functionResults.includes(count.result)) report[count.result] += count.count
  }
  return [...reports.values()]
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
export async function deliveryReport(
  store: DeliveryStore,
  destinations: readonly DestinationConfig[],
  query: DeliveryQuery,
  functionRuns?: Pick<FunctionRunStore, 'counts'>,
): Promise<DeliveriesReport> {
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
  const functions = functionRuns ? functionReports(await functionRuns.counts(), query.destination) : []
  return functions.length > 0 ? {destinations: reports, records, functions} : {destinations: reports, records}
}

