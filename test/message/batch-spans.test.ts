import {describe, expect, it} from 'vitest'
import {batchItemSpans} from '../../src/message/batch-spans.js'
import {limits} from '../../src/message/limits.js'
import {readTrackingRequest} from '../../src/message/request.js'

/** The items as sliced from the text. */
function slices(text: string): string[] | undefined {
  return batchItemSpans(text)?.map(([start, end]) => text.slice(start, end))
}

/** Each slice parses to the item JSON.parse gave, and serialises as JSON.stringify(item) did. */
function expectFaithful(text: string): string[] {
  const items = (JSON.parse(text) as {batch: unknown[]}).batch
  const sliced = slices(text)
  expect(sliced).toBeDefined()
  expect(sliced).toHaveLength(items.length)
  sliced!.forEach((slice, i) => {
    expect(JSON.parse(slice)).toEqual(items[i])
    expect(JSON.stringify(JSON.parse(slice))).toBe(JSON.stringify(items[i]))
  })
  return sliced!
}

describe('batchItemSpans: each batch item as received', () => {
  it('slices compact items exactly', () => {
    const text = '{"batch":[{"type":"track","event":"A"},{"type":"identify","userId":"u"}],"sentAt":"2026-01-01T00:00:00Z"}'
    expect(expectFaithful(text)).toEqual(['{"type":"track","event":"A"}', '{"type":"identify","userId":"u"}'])
  })

  it('strings with escapes: quotes, backslashes, brackets and braces inside strings, \\u escapes', () => {
    const text = String.raw`{"batch":[{"event":"say \"hi\" [x] {y}","p":"C:\\dir\\","q":"\\\"","r":"\u0022]}","s":"\\"},{"event":"b"}]}`
    const sliced = expectFaithful(text)
    expect(sliced[0]).toBe(String.raw`{"event":"say \"hi\" [x] {y}","p":"C:\\dir\\","q":"\\\"","r":"\u0022]}","s":"\\"}`)
  })

  it('unicode: non-ASCII text, surrogate pairs and their escapes, kept as sent', () => {
    const text = '{"batch":[{"event":"Café ☕ 😀","e":"\\ud83d\\ude00","k":"\\u00e9"}]}'
    expect(expectFaithful(text)).toEqual(['{"event":"Café ☕ 😀","e":"\\ud83d\\ude00","k":"\\u00e9"}'])
  })

  it('nested arrays and objects, empty ones, and an empty batch', () => {
    expectFaithful('{"batch":[{"a":[[1,[2,{"b":[]}]],{}],"c":{"d":{"e":[{}]}}},{"x":[]}]}')
    expect(slices('{"batch":[]}')).toEqual([])
    expect(slices('{"batch":[ \n ]}')).toEqual([])
  })

  it('whitespace anywhere (spaces, tabs, CR LF) is outside the slices, and kept inside them', () => {
    const text = ' \r\n{ \t"batch" :\r\n [\n  { "event" : "A" ,\n "n": [ 1 , 2 ] }\t,\r\n{"event":"B"}  \n] , "sentAt" : null }\n '
    expect(expectFaithful(text)).toEqual(['{ "event" : "A" ,\n "n": [ 1 , 2 ] }', '{"event":"B"}'])
    expectFaithful(JSON.stringify({batch: [{a: 1, b: {c: [1, 2]}}, {d: 'e'}]}, null, 2))
    expectFaithful(JSON.stringify({batch: [{a: 1, b: {c: [1, 2]}}, {d: 'e'}]}, null, '\t'))
  })

  it('numbers as sent (exponents, fractions, negative zero, beyond double precision) parse to what JSON.parse gave', () => {
    const text = '{"batch":[{"a":1e3,"b":-0,"c":1.50,"d":12345678901234567890,"e":-1.5E-7,"f":true,"g":false,"h":null}],"n":-12.5e+2}'
    expect(expectFaithful(text)).toEqual(['{"a":1e3,"b":-0,"c":1.50,"d":12345678901234567890,"e":-1.5E-7,"f":true,"g":false,"h":null}'])
  })

  it('duplicate keys: the last batch is the one JSON.parse keeps; duplicates inside an item stay as sent and parse the same', () => {
    expect(slices('{"batch":[{"a":1}],"x":1,"batch":[{"b":2},{"c":3}]}')).toEqual(['{"b":2}', '{"c":3}'])
    expect(slices('{"batch":[{"a":1}],"batch":"no"}')).toBeUndefined()
    expect(expectFaithful('{"batch":[{"event":"A","event":"B"}]}')).toEqual(['{"event":"A","event":"B"}'])
  })

  it('a batch key written with escapes is the batch; batch keys nested elsewhere are not', () => {
    expect(slices('{"b\\u0061tch":[{"a":1}]}')).toEqual(['{"a":1}'])
    expect(slices('{"context":{"batch":[{"no":1}]},"batch":[{"yes":1}],"p":[{"batch":[2]}]}')).toEqual(['{"yes":1}'])
    expect(slices('{"batchx":[{"a":1}]}')).toBeUndefined()
  })

  it('__proto__ keys: at the top (an own key to JSON.parse, not the batch) and inside items', () => {
    const text = '{"__proto__":{"batch":[{"no":1}]},"batch":[{"__proto__":{"admin":true},"event":"A"}]}'
    const sliced = expectFaithful(text)
    expect(sliced).toEqual(['{"__proto__":{"admin":true},"event":"A"}'])
    expect(Object.getPrototypeOf(JSON.parse(sliced[0]))).toBe(Object.prototype)
  })

  it('answers undefined for text that is not an object with a batch array', () => {
    for (const text of ['[]', '"batch"', '{}', '{"batch":{"a":1}}', '{"batch":null}', '{"batch":[1,2', '{"batch":["unterminated]}', '', '   ']) {
      expect(slices(text)).toBeUndefined()
    }
  })

  it('items of every kind (the caller only uses object items)', () => {
    expect(expectFaithful('{"batch":[1,"two",null,true,[3],{"four":4},-5.5e1]}')).toEqual(['1', '"two"', 'null', 'true', '[3]', '{"four":4}', '-5.5e1'])
  })

  it('random JSON, compact and indented: each slice parses to its item', () => {
    let seed = 7
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
    const chars = ['a', '"', '\\', '[', ']', '{', '}', ',', ':', ' ', '\n', 'é', '😀', '\u2028', '\u0000', '\ud800']
    const randomString = () => Array.from({length: Math.floor(random() * 8)}, () => chars[Math.floor(random() * chars.length)]).join('')
    const value = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 4 : 6))
      if (kind === 0) return randomString()
      if (kind === 1) return Math.round((random() - 0.5) * 1e6) / 100
      if (kind === 2) return random() < 0.5 ? null : random() < 0.5
      if (kind === 3) return -0
      if (kind === 4) return Array.from({length: Math.floor(random() * 4)}, () => value(depth + 1))
      return Object.fromEntries(Array.from({length: Math.floor(random() * 4)}, () => [randomString(), value(depth + 1)]))
    }
    for (let round = 0; round < 300; round++) {
      const body = {[randomString()]: value(0), batch: Array.from({length: Math.floor(random() * 5)}, () => value(0)), sentAt: value(2)}
      expectFaithful(JSON.stringify(body))
      expectFaithful(JSON.stringify(body, null, round % 2 === 0 ? 2 : '\t'))
    }
  })
})

