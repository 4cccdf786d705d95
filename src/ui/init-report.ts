import chalk from 'chalk'
import {printable} from '../printable.js'
import type {InitResult} from '../services/init.js'
import {renderFileActions} from './file-actions.js'

/** The question `cdp init` asks on a terminal, with the name it takes when the answer is empty. */
export function sourceNameQuestion(fallback: string): string {
  return `Name of your first source ${chalk.dim(`(${printable(fallback)})`)}: `
}

/** What `cdp init` wrote, the first source's write key, and how to go on. */
export function renderInitReport(result: InitResult, options: {dir: string}): string {
  const source = result.config.sources[0]
  return [
    ...renderFileActions(result.files),
    '',
    `Source ${chalk.cyan(printable(source.name))} has write key ${chalk.bold(source.writeKey)}`,
    `Next: ${chalk.bold('cdp dev')}${options.dir === '.' ? '' : ` --dir ${options.dir}`} to start the local daemon.`,
  ].join('\n')
}
