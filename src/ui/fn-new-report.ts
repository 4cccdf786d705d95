import chalk from 'chalk'
import {printable, printableLines} from '../printable.js'
import type {FnNewResult} from '../services/fn-new.js'
import {renderFileActions} from './file-actions.js'

/** `cdp fn new`: the files written, what to know, and how to test and attach the function. */
export function renderFnNewReport(result: FnNewResult, options: {dir: string}): string {
  const name = printable(result.name)
  const dir = options.dir === '.' ? '' : ` --dir ${printable(options.dir)}`
  const lines = [...renderFileActions(result.files), '']
  lines.push(`${chalk.bold(name)}: ${result.kind === 'insert' ? 'an' : 'a'} ${result.kind} function from the ${chalk.cyan(printable(result.template))} template.`)
  for (const note of result.notes) lines.push(`${chalk.yellow('Note:')} ${printableLines(note)}`)
  lines.push('', 'Next:')
  lines.push(`  ${chalk.bold(`cdp fn test ${name}${dir}`)}  runs its cases (functions/${name}.test.json)`)
  if (result.kind === 'insert') {
    lines.push(`  attach it in cdp.json with ${chalk.bold(`"insert": "${name}"`)} on a source (before validation and storage) or a destination (before delivery)`)
  } else if (result.kind === 'destination') {
    lines.push(`  attach it in cdp.json's destinations: ${chalk.bold(`{"name": "${name}", "type": "function", "function": "${name}"}`)}`)
  } else {
    lines.push(`  ${chalk.bold('cdp dev')}, then point the webhook at ${chalk.bold(`POST http://localhost:8237/v1/functions/${name}`)}`)
  }
  lines.push(`  ${chalk.bold(`cdp fn run functions/${name}.js --event EVENT.json`)}  runs it once on your own input`)
  return lines.join('\n')
}
