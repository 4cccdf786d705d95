import {describe, expect, it} from 'vitest'
import {testSources} from '../helpers/workspace.js'
import {generateCase, strategyNames, type FuzzCase} from './mutator.js'
import {compareStored, judge, storedInvariants, type Acked, type Outcome} from './oracle.js'

// The fuzzer's oracle must be able to fail: each check here is one a broken daemon would trip.

const window = {start: Date.parse('2024-06-01T12:00:00.000Z'), end: Date.parse('2024-06-01T12:00:10.000Z')}
const receivedAt = '2024-06-01T12:00:05.000Z'

function acked(item: Record<string, unknown>, extra: Partial<Acked> = {}): Acked {
  return {caseIndex: 0, messageId: item.messageId as string, item, endpointType: 'track', source: 'web', ...extra}
}

/** What the daemon stores for a sent track message when it follows its documented rules. */
function normalised(item: Record<string, unknown>): Record<string, unknown> {
  const {writeKey: _, ...rest} = item
  return {...rest, type: 'track', context: item.context ?? {}, integrations: item.integrations ?? {}, timestamp: receivedAt, receivedAt}
}

const sent = {type: 'track', messageId: 'm-1', userId: 'u', event: 'Signed Up', properties: {plan: 'pro'}, writeKey: 'k'}

describe('compareStored', () => {
  it('accepts the documented normalisation', () => {
    expect(compareStored(acked(sent), {source: 'web', message: normalised(sent)}, window)).toEqual([])
    // numeric ids become strings
    const numeric = {...sent, userId: 42}
    expect(compareStored(acked(numeric), {source: 'web', message: {...normalised(numeric), userId: '42'}}, window)).toEqual([])
  })

  it('finds a lost key, a changed value, an added key and another source', () => {
    const {properties: _, ...withoutProperties} = normalised(sent)
    expect(compareStored(acked(sent), {source: 'web', message: withoutProperties}, window)).toEqual(['stored differs: key "properties" is missing: sent {"plan":"pro"}, stored absent'])
    expect(compareStored(acked(sent), {source: 'web', message: {...normalised(sent), event: 'Other'}}, window)).toEqual(['stored differs: key "event": sent "Signed Up", stored "Other"'])
    expect(compareStored(acked(sent), {source: 'web', message: {...normalised(sent), isAdmin: true}}, window)).toEqual(['stored differs: key "isAdmin" was added: sent absent, stored true'])
    expect(compareStored(acked(sent), {source: 'server', message: normalised(sent)}, window)).toEqual(['stored differs: source: sent "web", stored "server"'])
  })

  it('counts __proto__ as a key: losing it is a difference', () => {
    const item = JSON.parse('{"type":"track","messageId":"m-2","anonymousId":"a","event":"x","__proto__":{"userId":"victim"}}')
    const stored = {type: 'track', messageId: 'm-2', anonymousId: 'a', event: 'x', context: {}, integrations: {}, timestamp: receivedAt, receivedAt}
    expect(compareStored(acked(item), {source: 'web', message: stored}, window)).toEqual(['stored differs: key "__proto__" is missing: sent {"userId":"victim"}, stored absent'])
    // Stored with the key, as JSON.parse reads it back: an own property, not a prototype.
    const kept = JSON.parse(JSON.stringify(stored).replace(/}$/, ',"__proto__":{"userId":"victim"}}'))
    expect(compareStored(acked(item), {source: 'web', message: kept}, window)).toEqual([])
  })

  it('merges batch-level context under the item\'s own and checks the clock-skew correction', () => {
    const item = {type: 'track', messageId: 'm-3', userId: 'u', event: 'E', context: {ip: '1.2.3.4'}, timestamp: '2024-06-01T11:00:00.000Z'}
    const batch = {context: {library: {name: 'x'}, ip: '0.0.0.0'}, sentAt: '2024-06-01T11:00:10.000Z'}
    // receivedAt − (sentAt − timestamp) = 12:00:05 − 10 s
    const message = {...item, context: {library: {name: 'x'}, ip: '1.2.3.4'}, integrations: {}, originalTimestamp: item.timestamp, sentAt: batch.sentAt, timestamp: '2024-06-01T11:59:55.000Z', receivedAt}
    expect(compareStored(acked(item, {endpointType: undefined, batch}), {source: 'web', message}, window)).toEqual([])
    expect(compareStored(acked(item, {endpointType: undefined, batch}), {source: 'web', message: {...message, timestamp: item.timestamp}}, window)).toEqual([
      'stored differs: timestamp (corrected for clock skew: receivedAt − (sentAt − timestamp)): sent "2024-06-01T11:59:55.000Z", stored "2024-06-01T11:00:00.000Z"',
    ])
  })

  it('flags an acknowledged day that does not exist', () => {
    const item = {...sent, timestamp: '2024-02-30T00:00:00Z'}
    const message = {...normalised(item), originalTimestamp: item.timestamp, timestamp: '2024-03-01T00:00:00.000Z'}
    expect(compareStored(acked(item), {source: 'web', message}, window)).toEqual([
      'impossible date acknowledged: timestamp "2024-02-30T00:00:00Z" names a day that does not exist (stored as "2024-03-01T00:00:00.000Z")',
    ])
  })
})

