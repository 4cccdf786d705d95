import type {HelpEntry} from './keys.js'
import type {Line, Segment} from './segments.js'
import {displayWidth} from './text.js'

/** The keys that fit in `width` columns, in the order given (most needed first). */
export function helpLine(entries: readonly HelpEntry[], width: number): Line {
  const line: Segment[] = []
  let used = 0
  for (const entry of entries) {
    const gap = line.length === 0 ? 0 : 2
    const size = gap + displayWidth(entry.keys) + 1 + displayWidth(entry.label)
    if (used + size > width) break
    if (gap > 0) line.push({text: '  '})
    line.push({text: entry.keys, bold: true, color: 'cyan'}, {text: ` ${entry.label}`})
    used += size
  }
  return line
}

/** The prompt shown in place of the help while a filter is typed. */
export function filterPrompt(draft: string, hints: readonly HelpEntry[], width: number): Line {
  // A draft longer than the line shows its end, where the typing happens.
  const room = Math.max(1, width - 10)
  let shown = draft
  while (displayWidth(shown) > room) shown = Array.from(shown).slice(1).join('')
  if (shown !== draft) shown = '…' + Array.from(shown).slice(1).join('')
  const prompt: Segment[] = [{text: 'filter ', bold: true}, {text: '/', color: 'cyan', bold: true}, {text: shown}, {text: '▏', color: 'cyan'}]
  const used = displayWidth('filter /▏' + shown) + 3
  return [...prompt, {text: '   '}, ...helpLine(hints, Math.max(0, width - used))]
}
