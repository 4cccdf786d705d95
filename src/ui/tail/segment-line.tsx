import {Text} from 'ink'
import type {Line} from './segments.js'
import {oneLine} from './text.js'

/** One terminal line: truncated at the edge, never wrapped, so the layout keeps its rows. */
export function SegmentLine({line, inverse = false}: {line: Line; inverse?: boolean}) {
  // An empty Text would take no row; a space keeps the blank line.
  if (line.length === 0) return <Text> </Text>
  return (
    <Text wrap="truncate-end" inverse={inverse}>
      {line.map((segment, index) => (
        <Text key={index} color={segment.color} bold={segment.bold} dimColor={segment.dim}>
          {oneLine(segment.text)}
        </Text>
      ))}
    </Text>
  )
}
