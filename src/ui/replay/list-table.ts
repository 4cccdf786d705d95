import chalk from 'chalk'
import type {ReplayInfo, ReplaySelection, ReplayStatus} from '../../replay/types.js'
import {formatTable, type TableColumn} from '../table.js'
import {formatCount} from './lines.js'

const statusColours: Record<ReplayStatus, (text: string) => string> = {completed: chalk.green, failed: chalk.red, interrupted: chalk.yellow, running: chalk.cyan}

/** The selection in a few words: "store 2h→now track,identify 'Order Completed'", "2 files". */
export function shortSelection(selection: ReplaySelection): string {
  const parts: string[] = []
  parts.push(selection.files && selection.files.length > 0 ? `${selection.files.length} file${selection.files.length === 1 ? '' : 's'}` : 'store')
  if (selection.since || selection.until) parts.push(`${shortTime(selection.since) ?? '…'}→${shortTime(selection.until) ?? 'now'}`)
  if (selection.types?.length) parts.push(selection.types.join(','))
  if (selection.events?.length) parts.push(selection.events.map((event) => `"${event}"`).join(','))
  if (selection.source) parts.push(`source ${selection.source}`)
  if (selection.user) parts.push(`user ${selection.user}`)
  if (selection.valid !== undefined) parts.push(selection.valid ? 'valid' : 'invalid')
  if (selection.rate) parts.push(`${selection.rate}/s`)
  return parts.join(' ')
}

function shortTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined
  return iso.replace(/:00(\.000)?Z$|\.000Z$/, 'Z').replace('T00:00Z', '')
}

function shortStamp(iso: string | null): string {
  if (!iso) return '-'
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')
}

const columns: TableColumn<ReplayInfo>[] = [
  {header: 'id', cell: (r) => ({text: r.id, style: chalk.bold})},
  {header: 'destination', width: 14, cut: true, cell: (r) => r.destination},
  {header: 'selection', width: 40, cut: true, cell: (r) => shortSelection(r.selection)},
  {header: 'status', width: 11, cell: (r) => ({text: r.status, style: statusColours[r.status] ?? ((text: string) => text)})},
  {header: 'sent', width: 8, align: 'right', cell: (r) => formatCount(r.counts.sent)},
  {header: 'failed', width: 7, align: 'right', cell: (r) => ({text: formatCount(r.counts.failed), style: r.counts.failed > 0 ? chalk.red : chalk.dim})},
  {header: 'skipped', width: 7, align: 'right', cell: (r) => formatCount(r.counts.skipped)},
  {header: 'corrupt', width: 7, align: 'right', cell: (r) => ({text: formatCount(r.counts.corrupt), style: r.counts.corrupt > 0 ? chalk.yellow : chalk.dim})},
  {header: 'selected', width: 8, align: 'right', cell: (r) => (r.counts.selected === null ? '-' : formatCount(r.counts.selected))},
  {header: 'started', width: 19, cell: (r) => shortStamp(r.createdAt)},
  {header: 'finished', cell: (r) => shortStamp(r.finishedAt)},
]

/** `cdp replay --list`: one row per replay, oldest first. */
export function renderReplayList(replays: readonly ReplayInfo[]): string {
  if (replays.length === 0) return chalk.dim('No replays yet. Start one with `cdp replay --destination NAME`.')
  return formatTable(columns, replays, {headerStyle: chalk.dim}).join('\n')
}
