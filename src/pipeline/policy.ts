import type {ProtocolsSettings} from '../config/schema.js'
import type {Violation} from '../plan/violations.js'
import type {SegmentMessage} from '../spec/types.js'

export type PolicyOutcome = 'blocked' | 'omitted' | null

/** Kinds whose offending value can be dropped; a missing value or an unplanned event cannot. */
const omittable = new Set(['wrong_type', 'unexpected_property', 'enum_mismatch', 'pattern_mismatch', 'format_mismatch', 'constraint', 'invalid_traits'])

/** "properties.products[0].price" → ["properties", "products", 0, "price"] */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = []
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(match[2] !== undefined ? Number(match[2]) : match[1])
  return out
}

/**
 * A copy of the message without the values at the violations' paths. Array elements are never
 * removed (that would shift the others): the nearest object key above them goes instead.
 */
export function omitViolations(message: SegmentMessage, violations: readonly Violation[]): SegmentMessage {
  const copy = structuredClone(message)
  for (const violation of violations) {
    if (!omittable.has(violation.kind)) continue
    const path = segments(violation.path)
    while (path.length > 0 && typeof path[path.length - 1] === 'number') path.pop()
    // Never drop a whole top-level part (properties, traits, context): only values inside it.
    if (path.length < 2) continue
    let parent: unknown = copy
    for (const segment of path.slice(0, -1)) parent = parent == null ? undefined : (parent as Record<string | number, unknown>)[segment]
    if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[path[path.length - 1] as string]
  }
  return copy
}

/** What the source's Protocols settings do with a message and its violations. */
export function applyPolicy(
  message: SegmentMessage,
  violations: readonly Violation[],
  settings: ProtocolsSettings | undefined,
): {outcome: PolicyOutcome; message: SegmentMessage} {
  if (violations.length === 0 || !settings) return {outcome: null, message}
  const unplanned = violations.some((v) => v.kind === 'unplanned_event')
  if (unplanned) return {outcome: settings.unplanned === 'block' ? 'blocked' : null, message}
  if (settings.violations === 'block') return {outcome: 'blocked', message}
  if (settings.violations === 'omit-properties') return {outcome: 'omitted', message: omitViolations(message, violations)}
  return {outcome: null, message}
}

export const violationEventName = 'Violation Generated'
export const violationUserId = 'schema-violations'

/**
 * Segment Protocols' "Violation Generated" track events, one per violation. Their messageIds
 * derive from the offending message's, so a retried message does not add them twice.
 */
export function violationEvents(message: SegmentMessage, violations: readonly Violation[]): SegmentMessage[] {
  return violations.map((violation, index) => ({
    type: 'track',
    event: violationEventName,
    userId: violationUserId,
    messageId: `${message.messageId}:violation:${index}`.slice(0, 100),
    properties: {
      violationType: violation.kind,
      violationField: violation.path,
      violationDescription: violation.message,
      expected: violation.expected,
      actual: violation.actual,
      eventName: message.type === 'track' ? message.event : message.type,
      eventType: message.type,
      messageId: message.messageId,
    },
    context: {protocols: {violation: true}},
    integrations: {},
    timestamp: message.receivedAt,
    receivedAt: message.receivedAt,
  }))
}
