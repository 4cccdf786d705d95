import {describe, expect, it} from 'vitest'
import {cannedFetch, checkTestCases, jsonErrorWhere, testFileOf} from '../../src/functions/test-cases.js'

describe('checkTestCases', () => {
  it('accepts each kind of expectation and reads the input by kind', () => {
    // Given cases of an insert function: one event, a batch, an error, a drop
    const {cases, problems} = checkTestCases(
      [
        {name: 'one', input: {type: 'track', event: 'A'}, expect: {output: {type: 'track', event: 'A'}}},
        {name: 'batch', input: [{type: 'track'}, {type: 'identify'}], settings: {x: 1}, expect: {output: []}},
        {name: 'error', input: {type: 'track'}, expect: {error: 'ValidationError'}},
        {name: 'drop', input: {type: 'track'}, expect: {dropped: true}},
      ],
      'insert',
    )
    // Then every case is read, a batch is a list of events and not a single one
    expect(problems).toEqual([])
    expect(cases.map((c) => [c.name, c.single, c.expect])).toEqual([
      ['one', true, {output: {type: 'track', event: 'A'}}],
      ['batch', false, {output: []}],
      ['error', true, {error: 'ValidationError'}],
      ['drop', true, {dropped: true}],
    ])
    expect(cases[1].settings).toEqual({x: 1})
  })

  it('makes a source case a request: a JSON body as text, header names in lower case, a default URL', () => {
    const {cases, problems} = checkTestCases([{name: 'hook', input: {headers: {'X-GitHub-Event': 'push'}, body: {a: 1}}, expect: {output: []}}], 'source', 'gh')
    expect(problems).toEqual([])
    expect(cases[0].input).toEqual({body: '{"a":1}', headers: {'x-github-event': 'push', 'content-type': 'application/json'}, url: 'http://localhost:8237/v1/functions/gh'})
  })

  it('reports every problem at once, each with its JSON path', () => {
    const {cases, problems} = checkTestCases(
      [
        'not a case',
        {input: {}, expect: {output: 1}},
        {name: 'dup', input: 3, expect: {}},
        {name: 'dup', input: {}, expect: {dropped: true, error: 'X'}, expected: {}},
        {name: 'bad fetch', input: {}, fetch: [{url: 5, status: 700, extra: 1}], expect: {error: 'not a class'}},
        {name: 'delivered on insert', input: {}, expect: {delivered: true}},
        {name: 'no expect', input: {}},
      ],
      'insert',
    )
    expect(cases).toEqual([])
    expect(problems).toEqual([
      '/0: must be an object {"name", "input", "expect"}',
      '/1/name: must be a non-empty string',
      '/2/input: must be an event object, or a non-empty list of events (a batch)',
      '/2/expect: must have exactly one of output, error or dropped',
      '/3/expected: unknown field "expected" (a case has name, input, settings, fetch, expect)',
      '/3/name: "dup" is also the name of /2; each case needs its own',
      '/3/expect: must have exactly one of output, error or dropped, not dropped and error',
      '/4/fetch/0/extra: unknown field "extra" (an answer has url, method, status, body, headers)',
      '/4/fetch/0/url: must be the URL the function fetches, a string',
      '/4/fetch/0/status: must be an HTTP status from 200 to 599',
      '/4/expect/error: must be an error class name such as "ValidationError"',
      '/5/expect/delivered: only destination functions deliver; expect output, error or dropped',
      '/6: missing required field "expect" (one of output, error or dropped)',
    ])
  })

  it('refuses a file that is not a list, and dropped on a source function', () => {
    expect(checkTestCases({name: 'x'}, 'insert').problems).toEqual(['(top level): must be a list of cases, [{"name", "input", "expect"}, …]'])
    expect(checkTestCases([{name: 'x', input: {body: ''}, expect: {dropped: true}}], 'source').problems).toEqual([
      '/0/expect/dropped: only insert functions drop events; expect output or error',
    ])
    expect(checkTestCases([{name: 'x', input: {headers: {a: 1}}, expect: {output: []}}], 'source').problems).toEqual([
      '/0/input: missing required field "body" (a string is sent as is, any other JSON value as JSON)',
      '/0/input/headers/a: must be a string',
    ])
  })
})

describe('cannedFetch', () => {
  it('answers each request with the first unused answer of its URL and method, and records the rest', async () => {
    const canned = cannedFetch([
      {url: 'https://api.example.com/a', method: 'POST', status: 500, body: 'down'},
      {url: 'https://api.example.com/a', status: 200, body: {ok: true}},
    ])
    const first = await canned.fetch('https://api.example.com/a', {method: 'POST', headers: []})
    expect([first.status, await first.text()]).toEqual([500, 'down'])
    const second = await canned.fetch('https://api.example.com/a', {method: 'post', headers: []})
    expect([second.status, second.headers.get('content-type'), await second.json()]).toEqual([200, 'application/json', {ok: true}])
    await expect(canned.fetch('https://api.example.com/a', {method: 'POST', headers: []})).rejects.toThrow('no canned answer for POST https://api.example.com/a')
    expect(canned.unmatched).toEqual(['POST https://api.example.com/a'])
    expect(canned.unused()).toEqual([])
  })

  it('gives a 204 no body, and lists answers never asked for', async () => {
    const canned = cannedFetch([{url: 'https://x.example/', status: 204, body: 'ignored'}, {url: 'https://y.example/', status: 200}])
    const response = await canned.fetch('https://x.example', {method: 'GET', headers: []})
    expect([response.status, await response.text()]).toEqual([204, ''])
    expect(canned.unused().map((answer) => answer.url)).toEqual(['https://y.example/'])
  })
})

describe('helpers', () => {
  it('names the test file beside the function', () => {
    expect(testFileOf('/w/functions/crm.js')).toBe('/w/functions/crm.test.json')
    expect(testFileOf('/w/functions/crm.ts')).toBe('/w/functions/crm.test.json')
  })

  it('gives a JSON error its line and column', () => {
    const text = '[\n  {"a": 1,}\n]'
    let error: unknown
    try {
      JSON.parse(text)
    } catch (caught) {
      error = caught
    }
    expect(jsonErrorWhere(text, error)).toMatch(/\(line 2, column 11\)$/)
  })
})

describe('jsonErrorOffset', () => {
  it('finds the first character JSON.parse refuses, and nothing in valid JSON', async () => {
    const {jsonErrorOffset} = await import('../../src/functions/test-cases.js')
    expect(jsonErrorOffset('{"a": [1, 2.5e3, "x\\n\\u00e9", true, false, null]}')).toBeUndefined()
    expect(jsonErrorOffset('{"a": }')).toBe(6)
    expect(jsonErrorOffset('[1, 2,]')).toBe(6)
    expect(jsonErrorOffset('{"a" 1}')).toBe(5)
    expect(jsonErrorOffset('[tru]')).toBe(4)
    expect(jsonErrorOffset('"abc')).toBe(4)
    expect(jsonErrorOffset('"\\x"')).toBe(2)
    expect(jsonErrorOffset('{} x')).toBe(3)
    expect(jsonErrorOffset('')).toBe(0)
  })
})
