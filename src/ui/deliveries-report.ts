import chalk from 'chalk'
import type {DestinationReport, FunctionReport} from '../delivery/report.js'
import type {RetryResult} from '../services/deliveries.js'
import type {DeliveriesView, DeliveryRecordRow} from '../services/views.js'
import {formatTable, type TableColumn} from './table.js'

function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`
}

const counts = (n: number, colour: (text: string) => string) => ({text: String(n), style: n > 0 ? colour : chalk.dim})

const destinationColumns: TableColumn<DestinationReport>[] = [
  {header: 'destination', width: 17, cell: (d) => (d.enabled ? {text: d.name, style: chalk.bold} : {text: `${d.name} (disabled)`, style: chalk.dim})},
  {header: 'type', width: 9, cell: (d) => d.type},
  {header: 'delivered', width: 9, align: 'right', cell: (d) => ({text: String(d.delivered), style: chalk.green})},
  {header: 'pending', width: 8, align: 'right', cell: (d) => `${d.pending}${d.pendingCapped ? '+' : ''}`},
  {header: 'retrying', width: 9, align: 'right', cell: (d) => counts(d.retrying, chalk.yellow)},
  {header: 'dead', width: 6, align: 'right', cell: (d) => counts(d.dead, chalk.red)},
  {header: 'success', width: 8, align: 'right', cell: (d) => percent(d.successRate)},
  {header: 'latency p50 / p99', width: 18, align: 'right', cell: (d) => (d.latencyMs ? `${d.latencyMs.p50} / ${d.latencyMs.p99} ms` : '-')},
]

const statusColours: Record<DeliveryRecordRow['status'], (text: string) => string> = {dead: chalk.red, retrying: chalk.yellow, delivered: chalk.green, pending: chalk.dim}

const recordColumns: TableColumn<DeliveryRecordRow>[] = [
  {width: 6, cell: (r) => ({text: `#${r.id}`, style: chalk.dim})},
  {width: 14, cell: (r) => r.destination},
  {width: 9, cell: (r) => ({text: r.status, style: statusColours[r.status]})},
  {width: 22, cell: (r) => r.event},
  {cell: (r) => ({text: r.messageId, style: chalk.dim})},
  {cell: (r) => `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`},
  {cell: (r) => (r.lastError ? `${r.lastStatus ? `${r.lastStatus} ` : ''}${r.lastError.replace(/^HTTP \d+: ?/, '').slice(0, 120)}` : '')},
]

type FunctionResultColumn = 'changed' | 'unchanged' | 'dropped' | 'error' | 'delivered' | 'emitted'

const functionResultColours: Record<FunctionResultColumn, (text: string) => string> = {
  changed: chalk.cyan,
  unchanged: (text) => text,
  dropped: chalk.yellow,
  error: chalk.red,
  delivered: chalk.green,
  emitted: chalk.green,
}

/** One line per function and place; a result column only when a function had that result (dropped and error always). */
function functionTable(functions: readonly FunctionReport[]): string[] {
  const results = (Object.keys(functionResultColours) as FunctionResultColumn[]).filter((result) => result === 'dropped' || result === 'error' || functions.some((f) => f[result] > 0))
  const columns: TableColumn<FunctionReport>[] = [
    {header: 'function', width: 17, cell: (f) => ({text: f.function, style: chalk.bold})},
    {header: 'ran on', width: 20, cell: (f) => `${f.stage} ${f.target}`},
    ...results.map((result): TableColumn<FunctionReport> => ({header: result, width: Math.max(result.length, 7), align: 'right', cell: (f) => counts(f[result], functionResultColours[result])})),
  ]
  return formatTable(columns, functions, {headerStyle: chalk.dim})
}

function nextAttempt(r: DeliveryRecordRow): string {
  return r.status === 'retrying' && r.nextAttemptAt > 0 ? chalk.dim(` next ${new Date(r.nextAttemptAt).toISOString()}`) : ''
}

/** `cdp deliveries`: one line per destination, then the failed events with their last error. */
export function renderDeliveriesReport(report: DeliveriesView, statusAsked?: string): string {
  const noDestinations = chalk.dim('No destinations in cdp.json. Add one to "destinations" (see the README), and `cdp dev` starts delivering.')
  if (report.destinations.length === 0) return report.functions.length === 0 ? noDestinations : [noDestinations, '', ...functionTable(report.functions)].join('\n')
  const lines = [...formatTable(destinationColumns, report.destinations, {headerStyle: chalk.dim}), '']
  if (report.functions.length > 0) lines.push(...functionTable(report.functions), '')
  const n = report.records.length
  const what = `${statusAsked ?? 'failed'} deliver${n === 1 ? 'y' : 'ies'}${statusAsked ? '' : ' (retrying or dead)'}`
  if (n === 0) lines.push(chalk.dim(`No ${what}.`))
  else {
    const records = formatTable(recordColumns, report.records)
    lines.push(chalk.bold(`${n} ${what}:`), ...records.map((line, i) => line + nextAttempt(report.records[i])))
    if (report.records.some((r) => r.status === 'dead')) lines.push('', chalk.dim('Send dead-lettered events again with `cdp deliveries retry`.'))
  }
  return lines.join('\n')
}

/** `cdp deliveries retry`: how many dead-lettered events go again, and when. */
export function renderRetryResult(result: RetryResult): string {
  if (result.retried === 0) return chalk.dim('No dead-lettered events match; nothing to send again.')
  const when = result.viaDaemon ? 'cdp dev is sending them now' : 'they go when `cdp dev` next starts'
  return `${chalk.green(String(result.retried))} dead-lettered event${result.retried === 1 ? '' : 's'} queued again; ${when}. Follow with \`cdp deliveries\`.`
}
