import type {StreamEvent} from '../../stream/types.js'
import {deliveryMark, functionMark, planMark} from './marks.js'
import type {TailRow} from './model.js'
import type {Line, Segment} from './segments.js'
import {displayWidth, fit, formatTime} from './text.js'

/**
 * The list's columns at a given width. Time, plan, type and the delivery marks keep their width;
 * name, user and source share the rest, and the message id joins them on wide terminals.
 */
export interface ListColumns {
  time: number
  plan: number
  type: number
  name: number
  user: number
  source: number
  /** 0 when the terminal is too narrow to show it. */
  messageId: number
  /** The function marks' column (FN): 0 until a function record was seen. */
  functions: number
  /** One column per destination, headed by its label; a mark under each. */
  destinationLabels: readonly string[]
}

/** "› " before the selected row, so the selection shows without colour or inverse too. */
const gutter = 2
const messageIdFrom = 150
const wideFrom = 120

/**
 * Labels for the destination columns: the shortest prefix no other destination shares (webhook and
 * warehouse become "we" and "wa"), at most 4 columns; wide terminals spell out up to 10.
 */
export function destinationLabels(names: readonly string[], wide: boolean): string[] {
  return names.map((name) => {
    const chars = Array.from(name)
    let length = 1
    while (length < chars.length && names.some((other) => other !== name && other.startsWith(chars.slice(0, length).join('')))) length++
    const shown = wide ? Math.max(length, Math.min(chars.length, 10)) : Math.min(length, 4)
    return chars.slice(0, shown).join('')
  })
}

export function listColumns(width: number, destinations: readonly string[], functions = false): ListColumns {
  const time = 12
  const plan = 4
  const type = 8
  const labels = destinationLabels(destinations, width >= wideFrom)
  const deliveries = labels.length === 0 ? 0 : labels.reduce((sum, label) => sum + displayWidth(label), labels.length - 1)
  const messageId = width >= messageIdFrom ? 36 : 0
  const fn = functions ? 2 : 0
  const fixed = gutter + time + 1 + plan + 1 + (fn > 0 ? fn + 1 : 0) + type + 1 + (messageId > 0 ? messageId + 1 : 0) + (deliveries > 0 ? deliveries + 1 : 0)
  const flexible = Math.max(3, width - fixed - 2)
  const source = Math.max(1, Math.min(20, Math.round(flexible * 0.2)))
  const user = Math.max(1, Math.min(40, Math.round(flexible * 0.33)))
  const name = Math.max(1, flexible - source - user)
  return {time, plan, type, name, user, source, messageId, functions: fn, destinationLabels: labels}
}

/** What the name column says: the event or page name, or what identifies a group or alias. */
export function nameOf(event: StreamEvent): string {
  if (event.name !== null && event.name !== '') return event.name
  if (event.type === 'group') return `group ${String(event.message.groupId ?? '')}`
  if (event.type === 'alias') return `from ${String(event.message.previousId ?? '')}`
  return ''
}

/** The user column: userId, or the anonymousId marked as such (as `cdp events` shows it). */
export function userOf(event: StreamEvent): string {
  if (event.userId) return event.userId
  if (event.anonymousId) return `anon:${event.anonymousId}`
  return ''
}

const space: Segment = {text: ' '}

function deliveryCells(row: TailRow, destinations: readonly string[], labels: readonly string[]): Segment[] {
  const cells: Segment[] = []
  destinations.forEach((destination, index) => {
    if (index > 0) cells.push(space)
    const state = row.deliveries.get(destination)
    // No mark: the destination has not taken this event (yet, or its filter left it out).
    const mark = state === undefined ? space : deliveryMark(state.status)
    cells.push({...mark, text: fit(mark.text, displayWidth(labels[index]))})
  })
  return cells
}

export function listHeader(columns: ListColumns): Line {
  const parts = [
    ' '.repeat(gutter) + fit('TIME', columns.time),
    fit('PLAN', columns.plan),
    ...(columns.functions > 0 ? [fit('FN', columns.functions)] : []),
    fit('TYPE', columns.type),
    fit('EVENT / NAME', columns.name),
    fit('USER', columns.user),
    fit('SOURCE', columns.source),
  ]
  if (columns.messageId > 0) parts.push(fit('MESSAGE ID', columns.messageId))
  // Each destination's label stands above its column of marks; the detail names them in full.
  if (columns.destinationLabels.length > 0) parts.push(columns.destinationLabels.join(' '))
  return [{text: parts.join(' '), bold: true}]
}

export function listRow(row: TailRow, columns: ListColumns, destinations: readonly string[], selected: boolean): Line {
  const {event} = row
  const mark = planMark(event)
  const line: Segment[] = [
    {text: selected ? '› ' : '  ', bold: true},
    {text: fit(formatTime(event.receivedAt), columns.time), dim: true},
    space,
    {...mark, text: fit(mark.text, columns.plan)},
    space,
  ]
  if (columns.functions > 0) {
    const fn = functionMark(row.functions) ?? space
    line.push({...fn, text: fit(fn.text, columns.functions)}, space)
  }
  line.push(
    {text: fit(event.type, columns.type), color: 'cyan'},
    space,
    {text: fit(nameOf(event), columns.name), bold: event.type === 'track'},
    space,
    {text: fit(userOf(event), columns.user), dim: !event.userId},
    space,
    {text: fit(event.source, columns.source), color: 'magenta'},
  )
  if (columns.messageId > 0) line.push(space, {text: fit(event.messageId, columns.messageId), dim: true})
  if (columns.destinationLabels.length > 0) line.push(space, ...deliveryCells(row, destinations, columns.destinationLabels))
  return line
}
