import chalk from 'chalk'
import type {CallSite, PlanStatusResult} from '../services/plan-status.js'
import {printable} from '../printable.js'
import {formatTable, textWidth} from './table.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

const shownSites = 3

/** The first call sites as file:line, then how many more (--json has them all). */
function where(calls: readonly CallSite[]): string {
  const shown = calls.slice(0, shownSites).map((call) => `${call.file}:${call.line}`)
  if (calls.length > shownSites) shown.push(`+${calls.length - shownSites} more`)
  return shown.join(', ')
}

/** `cdp plan status` for people: each planned event with its call sites, then what is missing, unplanned and dynamic, and the verdict. */
export function renderPlanStatus(result: PlanStatusResult, options: {allowMissing: boolean}): string {
  const lines: string[] = []
  const source = result.files.from === 'src' ? '--src' : result.files.from === 'git' ? 'git ls-files' : 'the folder'
  lines.push(chalk.bold(`${plural(result.events.length, 'planned event')}, ${plural(result.files.scanned, 'file')} scanned (from ${source}).`))
  if (result.events.length > 0) {
    type Row = PlanStatusResult['events'][number]
    const functionOf = (row: Row) => (row.function ? `${row.function}()` : '-')
    const widest = (texts: string[], header: string) => Math.max(header.length, ...texts.map((text) => textWidth(printable(text))))
    lines.push(
      '',
      ...formatTable<Row>(
        [
          {header: 'EVENT', width: widest(result.events.map((row) => row.event), 'EVENT'), cell: (row) => ({text: row.event, style: row.calls.length === 0 ? chalk.red : chalk.green})},
          {header: 'FUNCTION', width: widest(result.events.map(functionOf), 'FUNCTION'), cell: functionOf},
          {header: 'CALLS', width: 5, align: 'right', cell: (row) => String(row.calls.length)},
          {header: 'WHERE', cell: (row) => (row.calls.length === 0 ? {text: 'no call site', style: chalk.red} : where(row.calls))},
        ],
        result.events,
        {indent: '  ', gap: '  ', headerStyle: chalk.dim},
      ),
    )
  }
  if (result.unplanned.length > 0) {
    lines.push('', chalk.red.bold(`Unplanned events called in code (${result.unplanned.length}):`))
    lines.push(
      ...formatTable(
        [
          {width: Math.max(...result.unplanned.map((row) => textWidth(printable(row.event)))), cell: (row: PlanStatusResult['unplanned'][number]) => ({text: row.event, style: chalk.red})},
          {cell: (row: PlanStatusResult['unplanned'][number]) => where(row.calls)},
        ],
        result.unplanned,
        {indent: '  ', gap: '  '},
      ),
    )
  }
  if (result.dynamic.length > 0) {
    lines.push('', chalk.yellow.bold(`Track calls with a computed event name, not checked (${result.dynamic.length}):`))
    lines.push(
      ...formatTable(
        [
          {width: Math.max(...result.dynamic.map((row) => textWidth(printable(`${row.file}:${row.line}`)))), cell: (row: PlanStatusResult['dynamic'][number]) => `${row.file}:${row.line}`},
          {cell: (row: PlanStatusResult['dynamic'][number]) => ({text: `${row.callee}(${row.argument})`, style: chalk.yellow})},
        ],
        result.dynamic,
        {indent: '  ', gap: '  '},
      ),
    )
  }
  lines.push('')
  const problems: string[] = []
  if (result.missing.length > 0) {
    const names = result.missing.map((event) => `"${printable(event)}"`).join(', ')
    problems.push(`${plural(result.missing.length, 'planned event')} with no call site: ${names}${options.allowMissing ? ' (allowed by --allow-missing)' : ''}`)
  }
  if (result.unplanned.length > 0) problems.push(`${plural(result.unplanned.length, 'unplanned event')} called: ${result.unplanned.map((row) => `"${printable(row.event)}"`).join(', ')} (add ${result.unplanned.length === 1 ? 'it' : 'them'} to the plan, or fix the name)`)
  if (problems.length === 0) lines.push(chalk.green(result.events.length === 0 ? 'No planned events, and no track calls outside the plan.' : 'Every planned event has a call site; no unplanned events.'))
  else for (const problem of problems) lines.push((result.ok ? chalk.yellow : chalk.red)(problem))
  return lines.join('\n')
}
