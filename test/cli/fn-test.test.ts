import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = tempDir()))
afterEach(() => cleanup())

const source = {name: 'app', writeKey: 'app-write-key-0001'}

function writeFunction(name: string, code: string, cases?: unknown): void {
  mkdirSync(path.join(dir, 'functions'), {recursive: true})
  writeFileSync(path.join(dir, 'functions', `${name}.js`), code)
  if (cases !== undefined) writeFileSync(path.join(dir, 'functions', `${name}.test.json`), typeof cases === 'string' ? cases : JSON.stringify(cases, null, 2))
}

/** Case times vary from run to run. */
function stable(text: string): string {
  return text.replace(/\(\d+ ms\)/g, '(N ms)').replace(/time="\d+\.\d{3}"/g, 'time="T"')
}

const renameCode = `async function onTrack(event, settings) {
  console.log('renaming', event.event)
  if (event.event === 'Refund') throw new ValidationError('refunds are not renamed')
  return {...event, event: settings.to}
}
`
const track = {type: 'track', event: 'order_done', userId: 'u1'}

describe('cdp fn test', () => {
  it('passes when every case does, and says which functions have no tests', async () => {
    // Given an insert function with passing cases, and one without a test file
    writeConfig(dir, {sources: [source], functions: [{name: 'rename', kind: 'insert', settings: {to: 'Order Completed'}}, {name: 'untested', kind: 'insert'}]})
    writeFunction('rename', renameCode, [
      {name: 'renames', input: track, expect: {output: {...track, event: 'Order Completed'}}},
      {name: 'case settings win', input: track, settings: {to: 'Checkout Done'}, expect: {output: {...track, event: 'Checkout Done'}}},
      {name: 'refunds are refused', input: {...track, event: 'Refund'}, expect: {error: 'ValidationError'}},
    ])
    writeFunction('untested', 'async function onTrack(event) { return event }\n')
    // When all are tested
    const result = await runCli(['fn', 'test', '--dir', dir])
    // Then
    expect(result.exitCode).toBe(0)
    expect(stable(result.stdout)).toBe(
      [
        `rename (insert, ${path.join(dir, 'functions', 'rename.test.json')})`,
        '  ✓ renames (N ms)',
        '  ✓ case settings win (N ms)',
        '  ✓ refunds are refused (N ms)',
        `untested no tests (write ${path.join(dir, 'functions', 'untested.test.json')})`,
        '',
        '3 passed, 1 function without tests',
      ].join('\n'),
    )
  })

  it('fails with a diff of pretty JSON, the why of each failure, console lines, and a JUnit report', async () => {
    writeConfig(dir, {sources: [source], functions: [{name: 'rename', kind: 'insert', settings: {to: 'Order Completed'}}, {name: 'crm', kind: 'destination', allowedHosts: ['api.crm.example']}]})
    writeFunction('rename', renameCode, [
      {name: 'renames', input: track, expect: {output: {...track, event: 'Order Completed'}}},
      {name: 'wrong name', input: track, settings: {to: 'Checkout Done'}, expect: {output: {...track, event: 'Order Completed'}}},
      {name: 'refunds', input: {...track, event: 'Refund'}, expect: {dropped: true}},
    ])
    writeFunction(
      'crm',
      `async function onTrack(event, settings) {
  const response = await fetch('https://api.crm.example/events', {method: 'POST', body: JSON.stringify(event)})
  if (!response.ok) throw new RetryError('status ' + response.status)
}
`,
      [
        {name: 'posts', input: track, fetch: [{url: 'https://api.crm.example/events', method: 'POST', status: 200}], expect: {delivered: true}},
        {name: 'retries a 503', input: track, fetch: [{url: 'https://api.crm.example/events', status: 503}], expect: {error: 'RetryError'}},
        {name: 'wrong url', input: track, fetch: [{url: 'https://api.crm.example/other', status: 200}], expect: {delivered: true}},
        {name: 'unused answer', input: track, fetch: [{url: 'https://api.crm.example/events', status: 200}, {url: 'https://api.crm.example/audit', status: 200}], expect: {delivered: true}},
      ],
    )
    const result = await runCli(['fn', 'test', '--junit', 'reports/fn.xml'], {cwd: dir})
    expect(result.exitCode).toBe(1)
    expect(stable(result.stdout)).toBe(
      [
        'rename (insert, functions/rename.test.json)',
        '  ✓ renames (N ms)',
        '  ✗ wrong name (N ms)',
        '      the output differs',
        '      - expected  + actual',
        '        {',
        '          "type": "track",',
        '      -   "event": "Order Completed",',
        '      +   "event": "Checkout Done",',
        '          "userId": "u1"',
        '        }',
        '      console.log: renaming order_done',
        '  ✗ refunds (N ms)',
        '      expected the event to be dropped, but it failed with ValidationError: refunds are not renamed (functions/rename.js:3:39)',
        '      console.log: renaming Refund',
        'crm (destination, functions/crm.test.json)',
        '  ✓ posts (N ms)',
        '  ✓ retries a 503 (N ms)',
        '  ✗ wrong url (N ms)',
        '      the function fetched POST https://api.crm.example/events, which no canned answer in the case\'s "fetch" matches (it lists any https://api.crm.example/other)',
        '  ✗ unused answer (N ms)',
        '      the case\'s "fetch" answers any https://api.crm.example/audit, but the function never requested it',
        '',
        '3 passed, 4 failed',
        'JUnit report: reports/fn.xml',
      ].join('\n'),
    )
    const xml = stable(readFileSync(path.join(dir, 'reports', 'fn.xml'), 'utf8'))
    expect(xml).toContain('<testsuites name="cdp fn test" tests="7" failures="4" errors="0" skipped="0" time="T">')
    expect(xml).toContain(`<testsuite name="rename" tests="3" failures="2" errors="0" skipped="0" time="T" file="${path.join(dir, 'functions', 'rename.test.json')}">`)
    expect(xml).toContain('<testcase classname="crm" name="posts" time="T"/>')
    expect(xml).toContain('<failure message="the output differs" type="AssertionError">expected:\n{\n  &quot;type&quot;: &quot;track&quot;,\n  &quot;event&quot;: &quot;Order Completed&quot;,')
  })

  it('runs only the functions named; an unknown name is bad input listing the known ones', async () => {
    writeConfig(dir, {sources: [source], functions: [{name: 'a', kind: 'insert'}, {name: 'b', kind: 'insert'}]})
    writeFunction('a', 'async function onTrack(e) { return e }\n', [{name: 'same', input: track, expect: {output: track}}])
    writeFunction('b', 'async function onTrack(e) { return null }\n', [{name: 'same', input: track, expect: {output: track}}])
    const only = await runCli(['fn', 'test', 'a', '--dir', dir, '--json'])
    expect(only.exitCode).toBe(0)
    const json = JSON.parse(only.stdout)
    expect(json).toMatchObject({passed: 1, failed: 0, untested: 0, functions: [{name: 'a', status: 'passed', cases: [{name: 'same', passed: true, console: []}]}]})
    const both = await runCli(['fn', 'test', 'b', 'a', '--dir', dir])
    expect(both.exitCode).toBe(1)
    expect(both.stdout).toContain('      expected an event, but it was dropped (')
    const unknown = await runCli(['fn', 'test', 'a', 'c', '--dir', dir])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toBe('Error: cdp.json declares no function named "c".\nTry: Functions in cdp.json: a, b.')
  })

  it('reports a broken test file with every problem, and a function that does not load', async () => {
    writeConfig(dir, {sources: [source], functions: [{name: 'cases', kind: 'insert'}, {name: 'syntax', kind: 'insert'}, {name: 'json', kind: 'insert'}]})
    writeFunction('cases', 'async function onTrack(e) { return e }\n', [{name: 'x', input: 1, expect: {output: 1}}, {name: 'x', input: {}, expect: {}}])
    writeFunction('syntax', 'async function onTrack(e) { return e \n', [{name: 'x', input: {}, expect: {output: {}}}])
    writeFunction('json', 'async function onTrack(e) { return e }\n', '[{"name": "x",]')
    const result = await runCli(['fn', 'test'], {cwd: dir})
    expect(result.exitCode).toBe(1)
    const lines = stable(result.stdout).split('\n')
    expect(lines.slice(0, 5)).toEqual([
      'cases (insert, functions/cases.test.json)',
      '  ✗ the test file has 3 problems:',
      '      - /0/input: must be an event object, or a non-empty list of events (a batch)',
      '      - /1/name: "x" is also the name of /0; each case needs its own',
      '      - /1/expect: must have exactly one of output, error or dropped',
    ])
    expect(lines[5]).toBe('syntax (insert, functions/syntax.test.json)')
    expect(lines[6]).toMatch(/^ {2}✗ the function does not load: functions\/syntax\.js:\d+(:\d+)?: /)
    expect(lines.slice(7)).toEqual([
      'json (insert, functions/json.test.json)',
      '  ✗ the test file has 1 problem:',
      '      - not valid JSON: Expected double-quoted property name in JSON at position 14 (line 1, column 15)',
      '',
      '0 passed, 3 functions not run',
    ])
  })

  it('runs a source function on its request and compares the emitted messages', async () => {
    writeConfig(dir, {sources: [source], functions: [{name: 'hook', kind: 'source', source: 'app'}]})
    writeFunction(
      'hook',
      `async function onRequest(request, settings) {
  const body = await request.json()
  Segment.track({event: request.headers.get('X-Event'), userId: body.user, properties: {url: request.url}})
}
`,
      [
        {
          name: 'emits a track',
          input: {headers: {'X-Event': 'Pushed'}, body: {user: 'u1'}},
          expect: {output: [{type: 'track', payload: {event: 'Pushed', userId: 'u1', properties: {url: 'http://localhost:8237/v1/functions/hook'}}}]},
        },
        {name: 'a body that is not JSON', input: {body: 'not json'}, expect: {error: 'InvalidEventPayload'}},
      ],
    )
    const result = await runCli(['fn', 'test', '--dir', dir])
    expect(result.stderr).toBe('')
    expect(stable(result.stdout)).toBe(
      [`hook (source, ${path.join(dir, 'functions', 'hook.test.json')})`, '  ✓ emits a track (N ms)', '  ✓ a body that is not JSON (N ms)', '', '2 passed'].join('\n'),
    )
    expect(result.exitCode).toBe(0)
  })

  it('needs a cdp.json', async () => {
    const result = await runCli(['fn', 'test', '--dir', dir])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toBe(`Error: There is no cdp.json in ${dir}, so there are no functions to test.\nTry: Run \`cdp init\`, then \`cdp fn new NAME --kind insert\`; or pass --dir.`)
    expect(existsSync(path.join(dir, 'cdp.json'))).toBe(false)
  })
})
