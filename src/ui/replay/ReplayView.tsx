import {Box, Text} from 'ink'
import type {ReplayProgress} from '../../replay/runner.js'
import {doneOf, formatCount, formatDuration, formatRate, settledOf, shortError} from './lines.js'

export interface ReplayViewProps {
  progress: ReplayProgress
  /** Terminal columns: the bar and the error line fit them. */
  columns: number
}

function bar(done: number, selected: number | null, width: number): string {
  if (selected === null || selected <= 0 || width < 4) return ''
  const filled = Math.min(width, Math.round((done / selected) * width))
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
}

/** The live view of `cdp replay` on a terminal: a bar, the counts, the speed and the destination's last error. */
export function ReplayView({progress, columns}: ReplayViewProps) {
  const {counts} = progress
  const done = settledOf(progress)
  const width = Math.max(10, Math.min(50, columns - 30))
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>cdp replay</Text> <Text dimColor>{progress.id}</Text> → <Text bold>{progress.destination}</Text>
      </Text>
      <Text wrap="truncate-end">
        {counts.selected ? <Text color="cyan">{`${bar(done, counts.selected, width)} `}</Text> : null}
        {doneOf(done, counts.selected)} done
      </Text>
      <Text wrap="truncate-end">
        sent <Text color="green">{formatCount(counts.sent)}</Text> · failed <Text color={counts.failed > 0 ? 'red' : undefined}>{formatCount(counts.failed)}</Text> · skipped {formatCount(counts.skipped)} · corrupt{' '}
        <Text color={counts.corrupt > 0 ? 'yellow' : undefined}>{formatCount(counts.corrupt)}</Text>
      </Text>
      <Text wrap="truncate-end">
        {formatRate(progress.eventsPerSecond)} events/s · elapsed {formatDuration(progress.elapsedMs)}
        {progress.remainingMs !== null ? ` · left ~${formatDuration(progress.remainingMs)}` : ''}
      </Text>
      {progress.lastError ? (
        <Text wrap="truncate-end">
          <Text color="red">last error:</Text> {shortError(progress.lastError, Math.max(20, columns - 12))}
        </Text>
      ) : null}
      <Text dimColor wrap="truncate-end">
        Ctrl-C stops; `cdp replay --resume {progress.id}` goes on later.
      </Text>
    </Box>
  )
}