describe('readTrackingRequest keeps each batch item as received', () => {
  const receivedAt = Date.parse('2026-03-01T12:00:10.000Z')

  it('raw is the item slice; message is normalised as before', () => {
    const text = '{"batch":[ {"type":"track", "event":"A","userId":"u","properties":{"price":1.50}} ,{"type":"identify","userId":"u"}],"context":{"ip":"1.2.3.4"}}'
    const request = readTrackingRequest('batch', JSON.parse(text), text, receivedAt)
    expect(request.accepted.map((a) => a.raw)).toEqual(['{"type":"track", "event":"A","userId":"u","properties":{"price":1.50}}', '{"type":"identify","userId":"u"}'])
    expect(request.accepted[0].message).toMatchObject({type: 'track', event: 'A', properties: {price: 1.5}, context: {ip: '1.2.3.4'}})
  })

  it('falls back to JSON.stringify when the text is not what was parsed', () => {
    const body = {batch: [{type: 'track', event: 'A', userId: 'u'}]}
    for (const text of ['{}', '{"batch":[{"a":1},{"b":2}]}', '{"batch":[1]}']) {
      const request = readTrackingRequest('batch', body, text, receivedAt)
      expect(request.accepted.map((a) => a.raw)).toEqual(['{"type":"track","event":"A","userId":"u"}'])
    }
  })

  it('the 32 KB limit applies to the item as JSON.stringify writes it: whitespace as sent does not push it over', () => {
    const big = 'x'.repeat(limits.messageBytes - 200)
    const text = `{"batch":[{"type":"track",${' '.repeat(400)}"event":"A","userId":"u","properties":{"big":"${big}"}}]}`
    const request = readTrackingRequest('batch', JSON.parse(text), text, receivedAt)
    expect(request.rejected).toEqual([])
    expect(request.accepted[0].raw).toBe(JSON.stringify(JSON.parse(text).batch[0]))
    const over = `{"batch":[{"type":"track","event":"A","userId":"u","properties":{"big":"${big}${'y'.repeat(400)}"}}]}`
    expect(readTrackingRequest('batch', JSON.parse(over), over, receivedAt).rejected).toMatchObject([{index: 0, code: 'limit_exceeded'}])
  })
})
