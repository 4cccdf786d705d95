import chalk from 'chalk'
import type {DeliveriesReport, DestinationReport} from '../delivery/report.js'
import type {DeliveryRecord} from '../store/types.js'
import {printable} from '../printable.js'

function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`
}

function destinationLine(d: DestinationReport): string {
  const shown = printable(d.name)
  const name = (d.enabled ? chalk.bold(shown) : chalk.dim(`${shown} (disabled)`)) + ' '.repeat(Math.max(1, 18 - shown.length - (d.enabled ? 0 : 11)))
  const cells = [
    d.type.padEnd(9),
    chalk.green(String(d.delivered).padStart(9)),
    `${d.pending}${d.pendingCapped ? '+' : ''}`.padStart(8),
    (d.retrying > 0 ? chalk.yellow : chalk.dim)(String(d.retrying).padStart(9)),
    (d.dead > 0 ? chalk.red : chalk.dim)(String(d.dead).padStart(6)),
    percent(d.successRate).padStart(8),
    (d.latencyMs ? `${d.latencyMs.p50} / ${d.latencyMs.p99} ms` : '-').padStart(18),
  ]
  return name + cells.join(' ')
}

function recordLine(r: DeliveryRecord): string {
  const colour = r.status === 'dead' ? chalk.red : r.status === 'retrying' ? chalk.yellow : r.status === 'delivered' ? chalk.green : chalk.dim
  const next = r.status === 'retrying' && r.nextAttemptAt > 0 ? chalk.dim(` next ${new Date(r.nextAttemptAt).toISOString()}`) : ''
  return [
    chalk.dim(`#${r.id}`.padEnd(6)),
    printable(r.destination).padEnd(14),
    colour(r.status.padEnd(9)),
    printable(r.event ?? r.type).padEnd(22),
    chalk.dim(printable(r.messageId)),
    `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`,
    r.lastError ? `${r.lastStatus ? `${r.lastStatus} ` : ''}${printable(r.lastError.replace(/^HTTP \d+: ?/, '').slice(0, 120))}` : '',
  ].join(' ') + next
}

/** `cdp deliveries`: one line per destination, then the failed events with their last error. */
export function renderDeliveriesReport(report: DeliveriesReport, statusAsked?: string): string {
  if (report.destinations.length === 0) return chalk.dim('No destinations in cdp.json. Add one to "destinations" (see the README), and `cdp dev` starts delivering.')
  const header = chalk.dim(
    'destination'.padEnd(18) + ['type'.padEnd(9), 'delivered'.padStart(9), 'pending'.padStart(8), 'retrying'.padStart(9), 'dead'.padStart(6), 'success'.padStart(8), 'latency p50 / p99'.padStart(18)].join(' '),
  )
  const lines = [header, ...report.destinations.map(destinationLine), '']
  const n = report.records.length
  const what = `${statusAsked ?? 'failed'} deliver${n === 1 ? 'y' : 'ies'}${statusAsked ? '' : ' (retrying or dead)'}`
  if (n === 0) lines.push(chalk.dim(`No ${what}.`))
  else {
    lines.push(chalk.bold(`${n} ${what}:`), ...report.records.map(recordLine))
    if (report.records.some((r) => r.status === 'dead')) lines.push('', chalk.dim('Send dead-lettered events again with `cdp deliveries retry`.'))
  }
  return lines.join('\n')
}
