import chalk from 'chalk'
import type {ConsoleLine, FunctionRunRecord} from '../functions/types.js'
import {printable} from '../printable.js'

/**
 * Function run records as lines, for `cdp fn logs` and the non-interactive `cdp tail`: one line
 * per record (function, where it ran, its result, the error or drop, the event), then its console
 * lines indented. Every value from the user's code or the event is escaped with printable.
 */

const resultStyles: Record<FunctionRunRecord['result'], (text: string) => string> = {
  changed: chalk.cyan,
  unchanged: chalk.dim,
  delivered: chalk.green,
  emitted: chalk.green,
  dropped: chalk.yellow,
  error: chalk.red.bold,
}

const levelStyles: Record<ConsoleLine['level'], (text: string) => string> = {
  log: (text) => text,
  info: chalk.cyan,
  debug: chalk.dim,
  warn: chalk.yellow,
  error: chalk.red,
}

export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
}

/** What follows the result: the error's class and message, a drop's reason, how many were emitted. */
function outcome(record: FunctionRunRecord): string {
  const style = resultStyles[record.result]
  const parts = [style(record.result)]
  if (record.result === 'error') parts.push(style(printable(`${record.errorClass ?? 'Error'}${record.message ? `: ${record.message}` : ''}`)))
  else if (record.message) parts.push(record.result === 'dropped' ? chalk.yellow(printable(record.message)) : printable(record.message))
  return parts.join(' ')
}

export interface FunctionRunLineOptions {
  /** How the time is shown (default: the ISO time as recorded). */
  time?: (iso: string) => string
  /** Before the function's name (the tail marks function lines "fn"). */
  prefix?: string
}

/** One record: its line, then one line per console line. */
export function formatFunctionRun(record: FunctionRunRecord, options: FunctionRunLineOptions = {}): string {
  const time = options.time ?? ((iso: string) => iso)
  const head = [
    chalk.dim(time(record.at)),
    `${options.prefix ? `${options.prefix} ` : ''}${chalk.bold(printable(record.function))}`,
    `${record.stage} ${chalk.magenta(printable(record.target))}`,
    outcome(record),
    ...(record.messageId === undefined ? [] : [chalk.dim(printable(record.messageId))]),
    chalk.dim(formatMs(record.ms)),
  ].join('  ')
  const lines = record.console.map((line) => `    ${levelStyles[line.level](line.level.padEnd(5))}  ${printable(line.message)}`)
  return [head, ...lines].join('\n')
}

/** `cdp fn logs` without records: why there are none. */
export function renderNoFunctionRuns(name: string | undefined, counted: number): string {
  const what = name === undefined ? 'No function run' : `No run of "${printable(name)}"`
  if (counted === 0) return chalk.dim(`${what} was recorded in this workspace yet.`)
  return chalk.dim(`${what} had console lines, an error or a drop (${counted} run${counted === 1 ? '' : 's'} counted; \`cdp deliveries\` shows them by result).`)
}
