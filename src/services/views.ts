import type {DeliveriesReport, DestinationReport, FunctionReport} from '../delivery/report.js'
import type {SegmentMessage} from '../message/types.js'
import type {ViolationKind} from '../plan/violations.js'
import type {DeliveryRecord, DeliveryStatus, StoredEvent, StoredViolation} from '../store/types.js'

/**
 * What the tables of `cdp events`, `cdp violations` and `cdp deliveries` show, built here from
 * what the store answers: src/ui renders these and never sees a store's rows, so a store can
 * change its rows without touching the output for people.
 */

/** How an event stands against its source's tracking plan. */
export type PlanMark = 'follows' | 'breaks' | 'blocked' | 'omitted' | 'no-plan'

/** One line of `cdp events`. */
export interface EventRow {
  timestamp: string
  plan: PlanMark
  type: string
  /** The track's event, the page or screen name, or what a group or alias call names. */
  name: string
  userId: string | null
  anonymousId: string | null
  source: string
  messageId: string
}

function nameOf(message: SegmentMessage): string {
  switch (message.type) {
    case 'track':
      return String(message.event ?? '')
    case 'page':
    case 'screen':
      return String(message.name ?? message.properties?.name ?? '')
    case 'group':
      return `group ${message.groupId ?? ''}`
    case 'alias':
      return `from ${message.previousId ?? ''}`
    default:
      return ''
  }
}

function planMark({valid, policy}: StoredEvent): PlanMark {
  if (policy === 'blocked') return 'blocked'
  if (policy === 'omitted') return 'omitted'
  return valid === null ? 'no-plan' : valid ? 'follows' : 'breaks'
}

export function eventRow(stored: StoredEvent): EventRow {
  const {message} = stored
  return {
    timestamp: message.timestamp,
    plan: planMark(stored),
    type: message.type,
    name: nameOf(message),
    userId: message.userId ? String(message.userId) : null,
    anonymousId: message.anonymousId ? String(message.anonymousId) : null,
    source: stored.source,
    messageId: message.messageId,
  }
}

/** One line of `cdp violations`. */
export interface ViolationRow {
  receivedAt: string
  kind: ViolationKind
  /** The track's event name, or the message type. */
  event: string
  path: string
  message: string
  expected: string
  actual: string
  messageId: string
}

export function violationRow(violation: StoredViolation): ViolationRow {
  return {
    receivedAt: violation.receivedAt,
    kind: violation.kind,
    event: violation.event ?? violation.type,
    path: violation.path,
    message: violation.message,
    expected: violation.expected,
    actual: violation.actual,
    messageId: violation.messageId,
  }
}

/** One failed (or asked-for) delivery of `cdp deliveries`. */
export interface DeliveryRecordRow {
  id: number
  destination: string
  status: DeliveryStatus
  /** The track's event name, or the message type. */
  event: string
  messageId: string
  attempts: number
  /** The last failed attempt's HTTP status, if it got one, and error. */
  lastStatus: number | null
  lastError: string | null
  /** Epoch ms of the next attempt when retrying; 0 when none is planned. */
  nextAttemptAt: number
}

export function deliveryRecordRow(record: DeliveryRecord): DeliveryRecordRow {
  return {
    id: record.id,
    destination: record.destination,
    status: record.status,
    event: record.event ?? record.type,
    messageId: record.messageId,
    attempts: record.attempts,
    lastStatus: record.lastStatus,
    lastError: record.lastError,
    nextAttemptAt: record.nextAttemptAt,
  }
}

/** `cdp deliveries`: one line per destination, then the records. */
export interface DeliveriesView {
  destinations: DestinationReport[]
  records: DeliveryRecordRow[]
  /** Runs of user functions by result; empty when none ran. */
  functions: FunctionReport[]
}

export function deliveriesView(report: DeliveriesReport): DeliveriesView {
  return {destinations: report.destinations, records: report.records.map(deliveryRecordRow), functions: report.functions ?? []}
}
