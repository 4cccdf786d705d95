import chalk from 'chalk'
import {printable} from '../printable.js'
import type {CiTestResult, CiTestViolation} from '../services/ci-test.js'
import {formatTable, textWidth, type TableColumn} from './table.js'

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

const eventColumns: TableColumn<CiTestResult['events']['byType'][number]>[] = [
  {width: 6, align: 'right', cell: (row) => String(row.count)},
  {width: 8, cell: (row) => ({text: row.type, style: chalk.dim})},
  {cell: (row) => row.event ?? ''},
]

function violationColumns(violations: readonly CiTestViolation[]): TableColumn<CiTestViolation>[] {
  const eventWidth = Math.min(32, Math.max(...violations.map((v) => textWidth(printable(v.event ?? v.type)))))
  const pathWidth = Math.min(40, Math.max(...violations.map((v) => textWidth(printable(v.path)))))
  return [
    {width: eventWidth, cut: true, cell: (v) => ({text: v.event ?? v.type, style: chalk.bold})},
    {width: pathWidth, cell: (v) => ({text: v.path, style: chalk.red})},
    {cell: (v) => v.message},
    {cell: (v) => ({text: `expected ${v.expected}, got ${v.actual}`, style: chalk.dim})},
  ]
}

/** The most violations listed; the rest are counted (all of them are in --json and --junit). */
const shownViolations = 200

/** What CMD sent, checked against the plan, and the verdict. Every piece of data is escaped. */
export function renderCiTestReport(result: CiTestResult): string {
  const lines: string[] = ['', chalk.bold('cdp test')]
  const exit = result.commandExit
  const ended = exit.signal ? `was ended by ${exit.signal}` : `exited ${exit.code}`
  lines.push(`  ${exit.code === 0 ? chalk.green('✓') : chalk.red('✗')} ${printable(result.command.join(' '))} ${ended}`)
  lines.push('')
  lines.push(chalk.bold(`Events received: ${result.events.total}`))
  if (result.events.byType.length > 0) lines.push(...formatTable(eventColumns, result.events.byType, {indent: '  '}))
  else lines.push(chalk.dim(`  none (CMD had ${Object.keys(result.env).join(', ')})`))

  const violationMark = result.allowViolations ? chalk.yellow('allowed') : chalk.red('fails')
  lines.push('')
  if (result.violations.length === 0) lines.push(`${chalk.green('✓')} No violations`)
  else {
    lines.push(`${chalk.red('✗')} ${chalk.bold(plural(result.violations.length, 'violation'))} (${violationMark})`)
    const shown = result.violations.slice(0, shownViolations)
    lines.push(...formatTable(violationColumns(shown), shown, {indent: '  ', gap: '  '}))
    if (result.violations.length > shownViolations) lines.push(chalk.dim(`  … and ${result.violations.length - shownViolations} more (--json or --junit lists every one)`))
  }

  if (result.unplanned.length > 0) {
    const mark = result.allowUnplanned ? chalk.yellow('allowed') : chalk.red('fails')
    lines.push(`${result.allowUnplanned ? chalk.yellow('!') : chalk.red('✗')} ${chalk.bold(plural(result.unplanned.length, 'unplanned event'))} (${mark})`)
    for (const u of result.unplanned) lines.push(`  ${printable(u.event)} ${chalk.dim(`×${u.count}, source ${printable(u.source)}`)}`)
  }

  if (result.planned.length > 0) {
    const seen = result.planned.length - result.plannedNotSeen.length
    lines.push(`${chalk.dim('·')} Planned events received: ${seen} of ${result.planned.length}`)
    if (result.plannedNotSeen.length > 0) lines.push(chalk.dim(`  never received: ${result.plannedNotSeen.map(printable).join(', ')}`))
  }

  if (result.expected.length > 0) {
    if (result.expectedMissing.length === 0) lines.push(`${chalk.green('✓')} Every --expect'ed event was received (${result.expected.length})`)
    else {
      lines.push(`${chalk.red('✗')} ${chalk.bold(`Expected but never received: ${plural(result.expectedMissing.length, 'event')}`)}`)
      for (const event of result.expectedMissing) lines.push(`  ${chalk.red(printable(event))}`)
    }
  }
  if (result.junit) lines.push(chalk.dim(`JUnit report: ${printable(result.junit)}`))
  lines.push('')
  lines.push(verdict(result))
  return lines.join('\n')
}

function verdict(result: CiTestResult): string {
  if (result.failures.length === 0) return chalk.green.bold('PASS')
  const why = result.failures.map((f) =>
    f === 'command' ? `the command failed (exit ${result.exitCode})` : f === 'violations' ? 'plan violations' : f === 'unplanned' ? 'unplanned events' : "--expect'ed events missing",
  )
  return `${chalk.red.bold('FAIL')}: ${why.join(', ')}`
}

// GitHub's workflow commands: data escapes %, CR and LF; property values also : and ,.
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

function annotation(title: string, message: string): string {
  return `::error title=${escapeProperty(title)}::${escapeData(message)}`
}

/** GitHub Actions shows at most 10 error annotations a step: the first few of each kind are enough. */
const annotationLimit = 20

/** `::error` lines for GitHub Actions: what fails the run, one line each. */
export function githubAnnotations(result: CiTestResult): string[] {
  const lines: string[] = []
  if (!result.allowViolations) {
    for (const v of result.violations.slice(0, annotationLimit)) {
      lines.push(annotation(`Tracking plan violation: ${v.event ?? v.type}`, `${v.path}: ${v.message} (expected ${v.expected}, got ${v.actual})`))
    }
  }
  if (!result.allowUnplanned) {
    for (const u of result.unplanned.slice(0, annotationLimit)) lines.push(annotation(`Unplanned event: ${u.event}`, `"${u.event}" is not in the tracking plan (received ${u.count}×).`))
  }
  for (const event of result.expectedMissing) lines.push(annotation(`Expected event missing: ${event}`, `"${event}" was expected (--expect) and never received.`))
  // Data in a workflow command must not hold other control characters either.
  return lines.map((line) => printable(line))
}
