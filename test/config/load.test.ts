import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {configProblems, loadConfig} from '../../src/config/load.js'
import {runCli, startDaemonProcess} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {startSink, type Sink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

function workspace(config: unknown): string {
  const {dir, cleanup} = tempDir()
  cleanups.push(cleanup)
  writeConfig(dir, config)
  return dir
}

/** `cdp dev` as a child process, refusing to start: its exit code and stderr lines (oclif's dev-mode warnings left out). */
async function startRefused(dir: string): Promise<{exitCode: number; lines: string[]}> {
  const result = await runCli(['dev', '--port', '0', '--dir', dir])
  expect(result.stdout).toBe('')
  expect(existsSync(path.join(dir, '.cdp', 'daemon.json'))).toBe(false)
  return {exitCode: result.exitCode, lines: result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith(' ›'))}
}

const hint = 'Try: Fix these fields in cdp.json; the README\'s "The workspace" section describes it.'

describe('cdp.json', () => {
  it('starting with a UTF-8 byte order mark is read as usual: its sources and destinations work', async () => {
    // Given a cdp.json saved by an editor that writes a BOM, with a webhook destination
    const sink: Sink = await startSink()
    cleanups.push(() => sink.close())
    const {dir, cleanup} = tempDir()
    cleanups.push(cleanup)
    const config = {sources: [{name: 'app', writeKey: 'app-write-key-0001'}], destinations: [{name: 'hook', type: 'webhook', url: sink.url, headers: {'X-Team': 'growth'}}]}
    writeFileSync(path.join(dir, 'cdp.json'), '\uFEFF' + JSON.stringify(config, null, 2))
    expect(readFileSync(path.join(dir, 'cdp.json')).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]))
    expect(loadConfig(dir)?.config).toEqual(config)
    // When cdp dev starts on it and an event arrives with the source's key
    const t: TestDaemon = await startTestDaemon({dir, config: null})
    cleanups.push(() => t.close())
    const answer = await post(`${t.url}/v1/track`, '{"userId":"u","event":"Signed Up","messageId":"bom-1","__proto__":{"userId":"x"}}', {
      writeKey: 'app-write-key-0001',
      raw: true,
    })
    expect(answer.status).toBe(200)
    // Then the webhook receives it with its header, and the "__proto__" key as it was sent
    await waitFor('the webhook delivery', () => sink.requests.length === 1)
    expect(sink.requests[0].headers['x-team']).toBe('growth')
    const body = JSON.parse(sink.requests[0].body)
    expect(body).toMatchObject({messageId: 'bom-1', userId: 'u', event: 'Signed Up'})
    expect(JSON.stringify(body.__proto__)).toBe('{"userId":"x"}')
  })

  it('a webhook header name or value with CR, LF or another control character is refused at load with its path, with every other problem', async () => {
    const dir = workspace({
      sources: testSources,
      destinations: [
        {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/in', headers: {'X-Foo': 'a\r\nX-Injected: 1', 'X-Ok': 'tab\tand Latin-1 é are fine', 'X-Bell': 'ring\u0007'}},
        {name: 'other', type: 'webhook', url: 'http://127.0.0.1:9/in', headers: {'X-Bad\nName': 'v', 'a/b': 'v'}, batchSize: 0},
      ],
    })
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 5 problems:`,
        '  - /destinations/0/headers/X-Foo: holds a line break (CR or LF) or another control character, which would end the header or garble it: use printable text only (destination "hook")',
        '  - /destinations/0/headers/X-Bell: holds a line break (CR or LF) or another control character, which would end the header or garble it: use printable text only (destination "hook")',
        '  - /destinations/1/batchSize: must be >= 1 (destination "other")',
        '  - /destinations/1/headers/X-Bad\\nName: the name "X-Bad\\nName" is not an HTTP header name: use letters, digits and !#$%&\'*+-.^_`|~ only (destination "other")',
        '  - /destinations/1/headers/a~1b: the name "a/b" is not an HTTP header name: use letters, digits and !#$%&\'*+-.^_`|~ only (destination "other")',
        hint,
      ],
    })
  })

  it('"__proto__" and "constructor" keys are fields like any other: unknown ones are named, and nothing is inherited from them', async () => {
    const dir = workspace('{"sources":[{"name":"web","writeKey":"web-write-key-0001","__proto__":{"plan":"plan"}}],"__proto__":{"destinations":[]},"constructor":1}')
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 3 problems:`,
        '  - (top level): unknown field "__proto__"',
        '  - (top level): unknown field "constructor"',
        '  - /sources/0: unknown field "__proto__"',
        hint,
      ],
    })
  })

  it('every problem of the functions list comes with its path: fields, files, environment variables, and names sources and destinations use', async () => {
    // Given functions with a bad field, a missing file, an unset secret, and names used wrongly
    const dir = workspace({
      sources: [{name: 'web', writeKey: testSources[0].writeKey, insert: 'crm'}],
      destinations: [
        {name: 'crm', type: 'function', function: 'hash'},
        {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:1/x', insert: 'missing'},
      ],
      functions: [
        {name: 'hash', kind: 'insert', settings: {salt: {env: 'CDP_TEST_UNSET_SALT'}}},
        {name: 'crm', kind: 'destination'},
        {name: 'stripe', kind: 'source'},
      ],
    })
    mkdirSync(path.join(dir, 'functions'))
    writeFileSync(path.join(dir, 'functions', 'hash.js'), 'async function onTrack(event) { return event }\n')
    writeFileSync(path.join(dir, 'functions', 'stripe.js'), 'async function onRequest(request) {}\n')
    // When cdp dev starts on it
    const refused = await startRefused(dir)
    // Then each problem is named with its path, and nothing starts
    expect(refused).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 6 problems:`,
        '  - /functions/0/settings/salt: environment variable CDP_TEST_UNSET_SALT is not set; set it before starting cdp, or write the value in cdp.json',
        '  - /functions/1: function "crm" has no file: write functions/crm.js (cdp fn new crm --kind destination starts one), or name one with "file"',
        '  - /functions/2: source function "stripe" emits as the source of the same name, which "sources" does not define; add {"name": "stripe", "writeKey": "…"} to "sources", or name one with "source"',
        '  - /sources/0/insert: source "web" names function "crm", a destination function; it needs an insert function',
        '  - /destinations/0/function: destination "crm" names function "hash", an insert function; it needs a destination function',
        '  - /destinations/1/insert: destination "hook" names function "missing", which "functions" does not define',
        hint,
      ],
    })
  })

  it('a function entry is checked by the schema: kind, limits and allowed hosts', () => {
    expect(configProblems({sources: testSources, functions: [{name: 'x', kind: 'transform', timeoutMs: 0, allowedHosts: ['http://api.example.com']}]})).toEqual([
      '/functions/0/kind: must be equal to one of the allowed values',
      '/functions/0/timeoutMs: must be >= 10',
      '/functions/0/allowedHosts/0: is not a host fetch() may reach: write a name or address ("api.example.com", "127.0.0.1"), optionally with ":port" or a leading "*." for subdomains; no scheme, no path',
    ])
    expect(configProblems({sources: testSources})).toEqual([])
    expect(configProblems({sources: testSources, functions: []})).toEqual([])
  })
})
