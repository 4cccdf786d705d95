import {render} from 'ink-testing-library'
import {stripVTControlCharacters} from 'node:util'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {TailApp, type TailAppProps} from '../../src/ui/tail/render.js'
import {formatTime} from '../../src/ui/tail/text.js'
import {delivery, FakeFeed, resetSeq, streamEvent, twoViolations} from './tail-items.js'
import {waitFor} from '../helpers/wait.js'
import type {StreamItem} from '../../src/stream/types.js'

const keys = {up: '\u001B[A', down: '\u001B[B', enter: '\r', escape: '\u001B', backspace: '\u007F', pageDown: '\u001B[6~'}

type App = ReturnType<typeof render>
const mounted: App[] = []

/** Renders at a terminal size: ink-testing-library's stdout is 100 columns, so resize it as a terminal would. */
function renderTail(props: Partial<Omit<TailAppProps, 'feed'>> & {feed: FakeFeed}, size = {columns: 80, rows: 24}): App {
  const app = render(<TailApp flushIntervalMs={10} {...props} />)
  mounted.push(app)
  resize(app, size)
  return app
}

function resize(app: App, size: {columns: number; rows: number}): void {
  Object.defineProperty(app.stdout, 'columns', {value: size.columns, configurable: true})
  Object.defineProperty(app.stdout, 'rows', {value: size.rows, configurable: true})
  app.stdout.emit('resize')
}

const frame = (app: App) => stripVTControlCharacters(app.lastFrame() ?? '')
const frameLines = (app: App) => frame(app).split('\n')

/** Waits until the frame satisfies the check (the app draws on a timer), or fails with the frame. */
async function until(app: App, check: (text: string) => boolean): Promise<string> {
  return waitFor('the frame to match', () => {
    const text = frame(app)
    if (!check(text)) throw new Error(`the frame is:\n${text}`)
    return text
  }, 2000, 5)
}

/**
 * Types keys one at a time, each once its frame is drawn: ink reads each write as one key press,
 * and React draws the result on a later turn (tens of ms on a busy machine), not during write().
 */
async function press(app: App, ...sequence: string[]): Promise<void> {
  for (const key of sequence) {
    const drawn = app.frames.length
    app.stdin.write(key)
    await waitFor(`a frame drawn after the key ${JSON.stringify(key)}`, () => app.frames.length !== drawn, 2000, 2)
  }
}

const url = 'http://127.0.0.1:4000/api/stream'

/** A valid track delivered to two destinations, one with violations, an identify and a page. */
function realisticItems() {
  const order = streamEvent({name: 'Order Completed', properties: {revenue: 25.5, currency: 'EUR'}})
  const broken = streamEvent({name: 'Checkout Started', violations: twoViolations, properties: {revenue: '12.50'}})
  const identify = streamEvent({type: 'identify', name: null, userId: 'ada@example.com'})
  const page = streamEvent({type: 'page', name: 'Pricing', userId: null, anonymousId: '0c9f7e4e-2a6b-4f0e'})
  const items: StreamItem[] = [
    order,
    broken,
    identify,
    page,
    delivery(order, 'webhook', 'delivered', {httpStatus: 200}),
    delivery(order, 'warehouse', 'pending'),
    delivery(broken, 'webhook', 'retrying', {attempts: 2, httpStatus: 500, error: 'HTTP 500 from https://hooks.example.com/cdp'}),
    delivery(broken, 'warehouse', 'dead', {attempts: 5, error: 'relation "checkout_started" does not exist'}),
  ]
  return {order, broken, identify, page, items}
}

async function startWithEvents(props: Partial<Omit<TailAppProps, 'feed'>> = {}, size?: {columns: number; rows: number}) {
  const feed = new FakeFeed()
  const app = renderTail({feed, ...props}, size)
  const data = realisticItems()
  feed.connection({state: 'connected', url})
  feed.push(data.items)
  await until(app, (text) => text.includes('Pricing'))
  return {feed, app, ...data}
}

beforeEach(() => resetSeq())
afterEach(() => {
  for (const app of mounted.splice(0)) app.unmount()
})

