import {beforeEach, describe, expect, it} from 'vitest'
import {TailModel} from '../../src/ui/tail/model.js'
import {delivery, resetSeq, streamEvent, twoViolations} from './tail-items.js'

const seqs = (model: TailModel) => model.view.rows.map((row) => row.event.seq)
const events = (count: number, options: Parameters<typeof streamEvent>[0] = {}) => Array.from({length: count}, () => streamEvent(options))

beforeEach(() => resetSeq())

describe('TailModel: events and marks', () => {
  it('lists events oldest first, follows the newest and counts violations', () => {
    // Given a list 5 rows tall
    const model = new TailModel({listHeight: 5})
    // When 8 events arrive, one with violations
    model.ingest([...events(7), streamEvent({violations: twoViolations})])
    // Then the window shows the newest 5, the newest selected
    expect(seqs(model)).toEqual([4, 5, 6, 7, 8])
    expect(model.view.selected?.event.seq).toBe(8)
    expect(model.view.selectedIndex).toBe(4)
    expect(model.view).toMatchObject({total: 8, matching: 8, withViolations: 1, following: true, position: 8})
  })

  it('keeps only the newest events up to its capacity', () => {
    const model = new TailModel({capacity: 100, listHeight: 10})
    const first = events(250)
    model.ingest(first.slice(0, 120))
    model.ingest(first.slice(120))
    expect(model.view.total).toBe(100)
    expect(model.view.evicted).toBe(150)
    // A delivery for an event let go has no row to mark, and is ignored.
    model.ingest([delivery(first[0], 'webhook', 'delivered')])
    expect(model.view.destinations).toEqual([])
    model.move('top')
    expect(model.view.selected?.event.seq).toBe(151)
  })

  it('merges deliveries into their event by seq, keeping the last error', () => {
    const model = new TailModel()
    const [order, signup] = [streamEvent(), streamEvent({name: 'Signed Up'})]
    model.ingest([order, signup, delivery(order, 'webhook', 'retrying', {attempts: 1, httpStatus: 500, error: 'HTTP 500 from https://hooks.example.com', nextAttemptAt: 1_700_000_000_000})])
    model.ingest([delivery(order, 'webhook', 'delivered', {attempts: 2, httpStatus: 200}), delivery(order, 'warehouse', 'pending'), delivery(streamEvent({seq: 999}), 'webhook', 'dead')])
    const row = model.view.rows.find((candidate) => candidate.event.seq === order.seq)!
    expect(row.deliveries.get('webhook')).toEqual({destination: 'webhook', status: 'delivered', attempts: 2, httpStatus: 200, lastError: 'HTTP 500 from https://hooks.example.com', nextAttemptAt: undefined})
    expect(row.deliveries.get('warehouse')?.status).toBe('pending')
    expect(model.view.rows.find((candidate) => candidate.event.seq === signup.seq)!.deliveries.size).toBe(0)
    expect(model.view.destinations).toEqual(['webhook', 'warehouse'])
  })

  it('takes the marks a history event carries, and keeps one row when an event comes again', () => {
    const model = new TailModel()
    const history = streamEvent({deliveries: [{destination: 'file', status: 'delivered', attempts: 1}]})
    model.ingest([history])
    expect(model.view.rows[0].deliveries.get('file')?.status).toBe('delivered')
    // After a reconnect the daemon sends its history again, with newer marks.
    model.ingest([{...history, deliveries: [{destination: 'file', status: 'delivered', attempts: 1}, {destination: 'webhook', status: 'dead', attempts: 5}]}])
    expect(model.view.total).toBe(1)
    expect([...model.view.rows[0].deliveries.keys()]).toEqual(['file', 'webhook'])
  })

  it('counts skipped items and ignores kinds it does not know', () => {
    const model = new TailModel()
    model.ingest([{kind: 'skipped', count: 120}, streamEvent(), {kind: 'skipped', count: 5}])
    model.ingest([{kind: 'function-result', seq: 1} as never])
    expect(model.view.skipped).toBe(125)
    expect(model.view.total).toBe(1)
  })
})

