import type {FunctionRunRecord} from '../../functions/types.js'
import type {Violation} from '../../plan/violations.js'
import {formatMs} from '../fn-logs.js'
import {nameOf, userOf} from './list-lines.js'
import {deliveryMark, functionResultMark, planSentence} from './marks.js'
import type {DeliveryState, TailRow} from './model.js'
import type {Line, Segment} from './segments.js'
import {displayWidth, fit, formatTime} from './text.js'

/**
 * The detail of one event as lines: what it is, how it broke the plan, where it stands at each
 * destination, then the payload. Lines are never wrapped, so their count does not depend on the
 * width and scrolling stays simple.
 */

const label = (text: string): Segment => ({text: `${text} `, dim: true})
const gap: Segment = {text: '   '}

function violationLines(violations: readonly Violation[]): Line[] {
  const lines: Line[] = [[{text: `Violations (${violations.length})`, bold: true}]]
  for (const violation of violations) {
    lines.push(
      [{text: '  ✗ ', color: 'red', bold: true}, {text: violation.path === '' ? '(the message)' : violation.path, color: 'magenta', bold: true}, {text: `  ${violation.kind}`, dim: true}],
      [{text: '      expected '}, {text: violation.expected, color: 'green'}, {text: '   actual '}, {text: violation.actual, color: 'red', bold: true}],
      [{text: `      ${violation.message}`, dim: true}],
    )
  }
  return lines
}

function deliveryLine(state: DeliveryState, nameWidth: number): Line {
  const mark = deliveryMark(state.status)
  const line: Segment[] = [
    {text: '  '},
    mark,
    {text: ' '},
    {text: fit(state.destination, nameWidth), bold: true},
    {text: '  '},
    {...mark, text: fit(state.status, 9)},
    {text: `  ${state.attempts} attempt${state.attempts === 1 ? '' : 's'}`},
  ]
  if (state.httpStatus !== undefined) line.push({text: `  HTTP ${state.httpStatus}`, dim: true})
  if (state.nextAttemptAt !== undefined) line.push({text: `  next at ${formatTime(new Date(state.nextAttemptAt).toISOString())}`, color: 'yellow'})
  return line
}

function deliveryLines(deliveries: ReadonlyMap<string, DeliveryState>): Line[] {
  const lines: Line[] = [[{text: 'Deliveries', bold: true}]]
  if (deliveries.size === 0) return [...lines, [{text: '  none yet: no destination has taken this event', dim: true}]]
  const nameWidth = Math.min(24, Math.max(...[...deliveries.keys()].map(displayWidth)))
  for (const state of deliveries.values()) {
    lines.push(deliveryLine(state, nameWidth))
    if (state.lastError !== undefined) lines.push([{text: '      last error ', dim: true}, {text: state.lastError, color: 'red'}])
  }
  return lines
}

const consoleColors: Record<FunctionRunRecord['console'][number]['level'], Segment['color']> = {log: undefined, info: 'cyan', debug: undefined, warn: 'yellow', error: 'red'}

/** Each function that ran on the event: where, what it did (the error or the drop's reason), how long, then its console lines. */
function functionLines(runs: readonly FunctionRunRecord[]): Line[] {
  const lines: Line[] = [[{text: `Functions (${runs.length})`, bold: true}]]
  const nameWidth = Math.min(24, Math.max(...runs.map((run) => displayWidth(run.function))))
  for (const run of runs) {
    const mark = functionResultMark(run.result)
    const line: Segment[] = [
      {text: '  '},
      mark,
      {text: ' '},
      {text: fit(run.function, nameWidth), bold: true},
      {text: '  '},
      {text: `${run.stage} `, dim: true},
      {text: run.target, color: 'magenta'},
      {text: '  '},
      {...mark, text: run.result},
    ]
    if (run.result === 'error') line.push({text: `  ${run.errorClass ?? 'Error'}${run.message ? `: ${run.message}` : ''}`, color: 'red'})
    else if (run.message) line.push({text: `  ${run.message}`, color: run.result === 'dropped' ? 'yellow' : undefined})
    line.push({text: `  ${formatMs(run.ms)}`, dim: true})
    lines.push(line)
    for (const consoleLine of run.console) {
      lines.push([{text: `      ${consoleLine.level.padEnd(5)} `, color: consoleColors[consoleLine.level], dim: consoleLine.level === 'debug' || consoleLine.level === 'log'}, {text: consoleLine.message}])
    }
  }
  return lines
}

// One line of JSON.stringify(value, null, 2): indent, an optional "key": , a value or bracket, an optional comma.
const jsonLinePattern = /^(\s*)("(?:[^"\\]|\\.)*"\s*:\s)?(.*?)(,?)$/

function jsonValue(text: string): Segment {
  if (text.startsWith('"')) return {text, color: 'green'}
  if (/^-?\d/.test(text)) return {text, color: 'yellow'}
  if (text === 'true' || text === 'false') return {text, color: 'magenta'}
  if (text === 'null') return {text, dim: true}
  return {text}
}

/** Pretty JSON with keys, strings, numbers and literals told apart by colour. */
export function jsonLines(value: unknown): Line[] {
  const text = JSON.stringify(value, null, 2) ?? 'undefined'
  return text.split('\n').map((raw) => {
    const match = jsonLinePattern.exec(raw)
    if (match === null) return [{text: raw}]
    const [, indent, key, rest, comma] = match
    const line: Segment[] = [{text: indent}]
    if (key !== undefined) {
      const colon = key.lastIndexOf(':')
      line.push({text: key.slice(0, colon), color: 'cyan'}, {text: key.slice(colon)})
    }
    line.push(jsonValue(rest), {text: comma})
    return line
  })
}

export function detailLines(row: TailRow): Line[] {
  const {event} = row
  const lines: Line[] = [
    [{text: event.type, color: 'cyan', bold: true}, {text: '  '}, {text: nameOf(event), bold: true}],
    [label('message id'), {text: event.messageId}, gap, label('seq'), {text: String(event.seq)}],
    [label('source'), {text: event.source, color: 'magenta'}, gap, label('user'), {text: userOf(event) || '(none)'}],
    [label('received'), {text: event.receivedAt}, gap, label('timestamp'), {text: event.timestamp}],
    [label('plan'), planSentence(event)],
    [],
  ]
  if (event.violations.length > 0) lines.push(...violationLines(event.violations), [])
  if (row.functions.length > 0) lines.push(...functionLines(row.functions), [])
  lines.push(...deliveryLines(row.deliveries), [], [{text: 'Payload', bold: true}], ...jsonLines(event.message))
  return lines
}
