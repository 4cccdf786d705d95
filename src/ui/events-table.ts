import chalk from 'chalk'
import type {StoredEvent} from '../store/types.js'
import {printable} from '../printable.js'

function truncate(value: string, width: number): string {
  const text = printable(value)
  return text.length <= width ? text.padEnd(width) : text.slice(0, width - 1) + '…'
}

function nameOf(message: StoredEvent['message']): string {
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

/** A readable table of stored events, oldest first; one line each. */
export function renderEventsTable(events: readonly StoredEvent[]): string {
  if (events.length === 0) return chalk.dim('No events match. Send some to cdp dev, or widen the filters.')
  const header = chalk.bold(`${'TIMESTAMP'.padEnd(24)} ${'PLAN'.padEnd(4)} ${'TYPE'.padEnd(8)} ${'EVENT / NAME'.padEnd(28)} ${'USER'.padEnd(24)} ${'SOURCE'.padEnd(12)} MESSAGE ID`)
  const rows = events.map(({message, source, valid, policy}) => {
    const user = message.userId ? String(message.userId) : message.anonymousId ? `anon:${message.anonymousId}` : ''
    // ok: follows the plan; BAD: has violations (cdp violations); BLK: quarantined; OMIT: values removed; -: no plan applies.
    const plan = policy === 'blocked' ? chalk.red('BLK ') : policy === 'omitted' ? chalk.yellow('OMIT') : valid === null ? chalk.dim('-   ') : valid ? chalk.green('ok  ') : chalk.red('BAD ')
    return [
      chalk.dim(truncate(message.timestamp, 24)),
      plan,
      chalk.cyan(truncate(message.type, 8)),
      truncate(nameOf(message), 28),
      truncate(user, 24),
      truncate(source, 12),
      chalk.dim(printable(message.messageId)),
    ].join(' ')
  })
  return [header, ...rows, chalk.dim(`${events.length} event${events.length === 1 ? '' : 's'}`)].join('\n')
}
