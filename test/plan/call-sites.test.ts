import {beforeAll, describe, expect, it} from 'vitest'
import {findCallSites, loadTypeScript, type ScanOptions, type TypeScript} from '../../src/plan/call-sites.js'
import {globToRegExp} from '../../src/services/plan-status.js'

let ts: TypeScript
beforeAll(async () => {
  ts = await loadTypeScript()
})

const methods = new Set(['orderCompleted', 'productViewed', 'search'])
const clientModule = (specifier: string) => specifier === './analytics' || specifier === './analytics/index.js'
const scan = (text: string, file = 'app.ts', options: Partial<ScanOptions> = {}) => findCallSites(ts, text, file, {methods, isClientModule: clientModule, ...options})

describe('findCallSites', () => {
  it('finds generated-client calls on a tracker, with their line and column', () => {
    // Given a file that calls the typed client
    const text = ["import {createTracker} from './analytics'", 'const tracker = createTracker(analytics)', '', "  tracker.orderCompleted({userId: 'u', properties: {total: 1}})"].join('\n')
    // When it is scanned
    const calls = scan(text)
    // Then the call is found where it is, by its function name
    expect(calls).toEqual([{kind: 'client', method: 'orderCompleted', callee: 'tracker.orderCompleted', file: 'app.ts', line: 4, column: 3}])
  })

  it('counts bare and destructured client calls in a file that imports the generated module', () => {
    const text = ["const {productViewed} = require('./analytics/index.js')", "productViewed({userId: 'u'})"].join('\n')
    expect(scan(text, 'app.cjs').map((call) => [call.kind, call.line])).toEqual([['client', 2]])
  })

  it('elsewhere counts client calls only on a receiver named like a tracker, so api.search() is no call site', () => {
    const text = ["import {tracker} from '../lib/tracking'", 'tracker.orderCompleted({})', 'this.analytics.productViewed({})', "api.search('shoes')", 'search()', 'button.orderCompleted()'].join('\n')
    const calls = scan(text)
    expect(calls.map((call) => (call.kind === 'client' ? `${call.callee}:${call.line}` : call.kind))).toEqual(['tracker.orderCompleted:2', 'this.analytics.productViewed:3'])
  })

  it('finds raw track calls in the SDKs\' styles, with string and plain template literals', () => {
    const text = [
      "analytics.track('Order Completed', {total: 1})",
      'window.analytics.track("Product Viewed")',
      "client.track({userId: 'u', event: 'Signed Up', properties: {}})",
      "rudderanalytics.track('Cart Viewed')",
      'Analytics.track(`Coupon Applied`, {})',
      "analytics?.track('Checkout Started' as const)",
      "analytics['track']({'event': 'Quoted Key'})",
    ].join('\n')
    const calls = scan(text)
    expect(calls.map((call) => (call.kind === 'raw' ? `${call.event}@${call.line}` : call.kind))).toEqual([
      'Order Completed@1',
      'Product Viewed@2',
      'Signed Up@3',
      'Cart Viewed@4',
      'Coupon Applied@5',
      'Checkout Started@6',
      'Quoted Key@7',
    ])
  })

  it('takes a choice between two literal names as a call site of each', () => {
    const text = ["Segment.track({event: ok ? 'Order Completed' : 'Order Failed'})", "analytics.track(a ? 'A' : b ? 'B' : 'A')", "analytics.track(a ? 'A' : name)"].join('\n')
    expect(scan(text).map((call) => (call.kind === 'raw' ? `${call.event}@${call.line}` : `${call.kind}@${call.line}`))).toEqual(['Order Completed@1', 'Order Failed@1', 'A@2', 'B@2', 'dynamic@3'])
  })

  it('reports a computed event name as dynamic and does not guess it', () => {
    const text = ['const name = "Order Completed"', 'analytics.track(name)', 'analytics.track(`Order ${step}`)', "client.track({userId: 'u', event: eventName})", "analytics.track('Order ' + 'Completed')"].join('\n')
    const calls = scan(text)
    expect(calls.every((call) => call.kind === 'dynamic')).toBe(true)
    expect(calls.map((call) => (call.kind === 'dynamic' ? `${call.line}:${call.argument}` : ''))).toEqual(['2:name', '3:`Order ${step}`', '4:event: eventName', "5:'Order ' + 'Completed'"])
  })

  it('parses JSX in .tsx and .jsx files', () => {
    const tsx = ["import {tracker} from './analytics'", 'export const Buy = () => <button onClick={() => tracker.orderCompleted({})}>Buy</button>', "export const View = () => <a onClick={() => analytics.track('Product Viewed')}>{'x'}</a>"].join('\n')
    expect(scan(tsx, 'Buy.tsx').map((call) => `${call.kind}@${call.line}`)).toEqual(['client@2', 'raw@3'])
    const jsx = ['export function Buy() {', "  return <button onClick={() => window.analytics.track('Order Completed')}>Buy</button>", '}'].join('\n')
    expect(scan(jsx, 'Buy.jsx')).toMatchObject([{kind: 'raw', event: 'Order Completed', line: 2}])
    expect(scan(jsx, 'Buy.js')).toMatchObject([{kind: 'raw', event: 'Order Completed', line: 2}])
  })

  it('counts nothing in comments and strings', () => {
    const text = [
      "// analytics.track('Order Completed')",
      "/* tracker.orderCompleted({}) */",
      "const doc = \"analytics.track('Product Viewed')\"",
      "const code = `tracker.orderCompleted()`",
      "/** @example analytics.track('Signed Up') */",
      'export {}',
    ].join('\n')
    expect(scan(text)).toEqual([])
  })

  it('ignores calls that are no track call: track() without a receiver, track with no argument, other methods', () => {
    const text = ["track('Order Completed')", 'analytics.track()', "analytics.page('Home')", "analytics.identify('u')"].join('\n')
    expect(scan(text)).toEqual([])
  })
})

describe('globToRegExp', () => {
  it('matches **, *, ?, {a,b} and classes over relative paths', () => {
    const glob = globToRegExp('src/**/*.{ts,tsx}')
    expect(['src/a.ts', 'src/x/y/b.tsx'].every((file) => glob.test(file))).toBe(true)
    expect(['src/a.js', 'lib/a.ts', 'src.ts'].some((file) => glob.test(file))).toBe(false)
    expect(globToRegExp('./app/?.js').test('app/a.js')).toBe(true)
    expect(globToRegExp('**/*.ts').test('a.ts')).toBe(true)
    expect(globToRegExp('lib/[ab].ts').test('lib/c.ts')).toBe(false)
    expect(globToRegExp('lib/*.ts').test('lib/x/a.ts')).toBe(false)
  })
})
