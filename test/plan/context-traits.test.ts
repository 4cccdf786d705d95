import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {warehouseRows} from '../../src/delivery/warehouse-schema.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'

// An identify as RudderStack's browser SDK sends it: the traits in context.traits only.
const rudderIdentify = (userId: string, traits: Record<string, unknown>, messageId: string) => ({
  type: 'identify',
  userId,
  messageId,
  context: {traits, library: {name: 'RudderLabs JavaScript SDK', version: '3.34.1'}},
})

const key = 'shop-write-key-0001'

describe('identify traits in context.traits: the plan, cdp schema and cdp plan infer read them', () => {
  let t: TestDaemon
  beforeAll(async () => {
    t = await startTestDaemon({fixture: 'ecommerce'})
  })
  afterAll(async () => {
    await t.close()
  })

  it('checks them against plan/identify.json, with violation paths where the message has them; stored as sent', async () => {
    const batch = [
      rudderIdentify('u-ok', {email: 'ok@example.com', plan: 'plus'}, 'm-ok'),
      rudderIdentify('u-bad', {email: 42, plan: 'gold'}, 'm-bad'),
      rudderIdentify('u-missing', {plan: 'free'}, 'm-missing'),
      // Top-level traits win: these follow the plan, whatever context.traits holds.
      {type: 'identify', userId: 'u-top', messageId: 'm-top', traits: {email: 'top@example.com'}, context: {traits: {email: 1}}},
    ]
    expect((await post(`${t.url}/v1/batch`, {batch}, {writeKey: key})).status).toBe(200)
    const stored = new Map(t.storedEvents().map((event) => [event.message.messageId, event]))
    expect([...stored.values()].map((e) => [e.message.messageId, e.valid])).toEqual([
      ['m-ok', true],
      ['m-bad', false],
      ['m-missing', false],
      ['m-top', true],
    ])
    const bad = stored.get('m-bad')?.message as Record<string, any>
    expect(bad).not.toHaveProperty('traits')
    expect(bad.context.traits).toEqual({email: 42, plan: 'gold'})

    const violations = (await getJson(`${t.url}/api/violations`)).body as any[]
    expect(violations.map((v) => [v.messageId, v.kind, v.path, v.message])).toEqual([
      ['m-bad', 'invalid_traits', 'context.traits.email', 'The value at context.traits.email must be a string but it was an integer.'],
      ['m-bad', 'invalid_traits', 'context.traits.plan', 'The value at context.traits.plan must be one of "free", "plus", "premium" but it was "gold".'],
      ['m-missing', 'invalid_traits', 'context.traits.email', 'context.traits.email is required but it is missing.'],
    ])
  })

  it('cdp schema lists them as the identify traits, and cdp plan infer writes group.json from them', async () => {
    const group = {type: 'group', userId: 'u-ok', groupId: 'org-1', messageId: 'm-group', context: {traits: {name: 'Org 1', seats: 3}}}
    expect((await post(`${t.url}/v1/batch`, {batch: [group]}, {writeKey: key})).status).toBe(200)
    const result = await runCli(['schema', '--dir', t.dir, '--json'])
    expect(result.exitCode).toBe(0)
    const events = JSON.parse(result.stdout) as any[]
    const identify = events.find((e) => e.type === 'identify')
    expect(identify.properties.map((p: any) => [p.path, p.types, p.planned])).toEqual([
      ['traits.email', {string: 2, integer: 1}, true],
      ['traits.plan', {string: 3}, true],
    ])
    const groupReport = events.find((e) => e.type === 'group')
    expect(groupReport.properties.map((p: any) => p.path)).toEqual(['traits.name', 'traits.seats'])

    const infer = await runCli(['plan', 'infer', '--dir', t.dir, '--event', 'group'])
    expect(infer.exitCode).toBe(0)
    const file = path.join(t.dir, 'plan', 'group.json')
    expect(existsSync(file)).toBe(true)
    expect(JSON.parse(readFileSync(file, 'utf8')).traits).toEqual({
      type: 'object',
      properties: {name: {type: 'string'}, seats: {type: 'integer'}},
      required: ['name', 'seats'],
    })
  })

  it('@rudderstack/rudder-sdk-node, unmodified: an identify with only context.traits is checked by plan/identify.json there; one with traits (copied to context by the SDK) by its traits', async () => {
    const client = new RudderAnalytics(key, {dataPlaneUrl: t.url, flushAt: 50, flushInterval: 100, logLevel: 'error'})
    client.identify({userId: 'rn-context-bad', context: {traits: {email: 42, plan: 'plus'}}})
    client.identify({userId: 'rn-context-ok', context: {traits: {email: 'ok@example.com'}}})
    client.identify({userId: 'rn-traits', traits: {email: 'grace@example.com'}})
    await client.flush()

    const stored = new Map(t.storedEvents().filter((event) => String(event.message.userId).startsWith('rn-')).map((event) => [event.message.userId, event]))
    expect([...stored.keys()].sort()).toEqual(['rn-context-bad', 'rn-context-ok', 'rn-traits'])
    // Stored as the SDK sent them: no traits added at the top.
    expect(stored.get('rn-context-bad')?.message).not.toHaveProperty('traits')
    expect(stored.get('rn-context-bad')?.message.context.traits).toEqual({email: 42, plan: 'plus'})
    expect(stored.get('rn-traits')?.message).toMatchObject({traits: {email: 'grace@example.com'}, context: {traits: {email: 'grace@example.com'}}})
    expect([...stored.values()].map((e) => [e.message.userId, e.valid]).sort()).toEqual([
      ['rn-context-bad', false],
      ['rn-context-ok', true],
      ['rn-traits', true],
    ])
    const sent = new Set([...stored.values()].map((e) => e.message.messageId))
    const violations = ((await getJson(`${t.url}/api/violations`)).body as any[]).filter((v) => sent.has(v.messageId))
    expect(violations.map((v) => [v.kind, v.path, v.message])).toEqual([
      ['invalid_traits', 'context.traits.email', 'The value at context.traits.email must be a string but it was an integer.'],
    ])
  })
})

