import {detailHelp, filterHelp, listHelp} from './keys.js'
import {filterPrompt, helpLine} from './help-lines.js'
import type {TailView} from './model.js'
import {SegmentLine} from './segment-line.js'
import type {Line} from './segments.js'

function detailLine(width: number, scroll: number, height: number, total: number): Line {
  if (total <= height) return helpLine(detailHelp, width)
  const position = `${scroll + 1}–${Math.min(total, scroll + height)} of ${total}  `
  return [{text: position, dim: true}, ...helpLine(detailHelp, width - position.length)]
}

/** The bottom line: the keys of the current screen, or the filter prompt while typing one. */
export function HelpBar({view, width, detailLineCount}: {view: TailView; width: number; detailLineCount: number}) {
  switch (view.mode) {
    case 'filter':
      return <SegmentLine line={filterPrompt(view.filterDraft, filterHelp, width)} />
    case 'detail':
      return <SegmentLine line={detailLine(width, view.detailScroll, view.detailHeight, detailLineCount)} />
    case 'list':
      return <SegmentLine line={helpLine(listHelp(view), width)} />
  }
}
