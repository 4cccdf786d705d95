import cliTruncate from 'cli-truncate'
import stringWidth from 'string-width'
import {printable} from '../printable.js'

/**
 * Columns of text for people, measured in terminal columns (string-width) rather than UTF-16
 * units: a CJK character or an emoji takes two columns, a combining accent none, so rows with
 * them stay aligned. Every cell is data: it is escaped (printable) before it is measured, so what
 * is measured is what the terminal shows.
 */

/** How one column lays out its cells. */
export interface ColumnLayout {
  /** At least this many columns: narrower text is padded. None: the cell is as wide as its text. */
  width?: number
  /** Text wider than `width` is cut, with an ellipsis, to exactly `width`; else it pushes the rest of the row right. */
  cut?: boolean
  align?: 'left' | 'right'
}

/** A cell's text and, optionally, its colour (applied to the text, not the padding). */
export type Cell = string | {text: string; style: (text: string) => string}

/** A column of a table of rows: its layout, header and cell. */
export interface TableColumn<Row> extends ColumnLayout {
  header?: string
  cell: (row: Row) => Cell
}

export interface TableOptions {
  /** Before each line (headers included). */
  indent?: string
  /** Between cells; one space unless said. */
  gap?: string
  /** The header line's colour. No header line when no column has a header. */
  headerStyle?: (line: string) => string
}

// Printable ASCII takes one column a character: measured and cut without the libraries, which
// segment graphemes and cost a hundred times more (cdp events prints up to 100,000 rows).
const narrowAscii = /^[\x20-\x7e]*$/

/** How many terminal columns the text takes. */
export function textWidth(text: string): number {
  return narrowAscii.test(text) ? text.length : stringWidth(text)
}

interface Fitted {
  text: string
  columns: number
}

// Other text is measured once per width: a table repeats the same event names, types and sources.
const fittedCache = new Map<string, Fitted>()
const fittedCacheSize = 10_000

/** Text cut to at most `width` columns (an ellipsis at the end), with the columns it takes. */
function cutAndMeasure(text: string, width: number): Fitted {
  if (narrowAscii.test(text)) {
    return text.length <= width ? {text, columns: text.length} : {text: `${text.slice(0, Math.max(0, width - 1))}…`, columns: Math.max(1, width)}
  }
  const key = `${width}\u0000${text}`
  let fitted = fittedCache.get(key)
  if (fitted === undefined) {
    if (fittedCache.size >= fittedCacheSize) fittedCache.clear()
    fitted = cutWide(text, width)
    fittedCache.set(key, fitted)
  }
  return fitted
}

function cutWide(text: string, width: number): Fitted {
  const columns = stringWidth(text)
  if (columns <= width) return {text, columns}
  const cut = cliTruncate(text, width)
  const cutColumns = stringWidth(cut)
  if (cutColumns <= width) return {text: cut, columns: cutColumns}
  // cli-truncate 5.2 keeps a wide character that straddles the limit (one column over,
  // sindresorhus/cli-truncate#28): cut one column shorter then.
  const shorter = cliTruncate(text, width - 1)
  return {text: shorter, columns: stringWidth(shorter)}
}

/** Cut to at most `width` columns with an ellipsis at the end. */
export function cutToWidth(text: string, width: number): string {
  return cutAndMeasure(text, width).text
}

/** One cell: escaped, cut if its column cuts, coloured, then padded to the column's width. */
export function formatCell(cell: Cell, layout: ColumnLayout = {}): string {
  const raw = typeof cell === 'string' ? cell : cell.text
  const style = typeof cell === 'string' ? undefined : cell.style
  let text = printable(raw)
  let padding = ''
  if (layout.width !== undefined) {
    const fitted = layout.cut ? cutAndMeasure(text, layout.width) : {text, columns: textWidth(text)}
    text = fitted.text
    padding = ' '.repeat(Math.max(0, layout.width - fitted.columns))
  }
  const shown = style ? style(text) : text
  return layout.align === 'right' ? padding + shown : shown + padding
}

/** One row of cells, each laid out by the column at its place. */
export function formatRow(layouts: readonly ColumnLayout[], cells: readonly Cell[], options: TableOptions = {}): string {
  return (options.indent ?? '') + cells.map((cell, i) => formatCell(cell, layouts[i])).join(options.gap ?? ' ')
}

/** A header line (when a column has a header), then one line per row. */
export function formatTable<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[], options: TableOptions = {}): string[] {
  const lines = rows.map((row) =>
    formatRow(
      columns,
      columns.map((column) => column.cell(row)),
      options,
    ),
  )
  if (!columns.some((column) => column.header !== undefined)) return lines
  const header = formatRow(
    columns,
    columns.map((column) => column.header ?? ''),
    options,
  )
  return [options.headerStyle ? options.headerStyle(header) : header, ...lines]
}
