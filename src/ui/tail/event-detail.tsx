import {Box} from 'ink'
import {SegmentLine} from './segment-line.js'
import type {Line} from './segments.js'

/** The window of the detail's lines that fits, from `scroll` on. */
export function EventDetail({lines, scroll, height}: {lines: readonly Line[]; scroll: number; height: number}) {
  const first = Math.max(0, Math.min(scroll, lines.length - height))
  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(first, first + height).map((line, index) => (
        <SegmentLine key={first + index} line={line} />
      ))}
    </Box>
  )
}
