import type {ConnectionState} from '../../stream/feed.js'
import type {TailView} from './model.js'
import type {Line, Segment} from './segments.js'
import {formatCount} from './text.js'

/**
 * The first status line: who we are and whether the daemon is there. The reason comes before the
 * URL: on a narrow terminal it is the part worth keeping.
 */
export function connectionLine(title: string, connection: ConnectionState | undefined): Line {
  const head: Segment = {text: `${title}  `, bold: true}
  if (connection === undefined) return [head, {text: '◌ connecting…', color: 'yellow'}]
  const url: Segment = {text: ` ${connection.url}`, dim: true}
  switch (connection.state) {
    case 'connected':
      return [head, {text: '● connected', color: 'green', bold: true}, url, ...(connection.detail ? [{text: ` — ${connection.detail}`}] : [])]
    case 'connecting':
      return [head, {text: '◌ connecting', color: 'yellow', bold: true}, ...(connection.detail ? [{text: ` — ${connection.detail}`}] : []), url]
    case 'disconnected':
      return [
        head,
        {text: '○ disconnected', color: 'red', bold: true},
        {text: ` — ${connection.detail ?? 'the daemon is not answering; reconnecting when it is back'}`},
        url,
      ]
  }
}

const separator: Segment = {text: ' · ', dim: true}

/** The second status line: counts, and every mode that hides or holds events. */
export function countsLine(view: TailView): Line {
  const filtering = view.filter !== '' || view.violationsOnly
  const line: Segment[] = [{text: filtering ? `${formatCount(view.matching)} of ${formatCount(view.total)} events` : `${formatCount(view.total)} events`, bold: true}]
  if (view.withViolations > 0) line.push(separator, {text: `${formatCount(view.withViolations)} with violations`, color: 'red'})
  if (view.paused) line.push(separator, {text: `PAUSED +${formatCount(view.held)} new`, color: 'yellow', bold: true})
  if (view.violationsOnly) line.push(separator, {text: 'violations only', color: 'magenta', bold: true})
  if (view.filter !== '') line.push(separator, {text: `filter "${view.filter}"`, color: 'cyan', bold: true})
  if (view.skipped > 0) line.push(separator, {text: `${formatCount(view.skipped)} skipped (tail fell behind)`, color: 'yellow'})
  if (view.evicted > 0) line.push(separator, {text: `oldest ${formatCount(view.evicted)} let go`, dim: true})
  // Replays run apart from live traffic: the newest one's progress, its own kind of item.
  const replay = view.replays[view.replays.length - 1]
  if (replay !== undefined) {
    const of = replay.counts.selected === null ? '' : `/${formatCount(replay.counts.selected)}`
    const colour = replay.status === 'failed' ? 'red' : replay.status === 'completed' ? 'green' : replay.status === 'interrupted' ? 'yellow' : 'cyan'
    line.push(separator, {text: `replay → ${replay.destination} ${replay.status} ${formatCount(replay.counts.sent)}${of} sent${replay.counts.failed > 0 ? `, ${formatCount(replay.counts.failed)} failed` : ''}`, color: colour})
  }
  if (view.mode === 'list' && !view.following && view.matching > 0) line.push(separator, {text: `${formatCount(view.position)}/${formatCount(view.matching)} · G to follow`, dim: true})
  return line
}
