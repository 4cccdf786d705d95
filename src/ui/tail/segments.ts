/**
 * A line of the tail UI as styled pieces, built by pure functions and drawn by <SegmentLine>.
 * The palette leaves out white, black, gray and blue on purpose: those vanish or glare on either a
 * dark or a light background, while these named colours, bold and dim read on both.
 */
export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'magenta'

export interface Segment {
  text: string
  color?: Colour
  bold?: boolean
  dim?: boolean
}

export type Line = readonly Segment[]

/** The text of a line without its styles (for measuring and for tests). */
export function lineText(line: Line): string {
  return line.map((segment) => segment.text).join('')
}
