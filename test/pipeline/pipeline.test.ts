import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ProtocolsSettings} from '../../src/config/schema.js'
import type {AcceptedMessage} from '../../src/message/request.js'
import type {SegmentMessage} from '../../src/message/types.js'
import {Pipeline} from '../../src/pipeline/pipeline.js'
import {PlanRegistry} from '../../src/plan/registry.js'
import type {AppendResult, EventWriter, NewEvent} from '../../src/store/types.js'
import {tempDir} from '../helpers/workspace.js'

/**
 * The message path's contract, without HTTP or SQLite: what rows it hands the writer for a batch
 * of accepted messages (indexed columns, plan result, policy, Violation Generated events) and
 * what it answers. A real plan registry over a plan folder; a writer that records what it is given.
 */

/** Records each submit; answers as a store would, a messageId seen before being a duplicate. */
class RecordingWriter implements EventWriter {
  readonly submits: NewEvent[][] = []
  private readonly seen = new Set<string>()

  async submit(events: readonly NewEvent[]): Promise<AppendResult> {
    this.submits.push([...events])
    const stored = events.map((event) => {
      const key = `${event.source}/${event.messageId}`
      if (this.seen.has(key)) return false
      this.seen.add(key)
      return true
    })
    const inserted = stored.filter(Boolean).length
    return {inserted, duplicates: stored.length - inserted, stored}
  }

  async close(): Promise<void> {}

  get rows(): NewEvent[] {
    return this.submits.flat()
  }
}

let planDir: string
let cleanup: () => void
const plans = new PlanRegistry()

beforeAll(() => {
  ;({dir: planDir, cleanup} = tempDir('cdp-pipeline-'))
  mkdirSync(path.join(planDir, 'events'))
  writeFileSync(
    path.join(planDir, 'events', 'signed-up.json'),
    JSON.stringify({
      name: 'Signed Up',
      properties: {type: 'object', properties: {plan: {type: 'string', enum: ['free', 'pro']}, seats: {type: 'integer'}}, required: ['plan']},
    }),
  )
  plans.setSources(new Map([['shop', planDir]]))
  expect(plans.reload(planDir).applied).toBe(true)
})
afterAll(() => cleanup())

const at = '2026-03-01T12:00:00.000Z'

function accepted(fields: Partial<SegmentMessage> & Record<string, unknown>, index = 0): AcceptedMessage {
  const message = {type: 'track', messageId: `m-${index}`, userId: 'u-1', context: {}, timestamp: at, receivedAt: at, ...fields} as SegmentMessage
  return {index, message, raw: JSON.stringify({sent: 'as received', index})}
}

const signedUp = (messageId: string, properties: Record<string, unknown>) => accepted({messageId, event: 'Signed Up', properties})

function pipeline(protocols?: ProtocolsSettings): {pipeline: Pipeline; writer: RecordingWriter} {
  const writer = new RecordingWriter()
  return {writer, pipeline: new Pipeline(writer, plans, (source) => (source === 'shop' ? {protocols} : undefined))}
}

