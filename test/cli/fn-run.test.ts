import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = tempDir()))
afterEach(() => cleanup())

function write(name: string, text: string): string {
  const file = path.join(dir, name)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, text)
  return file
}

/** The last line says how long the call took, which varies. */
function stable(text: string): string {
  return text.replace(/ran in \d+ ms/, 'ran in N ms')
}

const event = {type: 'track', event: 'order_done', userId: 'u1', properties: {email: 'ada@example.com'}}

const insertCode = `async function onTrack(event, settings) {
  console.log('seen', event.event)
  if (event.properties.test) throw new DropEvent('a test event')
  if (event.event === 'Refund') throw new ValidationError('refunds are refused')
  return {...event, event: settings.to || 'Order Completed'}
}
`

describe('cdp fn run', () => {
  it('runs an insert function on one event: the event on stdout, console lines on stderr, exit 0', async () => {
    // Given a function file and an event, in a folder with no cdp.json
    write('rename.js', insertCode)
    write('event.json', JSON.stringify(event))
    // When
    const result = await runCli(['fn', 'run', 'rename.js', '--event', 'event.json'], {cwd: dir})
    // Then
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe(JSON.stringify({...event, event: 'Order Completed'}, null, 2))
    expect(stable(result.stderr)).toBe('console.log: seen order_done\ninsert function rename ran in N ms')
  })

  it('says dropped with the reason (exit 0), and a thrown error with its class and place (exit 1)', async () => {
    write('rename.js', insertCode)
    const dropped = await runCli(['fn', 'run', 'rename.js', '--event', '-'], {cwd: dir, input: JSON.stringify({...event, properties: {test: true}})})
    expect(dropped.exitCode).toBe(0)
    expect(dropped.stdout).toBe('dropped: a test event')
    const failed = await runCli(['fn', 'run', 'rename.js', '--event', '-'], {cwd: dir, input: JSON.stringify({...event, event: 'Refund'})})
    expect(failed.exitCode).toBe(1)
    expect(failed.stdout).toBe('')
    // The runtime names the file functions/NAME.js wherever it is.
    expect(stable(failed.stderr)).toMatch(/^console\.log: seen Refund\nValidationError: refunds are refused\n {4}at (functions\/)?rename\.js:4:39\ninsert function rename ran in N ms$/)
    const json = await runCli(['fn', 'run', 'rename.js', '--event', '-', '--json'], {cwd: dir, input: JSON.stringify({...event, event: 'Refund'})})
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'rename',
      file: path.join(dir, 'rename.js'),
      kind: 'insert',
      declared: false,
      notes: [],
      single: true,
      outcomes: [{result: 'error', error: {errorClass: 'ValidationError', message: 'refunds are refused', retryable: false, location: expect.stringMatching(/^(functions\/)?rename\.js:4:39$/)}}],
      console: [{level: 'log', message: 'seen Refund'}],
      error: {errorClass: 'ValidationError', message: 'refunds are refused', retryable: false, location: expect.stringMatching(/^(functions\/)?rename\.js:4:39$/)},
      ms: expect.any(Number),
    })
  })

  it('takes a declared function\'s settings from cdp.json, --settings over them, and a batch', async () => {
    writeConfig(dir, {sources: [{name: 'app', writeKey: 'app-write-key-0001'}], functions: [{name: 'rename', kind: 'insert', settings: {to: 'Checkout Done'}}]})
    write('functions/rename.js', insertCode)
    write('batch.json', JSON.stringify([event, {...event, properties: {test: true}}]))
    const declared = await runCli(['fn', 'run', 'rename', '--event', 'batch.json', '--dir', dir], {cwd: dir})
    expect(declared.exitCode).toBe(0)
    expect(declared.stdout).toBe(`${JSON.stringify([{...event, event: 'Checkout Done'}], null, 2)}\nevent 2: dropped: a test event`)
    const overridden = await runCli(['fn', 'run', 'functions/rename.js', '--event', 'batch.json', '--settings', '{"to": "Bought"}'], {cwd: dir})
    expect(JSON.parse(overridden.stdout.split('\nevent 2')[0])).toEqual([{...event, event: 'Bought'}])
  })

  it('runs a source function on a request body with headers, printing the emitted messages', async () => {
    write(
      'hook.js',
      `async function onRequest(request, settings) {
  const body = await request.json()
  Segment.track({event: request.headers.get('X-Event'), userId: body.user})
  Segment.set({collection: 'users', id: body.user, properties: {}})
}
`,
    )
    const result = await runCli(['fn', 'run', 'hook.js', '--event', '-', '--header', 'X-Event: Pushed'], {cwd: dir, input: '{"user": "u1"}'})
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual([{type: 'track', payload: {event: 'Pushed', userId: 'u1'}}])
    expect(stable(result.stderr)).toMatch(/is not supported locally; it was ignored\nsource function hook ran in N ms$/)
  })

  it('delivers with a destination function to an allowed local host; refuses the others', async () => {
    const received: string[] = []
    const server: Server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk) => (body += chunk))
      request.on('end', () => {
        received.push(body)
        response.writeHead(200).end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const {port} = server.address() as AddressInfo
      write(
        'post.js',
        `async function onTrack(event, settings) {
  const response = await fetch(settings.url, {method: 'POST', body: JSON.stringify({name: event.event})})
  if (!response.ok) throw new RetryError('status ' + response.status)
}
`,
      )
      write('event.json', JSON.stringify(event))
      const settings = JSON.stringify({url: `http://127.0.0.1:${port}/hook`})
      const allowed = await runCli(['fn', 'run', 'post.js', '--kind', 'destination', '--event', 'event.json', '--settings', settings, '--allow-host', `127.0.0.1:${port}`], {cwd: dir})
      expect(allowed.stdout).toBe('delivered')
      expect(allowed.exitCode).toBe(0)
      expect(received).toEqual(['{"name":"order_done"}'])
      const refused = await runCli(['fn', 'run', 'post.js', '--kind', 'destination', '--event', 'event.json', '--settings', settings], {cwd: dir})
      expect(refused.exitCode).toBe(1)
      expect(refused.stderr).toMatch(/^FetchError: /)
      expect(received).toHaveLength(1)
    } finally {
      server.close()
    }
  })

  it('exits 3 on the time limit and 1 on a file that does not load', async () => {
    write('loop.js', 'async function onTrack(event) { while (true) {} }\n')
    write('broken.js', 'async function onTrack(event) { return event\n')
    write('event.json', JSON.stringify(event))
    const loop = await runCli(['fn', 'run', 'loop.js', '--event', 'event.json', '--timeout', '200'], {cwd: dir})
    expect(loop.exitCode).toBe(3)
    expect(loop.stderr).toMatch(/^TimeoutError: /)
    const broken = await runCli(['fn', 'run', 'broken.js', '--event', 'event.json'], {cwd: dir})
    expect(broken.exitCode).toBe(1)
    expect(broken.stderr).toMatch(/^LoadError: SyntaxError: .+\n {4}at (functions\/)?broken\.js:\d+:\d+$/)
  })

  it('exits 2 on bad input: a missing file, JSON that does not parse, settings that are not an object', async () => {
    write('rename.js', insertCode)
    write('bad.json', '{\n  "type": "track",\n  "event": }\n')
    write('event.json', JSON.stringify(event))
    const cases: [string[], string][] = [
      [['missing.js', '--event', 'event.json'], 'Error: missing.js is neither a file nor a function cdp.json declares.\nTry: Give the path of a function file, such as functions/NAME.js.'],
      [['rename.js', '--event', 'nope.json'], `Error: Cannot read the event file ${path.join(dir, 'nope.json')}: ENOENT: no such file or directory, open '${path.join(dir, 'nope.json')}'`],
      [['rename.js', '--event', 'bad.json'], `Error: ${path.join(dir, 'bad.json')} is not valid JSON: Unexpected token '}', ..." "event": }\\n" is not valid JSON (line 3, column 12)`],
      [['rename.js', '--event', 'event.json', '--settings', '[1]'], 'Error: --settings must be a JSON object of settings, such as {"apiKey": "…"}.'],
      [['rename.js', '--event', 'event.json', '--header', 'X: 1'], 'Error: --header applies to source functions only; this runs as an insert function.'],
    ]
    for (const [args, stderr] of cases) {
      const result = await runCli(['fn', 'run', ...args], {cwd: dir})
      expect(result.stderr).toBe(stderr)
      expect(result.exitCode).toBe(2)
    }
  })
})
