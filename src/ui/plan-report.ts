import chalk from 'chalk'
import type {PlanReport} from '../services/plan-validate.js'
import {printable} from '../printable.js'

export function renderPlanReport(report: PlanReport): string {
  const lines = [`${chalk.bold(printable(report.plan))}: ${report.events} event rule${report.events === 1 ? '' : 's'}`]
  for (const problem of report.problems) {
    const mark = problem.severity === 'error' ? chalk.red('error  ') : chalk.yellow('warning')
    lines.push(`  ${mark} ${printable(problem.path)}${problem.pointer ? chalk.dim(` ${printable(problem.pointer)}`) : ''}: ${printable(problem.message)}`)
  }
  const summary = `${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`
  lines.push(report.errors > 0 ? chalk.red(summary) : report.warnings > 0 ? chalk.yellow(summary) : chalk.green(`valid: ${summary}`))
  return lines.join('\n')
}
