import chalk from 'chalk'
import type {StoredViolation} from '../store/types.js'

export function renderViolationsTable(violations: readonly StoredViolation[]): string {
  if (violations.length === 0) return chalk.dim('No violations match.')
  const lines = violations.map((v) =>
    [
      chalk.dim(v.receivedAt),
      chalk.red(v.kind.padEnd(19)),
      chalk.bold((v.event ?? v.type).padEnd(24)),
      `${v.path}: ${v.message}`,
      chalk.dim(`expected ${v.expected}, got ${v.actual} (message ${v.messageId})`),
    ].join(' '),
  )
  return [...lines, chalk.dim(`${violations.length} violation${violations.length === 1 ? '' : 's'}`)].join('\n')
}
