import {afterEach, describe, expect, it} from 'vitest'
import {warehouseRows} from '../../src/delivery/warehouse-schema.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

const loadedAt = '2026-03-01T12:00:01.000Z'

/** A message as the postgres adapter gets it: read back from the store, so "__proto__" is an own key. */
const stored = (json: string) => JSON.parse(json) as SegmentMessage

describe('warehouse columns from prototype-named keys', () => {
  it('"__proto__", "constructor", "prototype" and "toString" become columns like any key', () => {
    const message = stored(
      '{"type":"track","event":"Signed Up","messageId":"m-1","userId":"u","timestamp":"2026-03-01T12:00:00.000Z","receivedAt":"2026-03-01T12:00:00.000Z",' +
        '"context":{"__proto__":{"ip":"10.0.0.1"}},"integrations":{},' +
        '"properties":{"__proto__":{"plan":"pro"},"constructor":"c","prototype":1,"toString":true}}',
    )
    const [tracks, event] = warehouseRows(message, loadedAt)
    expect(tracks.cells.get('context_proto_ip')).toEqual({type: 'text', value: '10.0.0.1'})
    expect(event.table).toBe('signed_up')
    expect(Object.fromEntries([...event.cells].filter(([column]) => !['id', 'user_id', 'received_at', 'timestamp', 'uuid_ts', 'event', 'event_text', 'context_proto_ip'].includes(column)))).toEqual({
      proto_plan: {type: 'text', value: 'pro'},
      constructor: {type: 'text', value: 'c'},
      prototype: {type: 'bigint', value: 1},
      to_string: {type: 'boolean', value: true},
    })
  })

  it('a message stored deeper than the depth limit (before it was enforced on batch contexts) flattens without overflowing the stack', () => {
    let context: Record<string, unknown> = {leaf: 'x'}
    for (let i = 0; i < 20_000; i++) context = {a: context}
    const message = {type: 'identify', messageId: 'deep', userId: 'u', timestamp: loadedAt, receivedAt: loadedAt, context: {top: 1, deep: context}, integrations: {}, traits: {}} as SegmentMessage
    const [identifies] = warehouseRows(message, loadedAt)
    expect(identifies.cells.get('context_top')).toEqual({type: 'bigint', value: 1})
    expect([...identifies.cells.keys()].some((column) => column.endsWith('leaf'))).toBe(false)
  })
})

describe('the segment destination forwards a "__proto__" key as a key', () => {
  let daemons: TestDaemon[] = []
  afterEach(async () => {
    for (const daemon of daemons.reverse()) await daemon.close()
    daemons = []
  })

  it('B stores what A received, "__proto__" included; sentAt is dropped as for any message', async () => {
    const inbound = {name: 'upstream', writeKey: 'upstream-write-key-0009'}
    const b = await startTestDaemon({config: {sources: [inbound]}})
    daemons.push(b)
    const a = await startTestDaemon({config: {sources: testSources, destinations: [{name: 'next-hop', type: 'segment', url: b.url, writeKey: inbound.writeKey}]}})
    daemons.push(a)
    const body = '{"userId":"u","event":"Signed Up","messageId":"fwd-proto","sentAt":"2026-03-01T12:00:00.000Z","__proto__":{"sentAt":"1999-01-01T00:00:00Z","userId":"victim"},"properties":{"__proto__":{"plan":"pro"}}}'
    expect((await post(`${a.url}/v1/track`, body, {writeKey: testSources[0].writeKey, raw: true})).status).toBe(200)
    const [received] = await waitFor('the forwarded message in B', () => {
      const messages = b.storedMessages()
      return messages.length === 1 ? messages : undefined
    })
    expect(received).toMatchObject({messageId: 'fwd-proto', userId: 'u', event: 'Signed Up'})
    expect(JSON.stringify(received.__proto__)).toBe('{"sentAt":"1999-01-01T00:00:00Z","userId":"victim"}')
    expect(JSON.stringify(received.properties)).toBe('{"__proto__":{"plan":"pro"}}')
    expect(Object.hasOwn(received, 'sentAt')).toBe(false)
  })
})
