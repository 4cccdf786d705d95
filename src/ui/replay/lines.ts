import chalk from 'chalk'
import {printable} from '../../printable.js'
import type {ReplayProgress, ReplaySummary} from '../../replay/runner.js'

/**
 * The words and numbers of `cdp replay`'s progress and summary, shared by the live ink view, the
 * plain lines printed when stderr is not a terminal, and the final summary. Every value that
 * comes from data (event names, a destination's error, file names) is escaped with printable.
 */

/** 75 → "1m 15s"; under a minute "12s"; over an hour "1h 02m". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`
}

export function formatRate(eventsPerSecond: number): string {
  return eventsPerSecond >= 100 ? String(Math.round(eventsPerSecond)) : eventsPerSecond.toFixed(1)
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** "1,200 of 5,000 (24%)", or the plain count when the selection's size is unknown. */
export function doneOf(done: number, selected: number | null): string {
  if (selected === null || selected === 0) return formatCount(done)
  return `${formatCount(done)} of ${formatCount(selected)} (${Math.min(100, Math.floor((done / selected) * 100))}%)`
}

/** Settled events: sent, dead-lettered or left out. */
export function settledOf(progress: Pick<ReplayProgress, 'counts'>): number {
  const {sent, failed, skipped} = progress.counts
  return sent + failed + skipped
}

/** Shortened to one line of at most `max` characters: a destination's error can be a whole HTML page. */
export function shortError(error: string, max = 160): string {
  const line = printable(error.replace(/\s+/g, ' ').trim())
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** One plain line of progress, printed every few seconds when stderr is not a terminal. */
export function progressLine(progress: ReplayProgress): string {
  const {counts} = progress
  const parts = [
    `replay ${progress.id}`,
    `${doneOf(settledOf(progress), counts.selected)} done`,
    `sent ${formatCount(counts.sent)}`,
    `failed ${formatCount(counts.failed)}`,
    `skipped ${formatCount(counts.skipped)}`,
  ]
  if (counts.corrupt > 0) parts.push(`corrupt ${formatCount(counts.corrupt)}`)
  parts.push(`${formatRate(progress.eventsPerSecond)} events/s`, `elapsed ${formatDuration(progress.elapsedMs)}`)
  if (progress.remainingMs !== null) parts.push(`left ~${formatDuration(progress.remainingMs)}`)
  if (progress.lastError) parts.push(`last error: ${shortError(progress.lastError, 120)}`)
  return parts.join(' · ')
}

const statusStyle: Record<ReplaySummary['status'], (text: string) => string> = {
  completed: chalk.green,
  failed: chalk.red,
  interrupted: chalk.yellow,
  running: chalk.cyan,
  'dry-run': chalk.cyan,
}

/** The final summary, for people (stderr): what was sent and what was not, and how to go on. */
export function summaryLines(summary: ReplaySummary): string[] {
  const {counts} = summary
  const lines: string[] = []
  const name = printable(summary.destination)
  if (summary.status === 'dry-run') {
    const would = summary.wouldSend
    lines.push(`${statusStyle['dry-run']('Dry run')}: ${formatCount(would?.total ?? 0)} event${would?.total === 1 ? '' : 's'} would be replayed to ${chalk.bold(name)}; nothing was sent.`)
    if (would) {
      for (const [type, count] of Object.entries(would.byType)) lines.push(`  ${type.padEnd(10)} ${formatCount(count).padStart(9)}`)
      if (would.byEvent.length > 0) {
        lines.push(chalk.dim('  by event name:'))
        for (const row of would.byEvent) lines.push(`  ${printable(row.event ?? `(${row.type})`).padEnd(30)} ${formatCount(row.count).padStart(9)}`)
      }
      if (would.skipped > 0) lines.push(chalk.dim(`  ${formatCount(would.skipped)} more selected but left out by the destination's own filter.`))
    }
  } else {
    const title = {completed: 'Replay completed', failed: 'Replay failed', interrupted: 'Replay interrupted', running: 'Replay running'}[summary.status]
    lines.push(`${statusStyle[summary.status](title)} ${chalk.dim(summary.id ?? '')} → ${chalk.bold(name)} in ${formatDuration(summary.seconds * 1000)} (${formatRate(summary.eventsPerSecond)} events/s)`)
    lines.push(`  sent ${chalk.green(formatCount(counts.sent))} · failed ${(counts.failed > 0 ? chalk.red : chalk.dim)(formatCount(counts.failed))} · skipped ${formatCount(counts.skipped)} · corrupt ${(counts.corrupt > 0 ? chalk.yellow : chalk.dim)(formatCount(counts.corrupt))}${counts.selected !== null ? ` · selected ${formatCount(counts.selected)}` : ''}`)
    if (summary.notSent !== null && summary.notSent > 0 && summary.status !== 'completed') {
      lines.push(`  ${formatCount(summary.notSent)} not sent yet (never confirmed by the destination).`)
    }
  }
  if (summary.lastError) lines.push(`  ${chalk.red('last error:')} ${shortError(summary.lastError)}`)
  for (const corrupt of summary.corrupt.slice(0, 20)) lines.push(`  ${chalk.yellow('corrupt line')} ${printable(corrupt.file)}:${corrupt.line}: ${shortError(corrupt.reason, 120)}`)
  if (summary.corrupt.length > 20) lines.push(chalk.dim(`  … and ${summary.corrupt.length - 20} more corrupt lines`))
  if ((summary.status === 'interrupted' || summary.status === 'failed') && summary.id) {
    lines.push(`  Resume with: ${chalk.bold(`cdp replay --resume ${summary.id}`)}`)
  }
  return lines
}