describe('omit-properties drops a bad trait from context.traits, where it was sent', () => {
  it('the forwarded message loses context.traits.email; the rest stays', async () => {
    const t = await startTestDaemon({fixture: 'ecommerce', config: {sources: [{name: 'shop', writeKey: key, protocols: {violations: 'omit-properties'}}]}})
    try {
      expect((await post(`${t.url}/v1/identify`, rudderIdentify('u-1', {email: 42, first_name: 'Lin'}, 'm-omit'), {writeKey: key})).status).toBe(200)
      const [event] = t.storedEvents()
      expect(event.policy).toBe('omitted')
      expect(event.message.context.traits).toEqual({first_name: 'Lin'})
      expect(event.message).not.toHaveProperty('traits')
    } finally {
      await t.close()
    }
  })
})

describe("a source's transformations reach traits in context.traits", () => {
  it('dropProperties ["email"] and a rename on identify change context.traits, where the SDK sent the traits', async () => {
    const config = {sources: [{name: 'shop', writeKey: key, transformations: [{type: 'identify', dropProperties: ['email'], renameProperties: {first_name: 'firstName'}}]}]}
    const t = await startTestDaemon({fixture: 'ecommerce', config})
    try {
      expect((await post(`${t.url}/v1/identify`, rudderIdentify('u-1', {email: 'lin@example.com', first_name: 'Lin'}, 'm-drop'), {writeKey: key})).status).toBe(200)
      const [event] = t.storedEvents()
      expect(event.message.context.traits).toEqual({firstName: 'Lin'})
      expect(event.message).not.toHaveProperty('traits')
      expect(JSON.stringify(event.message)).not.toContain('lin@example.com')
    } finally {
      await t.close()
    }
  })
})

describe('warehouse rows: traits from context.traits fill the identifies, users and groups columns', () => {
  const base = {messageId: 'm-1', userId: 'u-1', integrations: {}, timestamp: '2026-03-01T12:00:05.000Z', receivedAt: '2026-03-01T12:00:10.000Z'}
  const loadedAt = '2026-03-01T12:00:11.000Z'
  const cells = (row: {cells: Map<string, {value: unknown}>}) => Object.fromEntries([...row.cells].map(([column, cell]) => [column, cell.value]))

  it('identify: identifies gets both the traits columns and context_traits_ ones; users is upserted with them', () => {
    const message = {...base, type: 'identify', context: {traits: {email: 'lin@example.com', logins: 2}}} as SegmentMessage
    const rows = warehouseRows(message, loadedAt)
    expect(rows.map((row) => row.table)).toEqual(['identifies', 'users'])
    expect(cells(rows[0])).toMatchObject({email: 'lin@example.com', logins: 2, context_traits_email: 'lin@example.com'})
    expect(cells(rows[1])).toEqual({id: 'u-1', received_at: '2026-03-01T12:00:10.000Z', uuid_ts: loadedAt, email: 'lin@example.com', logins: 2})
  })

  it('group: groups gets them; top-level traits win when both are sent', () => {
    const [fromContext] = warehouseRows({...base, type: 'group', groupId: 'g-1', context: {traits: {name: 'Org'}}} as SegmentMessage, loadedAt)
    expect(cells(fromContext)).toMatchObject({group_id: 'g-1', name: 'Org'})
    const [both] = warehouseRows({...base, type: 'group', groupId: 'g-1', traits: {name: 'Top'}, context: {traits: {name: 'Context', extra: 1}}} as SegmentMessage, loadedAt)
    expect(cells(both)).toMatchObject({name: 'Top', context_traits_name: 'Context'})
    expect(cells(both)).not.toHaveProperty('extra')
  })
})
