import path from 'node:path'
import chalk from 'chalk'
import {printable, printableLines} from '../printable.js'
import type {FnTestResult, FunctionTestResult} from '../services/fn-test.js'
import type {ConsoleLine} from '../functions/types.js'
import {alignKeys, diffLines, terminalJson, withContext} from './fn-json.js'

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function relative(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel === '' || rel.startsWith('..') ? file : rel
}

/** A failed case's expected and actual values, as a line diff of their pretty JSON. */
export function renderValueDiff(expected: unknown, actual: unknown, indent: string): string[] {
  const lines = [`${indent}${chalk.red('- expected')}  ${chalk.green('+ actual')}`]
  const diff = withContext(diffLines(terminalJson(expected), terminalJson(alignKeys(actual, expected))))
  for (const entry of diff) {
    if (entry === 'gap') lines.push(`${indent}${chalk.dim('  …')}`)
    else if (entry.op === '-') lines.push(`${indent}${chalk.red(`- ${entry.text}`)}`)
    else if (entry.op === '+') lines.push(`${indent}${chalk.green(`+ ${entry.text}`)}`)
    else lines.push(`${indent}${chalk.dim(`  ${entry.text}`)}`)
  }
  return lines
}

export function renderConsoleLines(lines: readonly ConsoleLine[], indent: string): string[] {
  return lines.flatMap((l) => {
    const where = l.eventIndex === undefined ? '' : `[event ${l.eventIndex + 1}] `
    // A logged error's stack spans lines: each is printed on its own, under the first.
    const [first, ...rest] = l.message.split('\n')
    const texts = [`${indent}${where}console.${l.level}: ${printable(first)}`, ...rest.map((line) => `${indent}  ${printable(line)}`)]
    return texts.map((text) => (l.level === 'error' || l.level === 'warn' ? chalk.yellow(text) : chalk.dim(text)))
  })
}

function renderFunction(fn: FunctionTestResult): string[] {
  const title = `${chalk.bold(printable(fn.name))} ${chalk.dim(`(${fn.kind}, ${relative(fn.testFile ?? fn.file)})`)}`
  if (fn.status === 'no tests') return [`${chalk.bold(printable(fn.name))} ${chalk.yellow('no tests')} ${chalk.dim(`(write ${relative(fn.file.replace(/\.(m?js|ts)$/, ''))}.test.json)`)}`]
  const lines = [title]
  for (const note of fn.notes) lines.push(chalk.dim(`  note: ${printableLines(note)}`))
  if (fn.problems.length > 0) {
    lines.push(`  ${chalk.red('✗')} ${chalk.red(`the test file has ${plural(fn.problems.length, 'problem')}:`)}`)
    for (const problem of fn.problems) lines.push(`      - ${printable(problem)}`)
  }
  if (fn.loadError !== undefined) lines.push(`  ${chalk.red('✗')} ${chalk.red('the function does not load:')} ${printableLines(fn.loadError)}`)
  for (const c of fn.cases) {
    const time = chalk.dim(`(${c.ms} ms)`)
    if (c.passed) {
      lines.push(`  ${chalk.green('✓')} ${printable(c.name)} ${time}`)
      continue
    }
    lines.push(`  ${chalk.red('✗')} ${printable(c.name)} ${time}`)
    lines.push(`      ${chalk.red(printableLines(c.message ?? 'failed'))}`)
    if (c.expected !== undefined && c.actual !== undefined) lines.push(...renderValueDiff(c.expected, c.actual, '      '))
    else if (c.actual !== undefined) lines.push(...terminalJson(c.actual).split('\n').map((l) => `      ${l}`))
    lines.push(...renderConsoleLines(c.console, '      '))
  }
  return lines
}

/** `cdp fn test`: each function's cases, ✓ or ✗ with why and a diff, and a summary line. */
export function renderFnTestReport(result: FnTestResult): string {
  const lines = result.functions.flatMap(renderFunction)
  if (result.functions.length === 0) lines.push('cdp.json declares no functions: add one with `cdp fn new NAME --kind insert`.')
  const broken = result.functions.filter((fn) => fn.problems.length > 0 || fn.loadError !== undefined).length
  const parts = [chalk.green(`${result.passed} passed`)]
  if (result.failed > 0) parts.push(chalk.red(`${result.failed} failed`))
  if (broken > 0) parts.push(chalk.red(`${plural(broken, 'function')} not run`))
  if (result.untested > 0) parts.push(chalk.yellow(`${plural(result.untested, 'function')} without tests`))
  lines.push('', parts.join(', '))
  if (result.junit !== undefined) lines.push(chalk.dim(`JUnit report: ${relative(result.junit)}`))
  return lines.join('\n')
}
