/**
 * Cell text for a terminal grid: one line, measured in columns rather than UTF-16 units, so that
 * a payload with newlines, tabs or CJK never breaks the layout.
 */

// East Asian wide and fullwidth ranges, plus the common emoji blocks: two columns each.
const wideRanges: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
]

function columnsOf(codePoint: number): number {
  // Combining marks and zero-width characters take no column.
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || (codePoint >= 0x200b && codePoint <= 0x200f) || codePoint === 0xfe0f) return 0
  for (const [from, to] of wideRanges) if (codePoint >= from && codePoint <= to) return 2
  return 1
}

/** How many terminal columns the text takes. */
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text) width += columnsOf(char.codePointAt(0) ?? 0)
  return width
}

/** Control characters (newlines, tabs, escapes) would move the cursor: show them as spaces. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
}

/** Cut to at most `width` columns, marking a cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  const clean = oneLine(text)
  if (displayWidth(clean) <= width) return clean
  if (width <= 0) return ''
  let out = ''
  let used = 0
  for (const char of clean) {
    const columns = columnsOf(char.codePointAt(0) ?? 0)
    if (used + columns > width - 1) break
    out += char
    used += columns
  }
  return out + '…'
}

/** Exactly `width` columns: truncated or padded with spaces. */
export function fit(text: string, width: number): string {
  const cut = truncate(text, width)
  return cut + ' '.repeat(Math.max(0, width - displayWidth(cut)))
}

/** 1,234 — counts read faster grouped. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US')
}

const two = (n: number) => String(n).padStart(2, '0')

/** HH:MM:SS.mmm in local time: the clock the person at the terminal reads. */
export function formatTime(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '--:--:--.---'
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`
}
