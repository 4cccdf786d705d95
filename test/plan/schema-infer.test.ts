import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'

const key = 'shop-write-key-0001'
let t: TestDaemon

beforeAll(async () => {
  t = await startTestDaemon({fixture: 'ecommerce'})
  const batch = []
  for (let i = 1; i <= 12; i++) {
    batch.push({type: 'track', userId: `u${i}`, event: 'Order Completed', properties: {order_id: `o${i}`, total: i + 0.5, currency: 'EUR', coupon_code: 'SPRING', products: [{product_id: 'p1', price: 5}]}})
    batch.push({type: 'track', userId: `u${i}`, event: 'Video Played', properties: {video_id: `v${i}`, quality: i % 2 ? 'sd' : 'hd', seconds: i, ...(i % 3 ? {} : {muted: true})}})
  }
  batch.push({type: 'identify', userId: 'u1', traits: {email: 'a@example.com', plan: 'pro'}})
  expect((await post(`${t.url}/v1/batch`, {batch}, {writeKey: key})).status).toBe(200)
})
afterAll(async () => {
  await t.close()
})

describe('cdp schema', () => {
  it('shows observed events and properties with types and counts, and what the plan lacks', async () => {
    const result = await runCli(['schema', '--dir', t.dir, '--json'])
    expect(result.exitCode).toBe(0)
    const events = JSON.parse(result.stdout)
    expect(events.map((e: any) => [e.type, e.name, e.count, e.planned])).toEqual([
      ['identify', 'identify', 1, true],
      ['track', 'Order Completed', 12, true],
      ['track', 'Video Played', 12, false],
    ])
    const order = events[1]
    expect(order.properties.find((p: any) => p.path === 'properties.coupon_code')).toEqual({path: 'properties.coupon_code', types: {string: 12}, count: 12, planned: false})
    expect(order.properties.find((p: any) => p.path === 'properties.products[].price')).toMatchObject({types: {integer: 12}, planned: true})
    expect(order.properties.find((p: any) => p.path === 'properties.total')).toMatchObject({types: {number: 12}, planned: true})
    const table = await runCli(['schema', '--dir', t.dir])
    expect(table.stdout).toMatch(/^UNPLANNED Video Played {2}12 seen, first /m)
    expect(table.stdout).toMatch(/^ {4}properties\.coupon_code +string×12 +in 12 \(not in plan\)$/m)
  })
})

describe('cdp plan infer', () => {
  it('writes plan files from observed events that cdp plan validate accepts, and skips planned ones', async () => {
    const result = await runCli(['plan', 'infer', '--dir', t.dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`skipped     ${path.join(t.dir, 'plan', 'events', 'order-completed.json')} (already planned (use --force to replace))`)
    expect(result.stdout).toContain(`created     ${path.join(t.dir, 'plan', 'events', 'video-played.json')}`)
    const inferred = JSON.parse(readFileSync(path.join(t.dir, 'plan', 'events', 'video-played.json'), 'utf8'))
    expect(inferred.properties).toEqual({
      type: 'object',
      properties: {
        muted: {type: 'boolean'},
        quality: {type: 'string', enum: ['hd', 'sd']},
        seconds: {type: 'integer'},
        video_id: {type: 'string'},
      },
      required: ['quality', 'seconds', 'video_id'],
    })
    const validate = await runCli(['plan', 'validate', '--dir', t.dir])
    expect(validate.exitCode).toBe(0)
    expect(validate.stdout).toMatch(/8 event rules\nvalid: 0 errors, 0 warnings$/)
  })

  it('says so when nothing was observed', async () => {
    const result = await runCli(['plan', 'infer', '--dir', t.dir, '--event', 'Never Sent'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('No stored track, identify or group event named "Never Sent".')
  })
})
