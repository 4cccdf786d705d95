import chalk from 'chalk'
import type {ViolationRow} from '../services/views.js'
import {formatTable, type TableColumn} from './table.js'

// Every cell is escaped by the table, the ones that join several values included.
const columns: TableColumn<ViolationRow>[] = [
  {cell: (v) => ({text: v.receivedAt, style: chalk.dim})},
  {width: 19, cell: (v) => ({text: v.kind, style: chalk.red})},
  {width: 24, cell: (v) => ({text: v.event, style: chalk.bold})},
  {cell: (v) => `${v.path}: ${v.message}`},
  {cell: (v) => ({text: `expected ${v.expected}, got ${v.actual} (message ${v.messageId})`, style: chalk.dim})},
]

export function renderViolationsTable(violations: readonly ViolationRow[]): string {
  if (violations.length === 0) return chalk.dim('No violations match.')
  return [...formatTable(columns, violations), chalk.dim(`${violations.length} violation${violations.length === 1 ? '' : 's'}`)].join('\n')
}