describe('storedInvariants', () => {
  it('finds a stored message nested past 64 levels', () => {
    let deep: unknown = 1
    for (let i = 0; i < 70; i++) deep = {d: deep}
    expect(storedInvariants({...normalised(sent), context: {deep}})).toEqual(['invariant: a stored message nests 72 levels (the limit is 64)'])
    expect(storedInvariants(normalised(sent))).toEqual([])
    expect(storedInvariants({...normalised(sent), writeKey: 'k'})).toEqual(['invariant: a stored message keeps its writeKey'])
  })
})

describe('judge', () => {
  const single: FuzzCase = {seed: 1, index: 7, kind: 'valid.single', method: 'POST', path: '/v1/track', headers: {}, endpoint: 'track', payload: sent, source: 'web', expect: 'success'}
  const answer = (status: number, body: unknown): Outcome => ({status, body: Buffer.from(JSON.stringify(body)), timedOut: false, reusedSocket: true, ms: 3})

  it('acknowledges the message of a 200', () => {
    const judgement = judge(single, answer(200, {success: true}))
    expect(judgement.problems).toEqual([])
    expect(judgement.acked.map((a) => a.messageId)).toEqual(['m-1'])
  })

  it('fails a 5xx, a hang, a reset and a refusal of what had to be accepted', () => {
    expect(judge(single, answer(500, {success: false, code: 'internal_error', error: 'boom'})).problems).toEqual(['5xx: 500 internal_error: boom'])
    expect(judge(single, {timedOut: true, reusedSocket: false, ms: 15_000, error: {code: 'timeout', message: ''}}).problems).toEqual(['hang: no answer within 15000 ms'])
    expect(judge(single, {timedOut: false, reusedSocket: true, ms: 1, error: {code: 'ECONNRESET', message: 'socket hang up'}}).problems).toEqual(['no answer: ECONNRESET (socket hang up) on a reused keep-alive socket'])
    expect(judge(single, answer(400, {success: false, code: 'x', error: 'y'})).problems).toEqual(['expected 200: got 400 x: y'])
    expect(judge({...single, expect: undefined}, {status: 400, body: Buffer.from('Bad'), timedOut: false, reusedSocket: false, ms: 1}).problems).toEqual([
      'unclear error: 400 without a JSON {success: false, code, error} body: Bad',
    ])
  })

  it('splits a partial batch into acknowledged and refused messages', () => {
    const items = [
      {type: 'track', messageId: 'a', userId: 'u', event: 'E'},
      {type: 'purchase', messageId: 'b', userId: 'u'},
      {type: 'track', messageId: 'c', userId: 'u', event: 'E'},
    ]
    const batch: FuzzCase = {...single, kind: 'batch.mixed', path: '/v1/batch', endpoint: 'batch', payload: {batch: items}, expect: undefined, itemExpect: ['accept', 'reject', 'reject']}
    const judgement = judge(batch, answer(400, {success: false, code: 'invalid_messages', error: '1 of 3', accepted: 2, rejected: [{index: 1}]}))
    expect(judgement.acked.map((a) => a.messageId)).toEqual(['a', 'c'])
    expect(judgement.refused).toEqual(['b'])
    expect(judgement.problems).toEqual(['expected item 2 to be rejected: accepted'])
  })
})

describe('generateCase', () => {
  it('makes the same request from the same seed and index, and others from others', () => {
    const a = generateCase(42, 1234, testSources)
    const b = generateCase(42, 1234, testSources)
    expect(b).toEqual(a)
    expect(generateCase(42, 1235, testSources).body).not.toEqual(a.body)
    expect(generateCase(43, 1234, testSources).body).not.toEqual(a.body)
  })

  it('starts every run with one request of each strategy', () => {
    const kinds = strategyNames.map((_, index) => generateCase(7, index, testSources).kind.split('.')[0])
    expect(new Set(kinds).size).toBeGreaterThanOrEqual(8)
  })
})