describe('cdp tail: the list', () => {
  it('shows one line per event with its plan and delivery marks, within 80×24', async () => {
    const {app} = await startWithEvents()
    const lines = frameLines(app)
    expect(lines[0]).toContain(`● connected ${url}`)
    expect(lines[1]).toContain('4 events · 1 with violations')
    expect(lines[2]).toMatch(/TIME +PLAN TYPE +EVENT \/ NAME +USER +SOURCE +we wa$/)
    const row = (text: string) => lines.find((line) => line.includes(text)) ?? ''
    expect(row('Order Completed')).toMatch(/\d\d:\d\d:\d\d\.\d{3} ✓ +track +Order Completed +user-42 +web +✓  …$/)
    expect(row('Checkout Started')).toMatch(/✗2 +track +Checkout Started +user-42 +web +↻  ✗$/)
    // Long cells are cut, not wrapped.
    expect(row('identify')).toContain('ada@example.c… web')
    // The newest event is selected, following the stream.
    expect(row('Pricing')).toMatch(/^› .*page +Pricing +anon:0c9f7e4e… +web/)
    expect(lines.at(-1)).toBe('↑↓ move  enter detail  / filter  v violations  space pause  c clear  q quit')
    expect(lines.length).toBeLessThanOrEqual(23)
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80)
  })

  it('keeps every line within the width and grows with the window', async () => {
    const {app} = await startWithEvents({}, {columns: 60, rows: 12})
    for (const line of frameLines(app)) expect([...line].length).toBeLessThanOrEqual(60)
    expect(frameLines(app).length).toBeLessThanOrEqual(11)

    resize(app, {columns: 160, rows: 40})
    const wide = await until(app, (text) => text.includes('MESSAGE ID'))
    // Wider: names in full, the message id, destinations spelled out.
    expect(wide).toContain('anon:0c9f7e4e-2a6b-4f0e')
    expect(wide).toMatch(/msg-0002 +↻       ✗/)
    expect(wide).toMatch(/MESSAGE ID +webhook warehouse$/m)
    for (const line of frameLines(app)) expect([...line].length).toBeLessThanOrEqual(160)
    expect(frameLines(app).length).toBe(39)
  })

  it('shows only the events with violations on v, and all again on v', async () => {
    const {app} = await startWithEvents()
    await press(app, 'v')
    const text = await until(app, (frame) => frame.includes('violations only'))
    expect(text).toContain('1 of 4 events')
    expect(text).toContain('Checkout Started')
    expect(text).not.toContain('Order Completed')
    expect(text).not.toContain('Pricing')
    await press(app, 'v')
    expect(await until(app, (frame) => frame.includes('Pricing'))).toContain('Order Completed')
  })

  it('filters by text typed after / and applied with Enter; Esc clears it', async () => {
    const {app} = await startWithEvents()
    await press(app, '/', 'a', 'd', 'x')
    expect(frame(app)).toContain('filter /adx▏')
    await press(app, keys.backspace, 'a', '@')
    // Typing edits the draft; the list changes only on Enter.
    expect(frame(app)).toContain('filter /ada@▏   enter apply  esc clear')
    expect(frame(app)).toContain('Order Completed')
    await press(app, keys.enter)
    const filtered = frame(app)
    expect(filtered).toContain('filter "ada@"')
    expect(filtered).toContain('1 of 4 events')
    expect(filtered).toContain('ada@example.c…')
    expect(filtered).not.toContain('Order Completed')
    // Keys are commands again, not text: v filters further.
    await press(app, 'v')
    expect(frame(app)).toContain('No event matches')
    await press(app, 'v', keys.escape)
    expect(frame(app)).toContain('Order Completed')
    expect(frame(app)).not.toContain('filter "')
  })

  it('holds new events while paused and shows them on resume', async () => {
    const {app, feed} = await startWithEvents()
    await press(app, ' ')
    expect(frame(app)).toContain('PAUSED +0 new')
    expect(frameLines(app).at(-1)).toContain('space resume')
    feed.push([streamEvent({name: 'Product Viewed'}), streamEvent({name: 'Cart Viewed'})])
    await until(app, (text) => text.includes('PAUSED +2 new'))
    expect(frame(app)).not.toContain('Product Viewed')
    await press(app, ' ')
    const resumed = await until(app, (text) => text.includes('Product Viewed'))
    expect(resumed).toContain('6 events')
    expect(resumed).not.toContain('PAUSED')
  })

  it('clears the list on c', async () => {
    const {app, feed} = await startWithEvents()
    await press(app, 'c')
    expect(frame(app)).toContain('0 events')
    expect(frame(app)).toContain('Waiting for events')
    feed.push([streamEvent({name: 'Signed Up'})])
    expect(await until(app, (text) => text.includes('Signed Up'))).toContain('1 events')
  })

  it('moves the selection with the arrows and j/k, and stops following new events', async () => {
    const {app, feed} = await startWithEvents()
    await press(app, keys.up, 'k')
    const selected = () => frameLines(app).find((line) => line.startsWith('› ')) ?? ''
    expect(selected()).toContain('Checkout Started')
    expect(frame(app)).toContain('2/4 · G to follow')
    feed.push([streamEvent({name: 'Product Viewed'})])
    await until(app, (text) => text.includes('Product Viewed'))
    expect(selected()).toContain('Checkout Started')
    await press(app, 'G')
    expect(selected()).toContain('Product Viewed')
    await press(app, 'g')
    expect(selected()).toContain('Order Completed')
  })
})

