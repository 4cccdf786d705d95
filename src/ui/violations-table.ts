import chalk from 'chalk'
import type {StoredViolation} from '../store/types.js'
import {printable} from '../printable.js'

export function renderViolationsTable(violations: readonly StoredViolation[]): string {
  if (violations.length === 0) return chalk.dim('No violations match.')
  const lines = violations.map((v) =>
    [
      chalk.dim(printable(v.receivedAt)),
      chalk.red(v.kind.padEnd(19)),
      chalk.bold(printable(v.event ?? v.type).padEnd(24)),
      `${printable(v.path)}: ${printable(v.message)}`,
      chalk.dim(`expected ${printable(v.expected)}, got ${printable(v.actual)} (message ${printable(v.messageId)})`),
    ].join(' '),
  )
  return [...lines, chalk.dim(`${violations.length} violation${violations.length === 1 ? '' : 's'}`)].join('\n')
}
