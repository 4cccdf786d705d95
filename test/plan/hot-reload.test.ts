import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'

const key = 'shop-write-key-0001'
let t: TestDaemon
const log = memoryLogger()

beforeAll(async () => {
  t = await startTestDaemon({fixture: 'ecommerce', log})
})
afterAll(async () => {
  await t.close()
})

async function violationsAfterSending(event: string, properties: unknown): Promise<any[]> {
  await fetch(`${t.url}/api/events`, {method: 'DELETE'})
  expect((await post(`${t.url}/v1/track`, {userId: 'u', event, properties}, {writeKey: key})).status).toBe(200)
  return (await getJson(`${t.url}/api/violations`)).body
}

/**
 * The reload is asynchronous (chokidar, then a debounce): it lands within a second on an idle
 * machine. Speed is for benchmarks; here the bound only keeps a reload that never comes from
 * hanging the test, wide enough for a loaded CI machine.
 */
const reloadMs = 10_000

describe('hot reload of the plan while cdp dev runs', () => {
  it('adding, editing and deleting plan files take effect while it runs', async () => {
    const planDir = path.join(t.dir, 'plan')
    // Given an unplanned event
    expect((await violationsAfterSending('Coupon Applied', {coupon: 'X'})).map((v) => v.kind)).toEqual(['unplanned_event'])

    // When a file for it is added, it becomes planned
    const file = path.join(planDir, 'events', 'coupon-applied.json')
    writeFileSync(file, JSON.stringify({name: 'Coupon Applied', description: 'd', properties: {type: 'object', properties: {coupon: {type: 'string'}}, required: ['coupon']}}))
    await waitFor('the added file in force', async () => (await violationsAfterSending('Coupon Applied', {coupon: 'X'})).length === 0, reloadMs, 50)

    // When it is edited to require a number, the same event breaks it
    writeFileSync(file, JSON.stringify({name: 'Coupon Applied', description: 'd', properties: {type: 'object', properties: {coupon: {type: 'number'}}}}))
    await waitFor('the edited file in force', async () => (await violationsAfterSending('Coupon Applied', {coupon: 'X'})).map((v) => v.kind).join() === 'wrong_type', reloadMs, 50)

    // When an edit breaks the file, the last good plan stays and the error names the file
    writeFileSync(file, '{"name": "Coupon Applied", "properties": ')
    await waitFor('the broken file logged', () => log.lines.some((line) => line.includes(`${file}: not valid JSON`)), reloadMs, 50)
    expect(log.lines.join('\n')).toContain('the last good plan stays in force')
    expect((await violationsAfterSending('Coupon Applied', {coupon: 'X'})).map((v) => v.kind)).toEqual(['wrong_type'])

    // When the file is deleted, the event is unplanned again
    rmSync(file)
    await waitFor('the deleted file out of force', async () => (await violationsAfterSending('Coupon Applied', {coupon: 'X'})).map((v) => v.kind).join() === 'unplanned_event', reloadMs, 50)
    expect(readFileSync(path.join(planDir, 'events', 'order-completed.json'), 'utf8')).toContain('Order Completed')
  })
})
