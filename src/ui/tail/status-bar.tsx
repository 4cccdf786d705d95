import {Box} from 'ink'
import type {ConnectionState} from '../../stream/feed.js'
import type {TailView} from './model.js'
import {SegmentLine} from './segment-line.js'
import {connectionLine, countsLine} from './status-lines.js'

/** The two lines on top: the connection to the daemon, then the counts and active modes. */
export function StatusBar({title, connection, view}: {title: string; connection: ConnectionState | undefined; view: TailView}) {
  return (
    <Box flexDirection="column">
      <SegmentLine line={connectionLine(title, connection)} />
      <SegmentLine line={countsLine(view)} />
    </Box>
  )
}
