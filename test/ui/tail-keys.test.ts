import {describe, expect, it} from 'vitest'
import {commandFor, type KeyPress} from '../../src/ui/tail/keys.js'

const none: KeyPress = {upArrow: false, downArrow: false, pageUp: false, pageDown: false, home: false, end: false, return: false, escape: false, ctrl: false, meta: false, backspace: false, delete: false, tab: false}
const key = (overrides: Partial<KeyPress>): KeyPress => ({...none, ...overrides})

describe('cdp tail key bindings', () => {
  it('reads the same letter by screen: a command in the list, text in the filter, back in the detail', () => {
    expect(commandFor('list', 'q', none)).toEqual({kind: 'quit'})
    expect(commandFor('detail', 'q', none)).toEqual({kind: 'back'})
    expect(commandFor('filter', 'q', none)).toEqual({kind: 'filter-type', text: 'q'})
    expect(commandFor('list', 'v', none)).toEqual({kind: 'toggle-violations'})
    expect(commandFor('filter', 'v', none)).toEqual({kind: 'filter-type', text: 'v'})
    expect(commandFor('list', ' ', none)).toEqual({kind: 'toggle-pause'})
    expect(commandFor('detail', ' ', none)).toEqual({kind: 'scroll', step: 'pageDown'})
  })

  it('moves with arrows, vi keys, pages and ends; scrolls with them in the detail', () => {
    expect(commandFor('list', '', key({upArrow: true}))).toEqual({kind: 'move', step: 'up'})
    expect(commandFor('list', 'j', none)).toEqual({kind: 'move', step: 'down'})
    expect(commandFor('list', '', key({pageDown: true}))).toEqual({kind: 'move', step: 'pageDown'})
    expect(commandFor('list', '', key({home: true}))).toEqual({kind: 'move', step: 'top'})
    expect(commandFor('list', 'G', none)).toEqual({kind: 'move', step: 'bottom'})
    expect(commandFor('detail', 'k', none)).toEqual({kind: 'scroll', step: 'up'})
    expect(commandFor('detail', '', key({end: true}))).toEqual({kind: 'scroll', step: 'bottom'})
  })

  it('opens, goes back, edits and applies the filter, and quits on Ctrl-C anywhere', () => {
    expect(commandFor('list', '', key({return: true}))).toEqual({kind: 'open'})
    expect(commandFor('detail', '', key({return: true}))).toEqual({kind: 'back'})
    expect(commandFor('detail', '', key({escape: true, meta: true}))).toEqual({kind: 'back'})
    expect(commandFor('list', '/', none)).toEqual({kind: 'filter-start'})
    expect(commandFor('filter', '', key({backspace: true}))).toEqual({kind: 'filter-erase'})
    expect(commandFor('filter', '', key({return: true}))).toEqual({kind: 'filter-apply'})
    expect(commandFor('filter', '', key({escape: true, meta: true}))).toEqual({kind: 'filter-clear'})
    expect(commandFor('filter', '', key({upArrow: true}))).toBeUndefined()
    for (const mode of ['list', 'detail', 'filter'] as const) expect(commandFor(mode, 'c', key({ctrl: true}))).toEqual({kind: 'quit'})
    expect(commandFor('list', 'x', none)).toBeUndefined()
  })
})
