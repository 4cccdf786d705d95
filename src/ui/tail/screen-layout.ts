/**
 * How the terminal's rows are shared. The frame is one row shorter than the terminal: a frame as
 * tall as the terminal makes ink clear the whole screen on every render (a flicker at 10 frames a
 * second), while a shorter one is redrawn line by line.
 */
export interface ScreenLayout {
  columns: number
  /** Events the list shows at once, below its column header. */
  listHeight: number
  /** Lines of the detail shown at once. */
  detailHeight: number
}

const statusLines = 2
const helpLines = 1
const listHeaderLines = 1

export function screenLayout(columns: number, rows: number): ScreenLayout {
  const frame = rows - 1
  return {
    columns,
    listHeight: Math.max(1, frame - statusLines - listHeaderLines - helpLines),
    detailHeight: Math.max(1, frame - statusLines - helpLines),
  }
}
