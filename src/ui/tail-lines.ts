import chalk from 'chalk'
import type {ConnectionState} from '../stream/feed.js'
import type {StreamItem, StreamReplay} from '../stream/types.js'
import {printable} from '../printable.js'
import {formatFunctionRun} from './fn-logs.js'

function clock(iso: string): string {
  return iso.slice(11, 23)
}

/** One readable line per stream item, for `cdp tail` when stdout is not a terminal. */
export function formatTailLine(item: StreamItem): string {
  switch (item.kind) {
    case 'event': {
      const mark =
        item.policy === 'blocked'
          ? chalk.red('BLOCKED')
          : item.valid === null
            ? chalk.dim('no plan')
            : item.valid
              ? chalk.green('valid')
              : chalk.red(`${item.violations.length} violation${item.violations.length === 1 ? '' : 's'}`) + (item.policy === 'omitted' ? chalk.yellow(' (values omitted)') : '')
      const user = printable(item.userId ?? item.anonymousId ?? '-')
      const head = [chalk.dim(clock(item.receivedAt)), item.type.padEnd(8), chalk.bold(printable(item.name ?? '-')), chalk.cyan(user), chalk.dim(printable(item.source)), mark, chalk.dim(printable(item.messageId))].join('  ')
      const details = item.violations.map((v) => `\n    ${chalk.red(v.kind)} ${printable(v.message)} ${chalk.dim(`(expected ${printable(v.expected)}, got ${printable(v.actual)})`)}`)
      const marks = (item.deliveries ?? []).map((d) => `\n    → ${printable(d.destination)} ${d.status}`)
      return head + details.join('') + marks.join('')
    }
    case 'delivery': {
      const colour = item.status === 'delivered' ? chalk.green : item.status === 'dead' ? chalk.red : chalk.yellow
      const detail = item.error ? ` ${chalk.dim(`(${printable(item.error)})`)}` : ''
      const attempt = item.attempts > 0 ? ` ${chalk.dim(`attempt ${item.attempts}`)}` : ''
      return `    → ${printable(item.destination)} ${colour(item.status)}${attempt}${detail} ${chalk.dim(printable(item.messageId))}`
    }
    case 'function':
      // Its event's line may come after it (a function that ran before storage) or never (dropped).
      return formatFunctionRun(item.run, {time: clock, prefix: 'fn'})
    case 'replay':
      return formatReplayLine(item.replay)
    case 'skipped':
      return chalk.yellow(`… ${item.count} items skipped: this reader fell behind the stream`)
  }
}

/** A replay's progress: its own kind of line, apart from live deliveries. */
export function formatReplayLine(replay: StreamReplay['replay']): string {
  const colour = replay.status === 'completed' ? chalk.green : replay.status === 'failed' ? chalk.red : replay.status === 'interrupted' ? chalk.yellow : chalk.cyan
  const {sent, failed, skipped, selected} = replay.counts
  const of = selected === null ? '' : ` of ${selected.toLocaleString('en-US')}`
  const error = replay.lastError ? ` ${chalk.dim(`(${printable(replay.lastError)})`)}` : ''
  return `${chalk.dim(clock(replay.updatedAt))}  replay ${printable(replay.id)} → ${printable(replay.destination)}  ${colour(replay.status)}  sent ${sent.toLocaleString('en-US')}${of}, failed ${failed.toLocaleString('en-US')}, skipped ${skipped.toLocaleString('en-US')}${error}`
}

/** What `cdp tail` says on stderr when the stream connects or drops (nothing while connecting). */
export function formatConnectionLine(state: ConnectionState): string | undefined {
  if (state.state === 'connected') return chalk.dim(`following ${printable(state.url)}`)
  if (state.state === 'disconnected') return chalk.yellow(printable(state.detail ?? 'disconnected'))
  return undefined
}
