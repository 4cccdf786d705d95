import type {ProtocolsSettings} from '../config/schema.js'
import type {Violation} from '../plan/violations.js'
import type {SegmentMessage} from '../message/types.js'

export type PolicyOutcome = 'blocked' | 'omitted' | null

/** Kinds whose offending value can be dropped; a missing value or an unplanned event cannot. */
const omittable = new Set(['wrong_type', 'unexpected_property', 'enum_mismatch', 'pattern_mismatch', 'format_mismatch', 'constraint', 'invalid_traits'])

/** One step of a path through a message: an object's own key, or an array's index. */
type Step = {key: string; index?: undefined} | {key?: undefined; index: number}

/**
 * The steps through `root` that a violation's dotted path names ("properties.products[0].price"),
 * or undefined when no value is there. Dotted paths are ambiguous (a key may hold "." or "[",
 * and a key "0" prints as "[0]"), so the path is matched against the message's own keys rather
 * than split: only values the message really has can be reached, never Object.prototype through
 * a key named "__proto__" or "constructor". Iterative, and each (value, position) is tried once.
 */
export function stepsTo(root: unknown, path: string): Step[] | undefined {
  const tried = new Map<object, Set<number>>()
  const stack: {node: unknown; at: number; steps: Step[]}[] = [{node: root, at: 0, steps: []}]
  while (stack.length > 0) {
    const {node, at, steps} = stack.pop() as {node: unknown; at: number; steps: Step[]}
    if (at === path.length) return steps
    if (node === null || typeof node !== 'object') continue
    let positions = tried.get(node)
    if (!positions) tried.set(node, (positions = new Set()))
    if (positions.has(at)) continue
    positions.add(at)
    if (Array.isArray(node)) {
      const index = /^\[(\d+)\]/.exec(path.slice(at, at + 24))
      if (index && Number(index[1]) < node.length) stack.push({node: node[Number(index[1])], at: at + index[0].length, steps: [...steps, {index: Number(index[1])}]})
      continue
    }
    for (const key of Object.keys(node)) {
      const token = /^\d+$/.test(key) ? `[${key}]` : at === 0 ? key : `.${key}`
      if (path.startsWith(token, at)) stack.push({node: (node as Record<string, unknown>)[key], at: at + token.length, steps: [...steps, {key}]})
    }
  }
  return undefined
}

/**
 * A copy of the message without the values at the violations' paths. Array elements are never
 * removed (that would shift the others): the nearest object key above them goes instead.
 */
export function omitViolations(message: SegmentMessage, violations: readonly Violation[]): SegmentMessage {
  const copy = structuredClone(message)
  for (const violation of violations) {
    if (!omittable.has(violation.kind)) continue
    const steps = stepsTo(copy, violation.path)
    if (!steps) continue
    while (steps.length > 0 && steps[steps.length - 1].index !== undefined) steps.pop()
    // Never drop a whole top-level part (properties, traits, context): only values inside it.
    if (steps.length < 2) continue
    let parent: unknown = copy
    for (const step of steps.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[step.key ?? (step.index as number)]
    delete (parent as Record<string, unknown>)[steps[steps.length - 1].key as string]
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
