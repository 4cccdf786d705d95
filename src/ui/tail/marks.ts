import type {FunctionRunRecord} from '../../functions/types.js'
import type {DeliveryStatus} from '../../store/types.js'
import type {StreamEvent} from '../../stream/types.js'
import type {Segment} from './segments.js'

/**
 * The marks of the list. Each differs in its glyph as well as its colour, so they still read on a
 * terminal without colour (NO_COLOR, a screen reader, a log).
 */

/** The plan column, as `cdp events` has it: ✓ valid, ✗N violations, BLK quarantined, OMIT values removed, · no plan. */
export function planMark(event: StreamEvent): Segment {
  if (event.policy === 'blocked') return {text: 'BLK', color: 'red', bold: true}
  if (event.policy === 'omitted') return {text: 'OMIT', color: 'yellow'}
  if (event.valid === null) return {text: '·', dim: true}
  if (event.valid && event.violations.length === 0) return {text: '✓', color: 'green'}
  return {text: event.violations.length > 0 ? `✗${event.violations.length}` : '✗', color: 'red', bold: true}
}

/** The plan outcome in words, for the detail. */
export function planSentence(event: StreamEvent): Segment {
  const count = event.violations.length
  const violations = `${count} violation${count === 1 ? '' : 's'}`
  if (event.policy === 'blocked') return {text: `BLK blocked by the plan (${violations}): quarantined, not delivered`, color: 'red', bold: true}
  if (event.policy === 'omitted') return {text: `OMIT offending values removed (${violations})`, color: 'yellow'}
  if (event.valid === null) return {text: '· no tracking plan applies to this source', dim: true}
  if (event.valid && count === 0) return {text: '✓ follows the plan', color: 'green'}
  return {text: `✗ ${violations}`, color: 'red', bold: true}
}

const deliveryMarks: Record<DeliveryStatus, Segment> = {
  delivered: {text: '✓', color: 'green'},
  pending: {text: '…', color: 'cyan'},
  retrying: {text: '↻', color: 'yellow', bold: true},
  dead: {text: '✗', color: 'red', bold: true},
}

/** One destination's mark: ✓ delivered, … pending, ↻ retrying, ✗ dead. */
export function deliveryMark(status: DeliveryStatus): Segment {
  return deliveryMarks[status]
}

/**
 * What the functions that ran on an event did, in one mark: ✗ one failed, ∅ one dropped it
 * (here or for one destination), ƒ one changed it; nothing when they passed it on unchanged or
 * none ran. The worst wins.
 */
export function functionMark(runs: readonly FunctionRunRecord[]): Segment | undefined {
  if (runs.length === 0) return undefined
  if (runs.some((run) => run.result === 'error')) return {text: '✗', color: 'red', bold: true}
  if (runs.some((run) => run.result === 'dropped')) return {text: '∅', color: 'yellow', bold: true}
  if (runs.some((run) => run.result === 'changed')) return {text: 'ƒ', color: 'cyan'}
  return undefined
}

const functionResultMarks: Record<FunctionRunRecord['result'], Segment> = {
  changed: {text: 'ƒ', color: 'cyan'},
  unchanged: {text: '=', dim: true},
  delivered: {text: '✓', color: 'green'},
  emitted: {text: '✓', color: 'green'},
  dropped: {text: '∅', color: 'yellow', bold: true},
  error: {text: '✗', color: 'red', bold: true},
}

/** One function run's mark in the detail: ƒ changed, = unchanged, ✓ delivered or emitted, ∅ dropped, ✗ error. */
export function functionResultMark(result: FunctionRunRecord['result']): Segment {
  return functionResultMarks[result]
}
