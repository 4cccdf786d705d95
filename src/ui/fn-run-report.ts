import chalk from 'chalk'
import {printable, printableLines} from '../printable.js'
import type {FnRunResult} from '../services/fn-run.js'
import type {DestinationOutcome, FunctionFailure, InsertOutcome, JsonObject} from '../functions/types.js'
import {renderConsoleLines} from './fn-test-report.js'
import {terminalJson} from './fn-json.js'

export function renderFailure(error: FunctionFailure): string[] {
  const lines = [`${chalk.red(`${printable(error.errorClass)}:`)} ${printableLines(error.message)}`]
  if (error.location) lines.push(chalk.dim(`    at ${printable(error.location)}`))
  return lines
}

/**
 * `cdp fn run` for people. stdout: the result as data (the event(s) an insert function passes on as
 * JSON, "dropped: reason", "delivered", a source function's messages as JSON); stderr: notes, the
 * function's console lines and its error.
 */
export function renderFnRun(result: FnRunResult): {stdout: string[]; stderr: string[]} {
  const stdout: string[] = []
  const stderr: string[] = result.notes.map((note) => chalk.dim(`note: ${printableLines(note)}`))
  stderr.push(...renderConsoleLines(result.console, ''))
  const prefix = (index: number) => (result.single ? '' : `event ${index + 1}: `)
  if (result.kind === 'source') {
    if (result.messages !== undefined) {
      if (result.messages.length > 0) stdout.push(terminalJson(result.messages))
      else stderr.push(chalk.dim('no messages emitted'))
    }
    for (const call of result.unsupported ?? []) stderr.push(chalk.yellow(`${printable(call)} is not supported locally; it was ignored`))
    if (result.error) stderr.push(...renderFailure(result.error))
  } else if (result.outcomes === undefined) {
    if (result.error) stderr.push(...renderFailure(result.error))
  } else if (result.kind === 'destination') {
    ;(result.outcomes as DestinationOutcome[]).forEach((outcome, index) => {
      if (outcome.result === 'delivered') stdout.push(`${prefix(index)}delivered`)
      else {
        const status = outcome.status === undefined ? '' : ` (status ${outcome.status})`
        const [first, ...rest] = renderFailure(outcome.error)
        stderr.push(`${prefix(index)}${first}${status}`, ...rest)
      }
    })
  } else {
    const kept: JsonObject[] = []
    ;(result.outcomes as InsertOutcome[]).forEach((outcome, index) => {
      if (outcome.result === 'dropped') stdout.push(`${prefix(index)}dropped: ${printable(outcome.reason)}`)
      else if (outcome.result === 'error') {
        const [first, ...rest] = renderFailure(outcome.error)
        stderr.push(`${prefix(index)}${first}`, ...rest)
      } else kept.push(...outcome.events)
    })
    if (kept.length > 0) stdout.unshift(terminalJson(result.single && kept.length === 1 ? kept[0] : kept))
  }
  if (result.error?.errorClass !== 'LoadError') stderr.push(chalk.dim(`${result.kind} function ${printable(result.name)} ran in ${result.ms} ms`))
  return {stdout, stderr}
}
