import {render} from 'ink-testing-library'
import {stripVTControlCharacters as plain} from 'node:util'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {FunctionRunRecord} from '../../src/functions/types.js'
import type {StreamEvent, StreamFunctionRun} from '../../src/stream/types.js'
import {formatTailLine} from '../../src/ui/tail-lines.js'
import {detailLines} from '../../src/ui/tail/detail-lines.js'
import {listColumns, listHeader, listRow} from '../../src/ui/tail/list-lines.js'
import {TailModel} from '../../src/ui/tail/model.js'
import {TailApp} from '../../src/ui/tail/render.js'
import type {Line} from '../../src/ui/tail/segments.js'
import {formatTime} from '../../src/ui/tail/text.js'
import {waitFor} from '../helpers/wait.js'
import {FakeFeed, resetSeq, streamEvent} from './tail-items.js'

beforeEach(() => resetSeq())

function fn(event: StreamEvent | string, extra: Partial<FunctionRunRecord> = {}): StreamFunctionRun {
  const messageId = typeof event === 'string' ? event : event.messageId
  return {
    kind: 'function',
    run: {at: '2025-05-17T09:30:00.250Z', function: 'hash-email', kind: 'insert', stage: 'source', target: 'web', messageId, result: 'changed', console: [], ms: 0.6, ...extra},
  }
}

const text = (line: Line) => line.map((segment) => segment.text).join('')

describe('cdp tail: function records', () => {
  it('go with their event by messageId, whether they come before it (source) or after (destination)', () => {
    // Given a tail with no function seen yet
    const model = new TailModel()
    expect(model.view.functions).toBe(false)
    const order = streamEvent()
    const other = streamEvent({name: 'Signed Up'})

    // When a source function's record comes before its event, a destination function's after,
    // and a drop of an event that never comes
    model.ingest([fn(order), order, other])
    model.ingest([fn(order, {stage: 'destination', target: 'crm', kind: 'destination', result: 'error', errorClass: 'RetryError', message: 'later'}), fn('dropped-1', {result: 'dropped'})])

    // Then the event has both, the other none, and the list shows the function column
    expect(model.view.rows.map((row) => row.functions.map((f) => `${f.stage}:${f.result}`))).toEqual([['source:changed', 'destination:error'], []])
    expect(model.view.functions).toBe(true)
    expect(model.view.total).toBe(2)
  })

  it('mark the list: ✗ a function failed, ∅ one dropped it, ƒ one changed it', () => {
    // Given three events with function records, and one without
    const model = new TailModel()
    const [failed, dropped, changed, plainEvent] = [streamEvent(), streamEvent(), streamEvent(), streamEvent()]
    model.ingest([failed, dropped, changed, plainEvent, fn(failed), fn(failed, {result: 'error'}), fn(dropped, {stage: 'destination', target: 'crm', result: 'dropped'}), fn(changed), fn(plainEvent, {result: 'unchanged'})])

    // When the list is laid out at 80 columns
    const columns = listColumns(80, [], model.view.functions)
    const lines = [listHeader(columns), ...model.view.rows.map((row) => listRow(row, columns, [], false))].map(text)

    // Then the FN column has the marks, and the widths add up to 80
    expect(lines.map((line) => line.slice(0, 24))).toEqual(['  TIME         PLAN FN T', `  ${formatTime(failed.receivedAt)} ✓    ✗  t`, `  ${formatTime(dropped.receivedAt)} ✓    ∅  t`, `  ${formatTime(changed.receivedAt)} ✓    ƒ  t`, `  ${formatTime(plainEvent.receivedAt)} ✓       t`])
    expect(lines[1].length).toBe(lines[0].length)
    expect(2 + columns.time + 1 + columns.plan + 1 + columns.functions + 1 + columns.type + 1 + columns.name + 1 + columns.user + 1 + columns.source).toBe(80)
  })

  it('show in the event’s detail: each function, where it ran, its result, error and console lines', () => {
    // Given an event a source function changed (logging twice) and a destination function failed on
    const model = new TailModel()
    const order = streamEvent()
    model.ingest([
      fn(order, {console: [{level: 'log', message: 'hashing jane@example.com'}, {level: 'warn', message: 'no phone'}]}),
      order,
      fn(order, {function: 'crm', kind: 'destination', stage: 'destination', target: 'crm', result: 'error', errorClass: 'RetryError', message: 'the CRM answered 503', ms: 31.2}),
    ])

    // When its detail is laid out
    const lines = detailLines(model.view.rows[0]).map(text)

    // Then a Functions section comes before the deliveries
    const start = lines.indexOf('Functions (2)')
    expect(lines.slice(start, start + 6)).toEqual([
      'Functions (2)',
      '  ƒ hash-email  source web  changed  0.6 ms',
      '      log   hashing jane@example.com',
      '      warn  no phone',
      '  ✗ crm         destination crm  error  RetryError: the CRM answered 503  31 ms',
      '',
    ])
    expect(lines[start + 6]).toBe('Deliveries')
  })

  it('print one line each when stdout is not a terminal, escaped', () => {
    // Given a destination function's error with a console line holding an escape sequence
    const item = fn('msg-0001', {function: 'crm', stage: 'destination', target: 'crm', result: 'error', errorClass: 'RetryError', message: 'try\u001b[2J later', console: [{level: 'error', message: 'status 503\nretry'}], ms: 12})

    // Then it prints as a "fn" line with its console line under it
    expect(plain(formatTailLine(item))).toBe('09:30:00.250  fn crm  destination crm  error RetryError: try\\e[2J later  msg-0001  12 ms\n    error  status 503\\nretry')
    expect(plain(formatTailLine(fn('msg-0002')))).toBe('09:30:00.250  fn hash-email  source web  changed  msg-0002  0.6 ms')
  })
})

describe('cdp tail: function marks in the live view', () => {
  const mounted: ReturnType<typeof render>[] = []
  afterEach(() => {
    for (const app of mounted.splice(0)) app.unmount()
  })

  it('shows the FN column once a function record arrives, and the event’s functions in its detail', async () => {
    // Given the live view at 80 columns
    const feed = new FakeFeed()
    const app = render(<TailApp feed={feed} flushIntervalMs={10} />)
    mounted.push(app)
    Object.defineProperty(app.stdout, 'columns', {value: 80, configurable: true})
    Object.defineProperty(app.stdout, 'rows', {value: 24, configurable: true})
    app.stdout.emit('resize')
    const frame = () => plain(app.lastFrame() ?? '')

    // When an event arrives with a destination function's error
    const order = streamEvent()
    feed.push([order, fn(order, {function: 'crm', stage: 'destination', target: 'crm', result: 'error', errorClass: 'ValidationError', message: 'email is required'})])

    // Then the list has the FN column with ✗
    await waitFor('the FN column', () => frame().includes('PLAN FN TYPE'), 2000, 5)
    expect(frame()).toContain(`› ${formatTime(order.receivedAt)} ✓    ✗  track`)

    // And Enter opens the detail with the function's error
    app.stdin.write('\r')
    await waitFor('the detail', () => frame().includes('Functions (1)'), 2000, 5)
    expect(frame()).toContain('  ✗ crm  destination crm  error  ValidationError: email is required  0.6 ms')
  })
})