describe('TailModel: filters, pause and clear', () => {
  it('filters by text on name, type, user, source and message id, ignoring case', () => {
    const model = new TailModel()
    model.ingest([
      streamEvent({name: 'Order Completed'}),
      streamEvent({type: 'identify', name: null, userId: 'ada@example.com'}),
      streamEvent({type: 'page', name: 'Pricing', source: 'marketing-site'}),
      streamEvent({name: 'Signed Up', userId: null, anonymousId: 'anon-7f3'}),
    ])
    const match = (text: string) => {
      model.clearFilter()
      model.startFilter()
      model.typeFilter(text)
      model.applyFilter()
      return seqs(model)
    }
    expect(match('order')).toEqual([1])
    expect(match('IDENTIFY')).toEqual([2])
    expect(match('ada@')).toEqual([2])
    expect(match('marketing')).toEqual([3])
    expect(match('ANON-7')).toEqual([4])
    expect(match('msg-0002')).toEqual([2])
    expect(model.view).toMatchObject({filter: 'msg-0002', matching: 1, total: 4})
    model.clearFilter()
    expect(seqs(model)).toEqual([1, 2, 3, 4])
  })

  it('edits the filter as a draft until it is applied', () => {
    const model = new TailModel()
    model.ingest([streamEvent({name: 'Order Completed'}), streamEvent({name: 'Signed Up'})])
    model.startFilter()
    model.typeFilter('signx')
    model.eraseFilterChar()
    expect(model.view).toMatchObject({mode: 'filter', filterDraft: 'sign', filter: ''})
    expect(model.view.matching).toBe(2)
    model.applyFilter()
    expect(model.view).toMatchObject({mode: 'list', filter: 'sign', matching: 1})
  })

  it('shows only events with violations when asked', () => {
    const model = new TailModel({violationsOnly: true})
    model.ingest([streamEvent(), streamEvent({violations: twoViolations}), streamEvent({valid: null}), streamEvent({policy: 'blocked', violations: twoViolations})])
    expect(seqs(model)).toEqual([2, 4])
    model.toggleViolationsOnly()
    expect(seqs(model)).toEqual([1, 2, 3, 4])
  })

  it('holds new events while paused and shows them on resume; marks of shown events still update', () => {
    const model = new TailModel()
    const shown = streamEvent()
    model.ingest([shown])
    model.togglePause()
    const later = events(3)
    model.ingest([...later, delivery(shown, 'webhook', 'delivered'), delivery(later[0], 'webhook', 'pending')])
    expect(seqs(model)).toEqual([1])
    expect(model.view).toMatchObject({paused: true, held: 3, total: 1})
    expect(model.view.rows[0].deliveries.get('webhook')?.status).toBe('delivered')
    model.togglePause()
    expect(seqs(model)).toEqual([1, 2, 3, 4])
    expect(model.view).toMatchObject({paused: false, held: 0})
    expect(model.view.rows[1].deliveries.get('webhook')?.status).toBe('pending')
  })

  it('keeps memory bounded while paused', () => {
    const model = new TailModel({capacity: 50})
    model.togglePause()
    model.ingest(events(80))
    expect(model.view.held).toBe(50)
    model.togglePause()
    expect(model.view.total).toBe(50)
    expect(model.view.rows.at(-1)?.event.seq).toBe(80)
  })

  it('clears the events and the skipped count, not the filters', () => {
    const model = new TailModel({violationsOnly: true})
    model.ingest([...events(3), {kind: 'skipped', count: 9}])
    model.clear()
    expect(model.view).toMatchObject({total: 0, matching: 0, skipped: 0, selected: undefined, violationsOnly: true, following: true})
    model.ingest([streamEvent({violations: twoViolations})])
    expect(model.view.selected?.event.seq).toBe(4)
  })
})

describe('TailModel: selection and window', () => {
  it('moves with the keys and pages by the list height', () => {
    const model = new TailModel({listHeight: 4})
    model.ingest(events(10))
    const selected = () => model.view.selected?.event.seq
    model.move('up')
    expect(selected()).toBe(9)
    expect(model.view.following).toBe(false)
    model.move('pageUp')
    expect(selected()).toBe(5)
    expect(seqs(model)).toEqual([5, 6, 7, 8])
    model.move('top')
    expect(selected()).toBe(1)
    expect(seqs(model)).toEqual([1, 2, 3, 4])
    model.move('up')
    expect(selected()).toBe(1)
    model.move('pageDown')
    expect(selected()).toBe(5)
    expect(seqs(model)).toEqual([2, 3, 4, 5])
    model.move('bottom')
    expect(selected()).toBe(10)
    expect(model.view.following).toBe(true)
  })

  it('keeps the selected event in place when the user has moved up, and follows again at the bottom', () => {
    // Given the user moved up from the newest event
    const model = new TailModel({listHeight: 4})
    model.ingest(events(6))
    model.move('up')
    expect(seqs(model)).toEqual([3, 4, 5, 6])
    // When new events arrive
    model.ingest(events(5))
    // Then neither the selection nor the window moved
    expect(model.view.selected?.event.seq).toBe(5)
    expect(model.view.selectedIndex).toBe(2)
    expect(seqs(model)).toEqual([3, 4, 5, 6])
    // And moving down to the last one follows new events again
    for (let step = 0; step < 6; step++) model.move('down')
    expect(model.view.following).toBe(true)
    model.ingest(events(2))
    expect(model.view.selected?.event.seq).toBe(13)
    expect(seqs(model)).toEqual([10, 11, 12, 13])
  })

  it('hands the selection to the next event when the selected one is let go or filtered out', () => {
    const model = new TailModel({capacity: 5, listHeight: 3})
    model.ingest([streamEvent({name: 'A'}), streamEvent({name: 'B'}), streamEvent({name: 'A'}), streamEvent({name: 'B'})])
    model.move('top')
    model.ingest(events(2))
    expect(model.view.selected?.event.seq).toBe(2)
    model.startFilter()
    model.typeFilter('Order')
    model.applyFilter()
    expect(model.view.selected?.event.seq).toBe(5)
  })

  it('opens the selected event and scrolls its detail within its length', () => {
    const model = new TailModel({detailHeight: 10})
    model.ingest(events(3))
    model.move('up')
    model.openDetail()
    expect(model.view.mode).toBe('detail')
    expect(model.view.detail?.event.seq).toBe(2)
    model.scrollDetail('down', 25)
    model.scrollDetail('pageDown', 25)
    expect(model.view.detailScroll).toBe(11)
    model.scrollDetail('bottom', 25)
    expect(model.view.detailScroll).toBe(15)
    model.scrollDetail('top', 25)
    expect(model.view.detailScroll).toBe(0)
    model.scrollDetail('down', 8)
    expect(model.view.detailScroll).toBe(0)
    model.closeDetail()
    expect(model.view).toMatchObject({mode: 'list', detail: undefined})
  })

  it('does nothing on moves and opens in an empty list', () => {
    const model = new TailModel()
    model.move('down')
    model.openDetail()
    expect(model.view).toMatchObject({mode: 'list', selectedIndex: -1, position: 0})
  })
})
