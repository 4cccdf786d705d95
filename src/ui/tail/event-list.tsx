import {Box} from 'ink'
import {listColumns, listHeader, listRow} from './list-lines.js'
import type {TailView} from './model.js'
import {SegmentLine} from './segment-line.js'
import type {Line} from './segments.js'

function emptyLine(view: TailView): Line {
  if (view.total > 0) return [{text: '  No event matches. esc clears the filter, v toggles violations only.', dim: true}]
  if (view.paused && view.held > 0) return [{text: '  Paused: space shows the events that arrived.', dim: true}]
  return [{text: '  Waiting for events: send some to cdp dev and they show here as they arrive.', dim: true}]
}

/** The live list: a header and one line per event, in a box of fixed height. */
export function EventList({view, width}: {view: TailView; width: number}) {
  const columns = listColumns(width, view.destinations, view.functions)
  return (
    <Box flexDirection="column" height={view.listHeight + 1}>
      <SegmentLine line={listHeader(columns)} />
      {view.rows.length === 0 ? (
        <SegmentLine line={emptyLine(view)} />
      ) : (
        view.rows.map((row, index) => (
          <SegmentLine key={row.event.seq} line={listRow(row, columns, view.destinations, index === view.selectedIndex)} inverse={index === view.selectedIndex} />
        ))
      )}
    </Box>
  )
}
