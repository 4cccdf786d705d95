import {existsSync, readFileSync, writeFileSync} from 'node:fs'
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

  it('a function listed in "functions" is refused until cdp runs functions, with every other problem; an empty list is fine', async () => {
    // Given functions that cdp would otherwise leave out of the message path without a word
    const listed = workspace({sources: [{name: 'web', writeKey: 'short'}], functions: [{name: 'enrich', code: 'export default () => {}'}, {name: 'mask'}]})
    expect(await startRefused(listed)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(listed, 'cdp.json')} has 2 problems:`,
        '  - /sources/0/writeKey: must NOT have fewer than 8 characters',
        '  - /functions: functions are not supported yet, so cdp cannot run the 2 listed here; remove them (an empty list is fine)',
        hint,
      ],
    })
    // An empty list, as cdp init writes it, starts as usual
    const empty = workspace({sources: testSources, destinations: [], functions: []})
    const daemon = await startDaemonProcess(empty)
    expect(daemon.sources.map((source) => source.name)).toEqual(testSources.map((source) => source.name))
    expect(await daemon.stop()).toBe(0)
  })

  it('one function listed is one problem; a cdp.json without "functions" or with an empty list has none', () => {
    expect(configProblems({sources: testSources, functions: [{}]})).toEqual([
      '/functions: functions are not supported yet, so cdp cannot run the 1 listed here; remove it (an empty list is fine)',
    ])
    expect(configProblems({sources: testSources})).toEqual([])
    expect(configProblems({sources: testSources, functions: []})).toEqual([])
  })
})
