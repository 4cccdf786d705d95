import chalk from 'chalk'
import type {CodegenResult} from '../services/codegen.js'
import {formatRow, type ColumnLayout} from './table.js'

// The file's status (the longest, "unchanged", is 9 columns), then its path.
const layout: ColumnLayout[] = [{width: 9}, {}]

/** `cdp plan codegen`: each generated file's status; with --check, whether the client is current. */
export function renderCodegenReport(result: CodegenResult, options: {check: boolean}): string {
  const lines = result.files.map((file) => {
    const stale = file.status === 'stale' || file.status === 'missing'
    return formatRow(layout, [{text: file.status, style: stale ? chalk.red : chalk.green}, file.path])
  })
  if (options.check) lines.push(result.upToDate ? chalk.green('The generated client is current.') : chalk.red('The generated client does not match the plan: run `cdp plan codegen`.'))
  return lines.join('\n')
}