describe('Pipeline.ingest', () => {
  it('without a plan: one row per message, in order, in one submit; indexed fields read from the message; no plan result', async () => {
    const {pipeline: messagePath, writer} = pipeline()
    const page = accepted({type: 'page', messageId: 'p-1', name: 'Home', userId: undefined, anonymousId: 'anon-1'}, 1)
    const result = await messagePath.ingest('web', [signedUp('t-1', {plan: 'gold'}), page])
    expect(result).toEqual({inserted: 2, duplicates: 0, stored: [true, true]})
    expect(writer.submits).toHaveLength(1)
    expect(writer.rows.map(({messageId, source, type, event, userId, anonymousId, valid, violations, policy}) => ({messageId, source, type, event, userId, anonymousId, valid, violations, policy}))).toEqual([
      {messageId: 't-1', source: 'web', type: 'track', event: 'Signed Up', userId: 'u-1', anonymousId: null, valid: null, violations: [], policy: null},
      {messageId: 'p-1', source: 'web', type: 'page', event: 'Home', userId: null, anonymousId: 'anon-1', valid: null, violations: [], policy: null},
    ])
    // The stored message is the normalised one, serialised: the one copy stored (it holds all
    // that was received), so no raw.
    expect(JSON.parse(writer.rows[1].message)).toEqual(page.message)
    expect(writer.rows.map((row) => row.raw)).toEqual([null, null])
  })

  it('an indexed column holds only a string the message has as its own: a number userId is null, not "42"', async () => {
    const {pipeline: messagePath, writer} = pipeline()
    await messagePath.ingest('web', [accepted({messageId: 'n-1', event: 'Signed Up', userId: 42 as unknown as string})])
    expect(writer.rows[0].userId).toBeNull()
    expect(JSON.parse(writer.rows[0].message).userId).toBe(42)
  })

  it('a message without a messageId string is a bug upstream: refused before the writer sees anything', () => {
    const {pipeline: messagePath, writer} = pipeline()
    expect(() => messagePath.ingest('web', [signedUp('ok', {plan: 'free'}), accepted({messageId: undefined as unknown as string, event: 'Signed Up'}, 1)])).toThrow(/no messageId string/)
    expect(writer.submits).toEqual([])
  })

  it("with the source's plan: each row says whether it passed, with its violations", async () => {
    const {pipeline: messagePath, writer} = pipeline()
    await messagePath.ingest('shop', [signedUp('good', {plan: 'pro', seats: 3}), signedUp('bad', {plan: 'gold'}), accepted({messageId: 'other', event: 'Not Planned'})])
    expect(writer.rows.map((row) => [row.messageId, row.valid, row.violations.map((v) => `${v.kind} ${v.path}`), row.policy])).toEqual([
      ['good', true, [], null],
      ['bad', false, ['enum_mismatch properties.plan'], null],
      ['other', false, ['unplanned_event event'], null],
    ])
  })

  it('block: a failing message is stored as blocked (quarantined), unchanged; a passing one is not', async () => {
    const {pipeline: messagePath, writer} = pipeline({violations: 'block'})
    await messagePath.ingest('shop', [signedUp('bad', {plan: 'gold'}), signedUp('good', {plan: 'free'})])
    expect(writer.rows.map((row) => [row.messageId, row.policy])).toEqual([
      ['bad', 'blocked'],
      ['good', null],
    ])
    expect(JSON.parse(writer.rows[0].message).properties).toEqual({plan: 'gold'})
  })

  it('omit-properties: the offending values are left out of the stored message; raw keeps them', async () => {
    const {pipeline: messagePath, writer} = pipeline({violations: 'omit-properties'})
    const bad = signedUp('bad', {plan: 'free', seats: 'many', note: 'kept'})
    await messagePath.ingest('shop', [bad])
    expect(writer.rows[0].policy).toBe('omitted')
    expect(JSON.parse(writer.rows[0].message).properties).toEqual({plan: 'free', note: 'kept'})
    expect(writer.rows[0].violations.map((v) => v.path)).toEqual(['properties.seats'])
    expect(writer.rows[0].raw).toBe(bad.raw)
  })

  it('unplanned: block quarantines an unplanned event, whatever the violations setting', async () => {
    const {pipeline: messagePath, writer} = pipeline({unplanned: 'block', violations: 'allow'})
    await messagePath.ingest('shop', [accepted({messageId: 'other', event: 'Not Planned'})])
    expect(writer.rows[0].policy).toBe('blocked')
  })

  it("reads the source's settings on every ingest: an edited policy applies to the next batch", async () => {
    const writer = new RecordingWriter()
    let protocols: ProtocolsSettings = {}
    const messagePath = new Pipeline(writer, plans, () => ({protocols}))
    await messagePath.ingest('shop', [signedUp('before', {plan: 'gold'})])
    protocols = {violations: 'block'}
    await messagePath.ingest('shop', [signedUp('after', {plan: 'gold'})])
    expect(writer.rows.map((row) => [row.messageId, row.policy])).toEqual([
      ['before', null],
      ['after', 'blocked'],
    ])
  })

  it('emitViolations: a Violation Generated event per violation follows the batch in the same submit; the answer counts only the messages sent', async () => {
    const {pipeline: messagePath, writer} = pipeline({emitViolations: true})
    const result = await messagePath.ingest('shop', [signedUp('bad', {plan: 'gold', seats: 1.5}), signedUp('good', {plan: 'free'})])
    expect(writer.submits).toHaveLength(1)
    expect(writer.rows.map((row) => [row.messageId, row.event, row.userId])).toEqual([
      ['bad', 'Signed Up', 'u-1'],
      ['good', 'Signed Up', 'u-1'],
      ['bad:violation:0', 'Violation Generated', 'schema-violations'],
      ['bad:violation:1', 'Violation Generated', 'schema-violations'],
    ])
    expect(result).toEqual({inserted: 2, duplicates: 0, stored: [true, true]})

    // Sent again (a client's retry): duplicates, its Violation Generated events too, and counted as the caller's two.
    const again = await messagePath.ingest('shop', [signedUp('bad', {plan: 'gold', seats: 1.5}), signedUp('good', {plan: 'free'})])
    expect(again).toEqual({inserted: 0, duplicates: 2, stored: [false, false]})
  })
})
