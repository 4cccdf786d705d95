import {stripVTControlCharacters as plain} from 'node:util'
import stringWidth from 'string-width'
import {describe, expect, it} from 'vitest'
import type {EventRow} from '../../src/services/views.js'
import {renderEventsTable} from '../../src/ui/events-table.js'
import {cutToWidth, formatTable} from '../../src/ui/table.js'

/** The terminal column at which `text` starts in `line` (string-width of what comes before it). */
function columnOf(line: string, text: string): number {
  const at = line.indexOf(text)
  expect(at, `"${text}" in "${line}"`).toBeGreaterThanOrEqual(0)
  return stringWidth(line.slice(0, at))
}

const event = (row: Partial<EventRow>): EventRow => ({
  timestamp: '2024-05-01T12:00:00.000Z',
  plan: 'follows',
  type: 'track',
  name: 'Order Completed',
  userId: 'user-1',
  anonymousId: null,
  source: 'web',
  messageId: 'm-1',
  ...row,
})

describe('cdp events table', () => {
  it('keeps columns aligned with CJK, emoji and combining characters in event names and users', () => {
    // Given events whose names and users take more or fewer terminal columns than characters
    const rows = [
      event({}),
      event({name: '注文完了', userId: '山田太郎', messageId: 'm-2', plan: 'breaks'}),
      event({name: 'Añadido al carrito 🛒', userId: '👩‍👩‍👧 family', messageId: 'm-3'}),
      event({name: 'Cafe\u0301 visited', userId: 'Zoe\u0308', messageId: 'm-4', plan: 'no-plan'}),
      event({name: '注文完了'.repeat(5), userId: null, anonymousId: 'ゲスト'.repeat(5), messageId: 'm-5'}),
    ]

    // When the table is rendered
    const lines = plain(renderEventsTable(rows)).split('\n')

    // Then each line is as laid out, wide names cut to their column with an ellipsis
    expect(lines).toEqual([
      'TIMESTAMP                PLAN TYPE     EVENT / NAME                 USER                     SOURCE       MESSAGE ID',
      '2024-05-01T12:00:00.000Z ok   track    Order Completed              user-1                   web          m-1',
      '2024-05-01T12:00:00.000Z BAD  track    注文完了                     山田太郎                 web          m-2',
      '2024-05-01T12:00:00.000Z ok   track    Añadido al carrito 🛒        👩‍👩‍👧 family                web          m-3',
      '2024-05-01T12:00:00.000Z -    track    Cafe\u0301 visited                 Zoe\u0308                      web          m-4',
      '2024-05-01T12:00:00.000Z ok   track    注文完了注文完了注文完了注…  anon:ゲストゲストゲスト… web          m-5',
      '5 events',
    ])
    // And every column starts at the header's terminal column on every line
    const sources = ['web', 'web', 'web', 'web', 'web']
    const users = ['user-1', '山田太郎', '👩‍👩‍👧 family', 'Zoe\u0308', 'anon:']
    for (const [i, line] of lines.slice(1, 6).entries()) {
      expect(columnOf(line, users[i])).toBe(columnOf(lines[0], 'USER'))
      expect(columnOf(line, ` ${sources[i]} `) + 1).toBe(columnOf(lines[0], 'SOURCE'))
      expect(columnOf(line, `m-${i + 1}`)).toBe(columnOf(lines[0], 'MESSAGE ID'))
    }
  })

  it('escapes control characters before measuring, so an escaped name is cut to its column too', () => {
    const lines = plain(renderEventsTable([event({name: `Order\u001b]0;pwned\u0007${'x'.repeat(30)}`})])).split('\n')
    expect(lines[1]).toBe('2024-05-01T12:00:00.000Z ok   track    Order\\e]0;pwned\\x07xxxxxxxx… user-1                   web          m-1')
    expect(columnOf(lines[1], 'user-1')).toBe(columnOf(lines[0], 'USER'))
  })
})

describe('table helper', () => {
  it('pads to a width, right-aligns, and lets a column that does not cut push the row right', () => {
    const columns = [
      {header: 'NAME', width: 6, cell: (row: {name: string; count: number}) => row.name},
      {header: 'COUNT', width: 5, align: 'right' as const, cell: (row: {name: string; count: number}) => String(row.count)},
    ]
    expect(formatTable(columns, [{name: '日本', count: 3}, {name: 'longer name', count: 12}], {indent: '  '})).toEqual([
      '  NAME   COUNT',
      '  日本       3',
      '  longer name    12',
    ])
  })

  it('cuts wide text to at most the width, even where a wide character straddles it', () => {
    for (let width = 1; width <= 12; width++) {
      for (const text of ['注文完了注文完了', 'a注文完了注文', '🛒🛒🛒🛒🛒🛒🛒']) {
        const cut = cutToWidth(text, width)
        expect(stringWidth(cut), `${text} to ${width}: ${cut}`).toBeLessThanOrEqual(width)
        expect(stringWidth(cut), `${text} to ${width}: ${cut}`).toBeGreaterThanOrEqual(width - 1)
      }
    }
    expect(cutToWidth('注文完了', 4)).toBe('注…')
    expect(cutToWidth('unicorns', 4)).toBe('uni…')
    expect(cutToWidth('short', 8)).toBe('short')
  })
})
