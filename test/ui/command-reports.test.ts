import {stripVTControlCharacters as plain} from 'node:util'
import {describe, expect, it} from 'vitest'
import type {CodegenResult} from '../../src/services/codegen.js'
import type {InitResult} from '../../src/services/init.js'
import type {PlanImportResult} from '../../src/services/plan-transfer.js'
import type {InferResult} from '../../src/services/schema.js'
import {renderCodegenReport} from '../../src/ui/codegen-report.js'
import {renderRetryResult} from '../../src/ui/deliveries-report.js'
import {formatConnectionLine} from '../../src/ui/tail-lines.js'
import {renderInitReport, sourceNameQuestion} from '../../src/ui/init-report.js'
import {renderPlanImport, renderPlanInfer} from '../../src/ui/plan-files-report.js'

// The text these commands printed when they rendered inline, kept exact (colours aside).

describe('cdp init output', () => {
  const result: InitResult = {
    dir: '/work/shop',
    config: {sources: [{name: 'web', writeKey: 'wk_123'}], destinations: [], functions: []} as unknown as InitResult['config'],
    files: [
      {path: '/work/shop/cdp.json', action: 'overwritten'},
      {path: '/work/shop/plan/', action: 'created'},
      {path: '/work/shop/.gitignore', action: 'updated'},
    ],
  }

  it('lists the files, then the write key and the next step', () => {
    expect(plain(renderInitReport(result, {dir: 'shop'}))).toBe(
      [
        'overwritten /work/shop/cdp.json',
        'created     /work/shop/plan/',
        'updated     /work/shop/.gitignore',
        '',
        'Source web has write key wk_123',
        'Next: cdp dev --dir shop to start the local daemon.',
      ].join('\n'),
    )
  })

  it('says no --dir for the current folder', () => {
    expect(plain(renderInitReport(result, {dir: '.'})).split('\n').at(-1)).toBe('Next: cdp dev to start the local daemon.')
  })

  it('asks for the source name with the default in brackets', () => {
    expect(plain(sourceNameQuestion('app'))).toBe('Name of your first source (app): ')
  })
})

describe('cdp plan import output', () => {
  it('lists the files, then how many rules went where', () => {
    const result: PlanImportResult = {
      plan: '/work/shop/plan',
      rules: 3,
      files: [
        {path: '/work/shop/plan/events/product-viewed.json', action: 'created'},
        {path: '/work/shop/plan/identify.json', action: 'overwritten'},
      ],
    }
    expect(plain(renderPlanImport(result))).toBe(
      [
        'created     /work/shop/plan/events/product-viewed.json',
        'overwritten /work/shop/plan/identify.json',
        'Imported 3 rules into /work/shop/plan. Check them with cdp plan validate.',
      ].join('\n'),
    )
    expect(plain(renderPlanImport({...result, rules: 1, files: []}))).toBe('Imported 1 rule into /work/shop/plan. Check them with cdp plan validate.')
  })
})

describe('cdp plan infer output', () => {
  it('lists the files written, and those skipped with why', () => {
    const result: InferResult = {
      plan: '/work/shop/plan',
      files: [
        {path: '/work/shop/plan/events/signed-up.json', event: 'Signed Up', action: 'skipped', reason: 'already planned (use --force to replace)'},
        {path: '/work/shop/plan/events/order-completed.json', event: 'Order Completed', action: 'created'},
        {path: '/work/shop/plan/group.json', event: 'group', action: 'overwritten'},
      ],
    }
    expect(plain(renderPlanInfer(result))).toBe(
      [
        'skipped     /work/shop/plan/events/signed-up.json (already planned (use --force to replace))',
        'created     /work/shop/plan/events/order-completed.json',
        'overwritten /work/shop/plan/group.json',
      ].join('\n'),
    )
  })

  it('escapes control characters in paths and reasons', () => {
    const result: InferResult = {plan: 'plan', files: [{path: 'plan/events/a\u001b[2J.json', event: 'a', action: 'skipped', reason: 'why\n'}]}
    expect(plain(renderPlanInfer(result))).toBe('skipped     plan/events/a\\e[2J.json (why\\n)')
  })
})

describe('cdp plan codegen output', () => {
  const files: CodegenResult['files'] = [
    {path: '/work/shop/analytics/index.ts', status: 'stale'},
    {path: '/work/shop/analytics/validate.ts', status: 'unchanged'},
  ]

  it('gives each file its status', () => {
    expect(plain(renderCodegenReport({out: 'analytics', plan: 'plan', files, upToDate: false}, {check: false}))).toBe(
      ['stale     /work/shop/analytics/index.ts', 'unchanged /work/shop/analytics/validate.ts'].join('\n'),
    )
  })

  it('with --check, says whether the client is current', () => {
    expect(plain(renderCodegenReport({out: 'analytics', plan: 'plan', files, upToDate: false}, {check: true})).split('\n').at(-1)).toBe(
      'The generated client does not match the plan: run `cdp plan codegen`.',
    )
    const current: CodegenResult = {out: 'analytics', plan: 'plan', files: [{path: 'analytics/index.ts', status: 'unchanged'}], upToDate: true}
    expect(plain(renderCodegenReport(current, {check: true}))).toBe(['unchanged analytics/index.ts', 'The generated client is current.'].join('\n'))
  })
})

describe('cdp deliveries retry output', () => {
  it('says how many go again and when', () => {
    expect(plain(renderRetryResult({retried: 1, viaDaemon: false}))).toBe('1 dead-lettered event queued again; they go when `cdp dev` next starts. Follow with `cdp deliveries`.')
    expect(plain(renderRetryResult({retried: 3, viaDaemon: true}))).toBe('3 dead-lettered events queued again; cdp dev is sending them now. Follow with `cdp deliveries`.')
    expect(plain(renderRetryResult({retried: 0, viaDaemon: true}))).toBe('No dead-lettered events match; nothing to send again.')
  })
})

describe('cdp tail connection lines', () => {
  it('says what it follows and why it is disconnected, and nothing while connecting', () => {
    const url = 'http://127.0.0.1:8237'
    expect(plain(formatConnectionLine({state: 'connected', url}) ?? '')).toBe('following http://127.0.0.1:8237')
    expect(plain(formatConnectionLine({state: 'disconnected', url, detail: 'cdp dev at http://127.0.0.1:8237 stopped; reconnecting when it is back…'}) ?? '')).toBe(
      'cdp dev at http://127.0.0.1:8237 stopped; reconnecting when it is back…',
    )
    expect(formatConnectionLine({state: 'connecting', url})).toBeUndefined()
  })
})