describe('cdp tail: the detail', () => {
  it('opens on Enter with the violations, the deliveries and the payload; Esc returns', async () => {
    const {app} = await startWithEvents()
    await press(app, keys.up, keys.up, keys.enter)
    const detail = frame(app)
    expect(detail).toContain('track  Checkout Started')
    expect(detail).toContain('plan ✗ 2 violations')
    expect(detail).toContain('✗ properties.revenue  wrong_type')
    expect(detail).toContain('expected number   actual string')
    expect(detail).toContain('The value at properties.revenue must be a number but it was a string.')
    expect(detail).toContain('✗ properties.currency  missing_required')
    expect(detail).toContain('expected present   actual missing')
    expect(detail).toMatch(/↻ webhook +retrying +2 attempts +HTTP 500/)
    expect(detail).toContain('last error HTTP 500 from https://hooks.example.com/cdp')
    expect(detail).toMatch(/✗ warehouse +dead +5 attempts/)
    expect(detail).toContain('last error relation "checkout_started" does not exist')
    for (const line of frameLines(app)) expect([...line].length).toBeLessThanOrEqual(80)

    await press(app, keys.escape)
    expect(frame(app)).toContain('TIME')
    expect(frame(app)).not.toContain('Violations (2)')
  })

  it('scrolls the payload when it is taller than the screen, and q goes back to the list', async () => {
    const {app} = await startWithEvents()
    await press(app, keys.up, keys.up, keys.up, keys.enter)
    expect(frame(app)).toMatch(/1–20 of \d+ +esc back/)
    expect(frame(app)).not.toContain('"analytics.js"')
    await press(app, keys.pageDown)
    const scrolled = frame(app)
    expect(scrolled).toContain('"name": "analytics.js"')
    expect(scrolled).toContain('"revenue": 25.5')
    await press(app, 'G')
    expect(frameLines(app).at(-2)).toContain('}')
    await press(app, 'q')
    expect(frame(app)).toContain('TIME')
    expect(mounted.at(-1)!.frames.length).toBeGreaterThan(0)
  })
})

describe('cdp tail: the connection and the stream', () => {
  it('says when the daemon is gone and when it is reconnecting', async () => {
    const feed = new FakeFeed()
    const app = renderTail({feed, title: 'cdp tail ecommerce'})
    expect(await until(app, (text) => text.includes('connecting'))).toContain('cdp tail ecommerce')
    feed.connection({state: 'disconnected', url, detail: 'connection refused: is cdp dev running?'})
    const gone = await until(app, (text) => text.includes('disconnected'))
    expect(gone).toContain('○ disconnected — connection refused: is cdp dev running?')
    feed.connection({state: 'connecting', url, detail: 'reconnecting in 2s'})
    expect(await until(app, (text) => text.includes('reconnecting'))).toContain('◌ connecting — reconnecting in 2s http://127.0.0.1')
    feed.connection({state: 'connected', url})
    expect(await until(app, (text) => text.includes('● connected'))).not.toContain('reconnecting')
  })

  it('counts the items the daemon skipped for a slow reader', async () => {
    const {app, feed} = await startWithEvents()
    feed.push([{kind: 'skipped', count: 1200}])
    expect(await until(app, (text) => text.includes('skipped'))).toContain('1,200 skipped (tail fell behind)')
  })

  it('draws 5,000 events in quick batches in a handful of frames, not one per batch', async () => {
    // Given the default flush interval
    const feed = new FakeFeed()
    const app = renderTail({feed, flushIntervalMs: 80})
    feed.connection({state: 'connected', url})
    await until(app, (text) => text.includes('● connected'))
    const framesBefore = app.frames.length
    // When 5,000 events arrive in 100 batches about a millisecond apart, with deliveries for each
    const started = Date.now()
    const all = Array.from({length: 5000}, (_, index) => streamEvent(index % 10 === 0 ? {violations: twoViolations} : {}))
    for (let batch = 0; batch < 100; batch++) {
      const events = all.slice(batch * 50, batch * 50 + 50)
      feed.push([...events, ...events.map((event) => delivery(event, 'webhook', 'delivered'))])
      await sleep(1)
    }
    const elapsed = Date.now() - started
    const last = await until(app, (text) => text.includes('5,000 events'))
    // Then the counts are right and the newest event is selected
    expect(last).toContain('5,000 events · 500 with violations')
    expect(frameLines(app).find((line) => line.startsWith('› '))).toContain(formatTime(all[4999].receivedAt))
    // And at most one frame was drawn per flush interval
    const frames = app.frames.length - framesBefore
    expect(frames).toBeLessThanOrEqual(Math.ceil(elapsed / 80) + 2)
    expect(frames).toBeLessThan(100)
  })

  it('quits on q: unsubscribes from the feed and calls onQuit', async () => {
    let quit = 0
    const {app, feed} = await startWithEvents({onQuit: () => quit++})
    expect(feed.listeners).toBe(2)
    app.stdin.write('q')
    await waitFor('the app to unsubscribe', () => feed.listeners === 0, 2000, 2)
    expect(quit).toBe(1)
    expect(feed.listeners).toBe(0)
  })
})
