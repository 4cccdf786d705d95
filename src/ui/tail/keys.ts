import type {Key} from 'ink'
import type {Movement, TailMode} from './model.js'

/**
 * The key bindings of `cdp tail`, in one place with the help line that lists them, so the two
 * cannot drift apart.
 */

export type TailCommand =
  | {kind: 'move'; step: Movement}
  | {kind: 'scroll'; step: Movement}
  | {kind: 'open'}
  | {kind: 'back'}
  | {kind: 'quit'}
  | {kind: 'filter-start'}
  | {kind: 'filter-type'; text: string}
  | {kind: 'filter-erase'}
  | {kind: 'filter-apply'}
  | {kind: 'filter-clear'}
  | {kind: 'toggle-violations'}
  | {kind: 'toggle-pause'}
  | {kind: 'clear'}

/** The parts of ink's Key the bindings read. */
export type KeyPress = Pick<Key, 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'ctrl' | 'meta' | 'backspace' | 'delete' | 'tab'>

function movementOf(input: string, key: KeyPress): Movement | undefined {
  if (key.upArrow || input === 'k') return 'up'
  if (key.downArrow || input === 'j') return 'down'
  if (key.pageUp) return 'pageUp'
  if (key.pageDown) return 'pageDown'
  if (key.home || input === 'g') return 'top'
  if (key.end || input === 'G') return 'bottom'
  return undefined
}

const printable = /^[^\u0000-\u001f\u007f-\u009f]+$/

/** What a key press means on the given screen; undefined when it means nothing there. */
export function commandFor(mode: TailMode, input: string, key: KeyPress): TailCommand | undefined {
  // ink passes Ctrl-C through only when it does not handle it itself (tests): it still quits.
  if (key.ctrl && input === 'c') return {kind: 'quit'}

  if (mode === 'filter') {
    if (key.return) return {kind: 'filter-apply'}
    if (key.escape) return {kind: 'filter-clear'}
    if (key.backspace || key.delete) return {kind: 'filter-erase'}
    if (!key.ctrl && !key.meta && !key.tab && printable.test(input)) return {kind: 'filter-type', text: input}
    return undefined
  }

  if (mode === 'detail') {
    if (key.escape || key.return || input === 'q') return {kind: 'back'}
    if (input === ' ') return {kind: 'scroll', step: 'pageDown'}
    const step = movementOf(input, key)
    return step === undefined ? undefined : {kind: 'scroll', step}
  }

  const step = movementOf(input, key)
  if (step !== undefined) return {kind: 'move', step}
  if (key.return) return {kind: 'open'}
  if (key.escape) return {kind: 'filter-clear'}
  switch (input) {
    case '/':
      return {kind: 'filter-start'}
    case 'v':
      return {kind: 'toggle-violations'}
    case ' ':
      return {kind: 'toggle-pause'}
    case 'c':
      return {kind: 'clear'}
    case 'q':
      return {kind: 'quit'}
    default:
      return undefined
  }
}

export interface HelpEntry {
  keys: string
  label: string
}

/** The list's keys, most needed first: a narrow help line keeps the first ones that fit. */
export function listHelp(state: {paused: boolean; violationsOnly: boolean; filter: string}): HelpEntry[] {
  const entries: HelpEntry[] = [
    {keys: '↑↓', label: 'move'},
    {keys: 'enter', label: 'detail'},
    {keys: '/', label: 'filter'},
    {keys: 'v', label: state.violationsOnly ? 'all events' : 'violations'},
    {keys: 'space', label: state.paused ? 'resume' : 'pause'},
    {keys: 'c', label: 'clear'},
    {keys: 'q', label: 'quit'},
  ]
  if (state.filter !== '') entries.push({keys: 'esc', label: 'clear filter'})
  entries.push({keys: 'PgUp/PgDn', label: 'page'}, {keys: 'g/G', label: 'first/last'})
  return entries
}

export const detailHelp: readonly HelpEntry[] = [
  {keys: 'esc', label: 'back'},
  {keys: '↑↓', label: 'scroll'},
  {keys: 'PgUp/PgDn', label: 'page'},
  {keys: 'g/G', label: 'top/bottom'},
  {keys: 'q', label: 'back'},
]

export const filterHelp: readonly HelpEntry[] = [
  {keys: 'enter', label: 'apply'},
  {keys: 'esc', label: 'clear'},
]
