import chalk from 'chalk'
import type {EventRow, PlanMark} from '../services/views.js'
import {formatTable, type Cell, type TableColumn} from './table.js'

// ok: follows the plan; BAD: has violations (cdp violations); BLK: quarantined; OMIT: values removed; -: no plan applies.
const planCells: Record<PlanMark, Cell> = {
  blocked: {text: 'BLK', style: chalk.red},
  omitted: {text: 'OMIT', style: chalk.yellow},
  'no-plan': {text: '-', style: chalk.dim},
  follows: {text: 'ok', style: chalk.green},
  breaks: {text: 'BAD', style: chalk.red},
}

const columns: TableColumn<EventRow>[] = [
  {header: 'TIMESTAMP', width: 24, cut: true, cell: (row) => ({text: row.timestamp, style: chalk.dim})},
  {header: 'PLAN', width: 4, cell: (row) => planCells[row.plan]},
  {header: 'TYPE', width: 8, cut: true, cell: (row) => ({text: row.type, style: chalk.cyan})},
  {header: 'EVENT / NAME', width: 28, cut: true, cell: (row) => row.name},
  {header: 'USER', width: 24, cut: true, cell: (row) => row.userId ?? (row.anonymousId ? `anon:${row.anonymousId}` : '')},
  {header: 'SOURCE', width: 12, cut: true, cell: (row) => row.source},
  {header: 'MESSAGE ID', cell: (row) => ({text: row.messageId, style: chalk.dim})},
]

/** A readable table of stored events, oldest first; one line each. */
export function renderEventsTable(events: readonly EventRow[]): string {
  if (events.length === 0) return chalk.dim('No events match. Send some to cdp dev, or widen the filters.')
  return [...formatTable(columns, events, {headerStyle: chalk.bold}), chalk.dim(`${events.length} event${events.length === 1 ? '' : 's'}`)].join('\n')
}
