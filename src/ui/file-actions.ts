import chalk from 'chalk'
import {printable} from '../printable.js'
import {formatRow, type ColumnLayout} from './table.js'

/** A file a command wrote, or left alone and why. */
export interface FileAction {
  path: string
  action: string
  reason?: string
}

// What was done (the longest, "overwritten", is 11 columns), then the path.
const layout: ColumnLayout[] = [{width: 11}, {}]

/** One line per file: what was done to it (created, overwritten, skipped…), its path, and why when it says. */
export function renderFileActions(files: readonly FileAction[]): string[] {
  return files.map((file) => {
    const action = {text: file.action, style: file.action === 'skipped' ? chalk.yellow : chalk.green}
    return formatRow(layout, [action, file.path]) + (file.reason ? chalk.dim(` (${printable(file.reason)})`) : '')
  })
}
