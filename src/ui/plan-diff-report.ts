import chalk from 'chalk'
import type {PlanDiffChange, PlanDiffResult} from '../services/plan-diff.js'
import {printable} from '../printable.js'
import {formatRow, type ColumnLayout} from './table.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

// The kind, wide enough for the longest (additional_properties_closed), then the message.
const changeLayout: ColumnLayout[] = [{width: 28}, {}]

function changeLine(change: PlanDiffChange): string {
  return formatRow(changeLayout, [{text: change.kind, style: change.breaking ? chalk.red : chalk.green}, change.message], {indent: '  '})
}

/** The diff for people: per plan folder, breaking changes first, then safe ones; a summary line last. */
export function renderPlanDiff(result: PlanDiffResult, options: {allowBreaking: boolean}): string {
  const since = `${printable(result.base)} (${result.commit.slice(0, 7)})`
  if (result.changes.length === 0) return chalk.green(`No changes to the plan since ${since}.`)
  const lines: string[] = []
  for (const plan of result.plans) {
    const changes = result.changes.filter((change) => change.plan === plan)
    if (changes.length === 0) continue
    if (lines.length > 0) lines.push('')
    lines.push(`${chalk.bold(printable(plan))}: ${since} → working tree`)
    const breaking = changes.filter((change) => change.breaking)
    const safe = changes.filter((change) => !change.breaking)
    if (breaking.length > 0) lines.push(chalk.red.bold(`Breaking (${breaking.length}):`), ...breaking.map(changeLine))
    if (safe.length > 0) lines.push(chalk.bold(`Safe (${safe.length}):`), ...safe.map(changeLine))
  }
  lines.push('')
  const safe = plural(result.safe, 'safe change')
  if (result.breaking === 0) lines.push(chalk.green(`No breaking changes; ${safe}.`))
  else if (options.allowBreaking) lines.push(chalk.yellow(`${plural(result.breaking, 'breaking change')} (allowed by --allow-breaking), ${safe}.`))
  else lines.push(chalk.red(`${plural(result.breaking, 'breaking change')}, ${safe}. Pass --allow-breaking to accept them.`))
  return lines.join('\n')
}
