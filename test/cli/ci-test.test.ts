import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {binPath, runCli} from '../helpers/cli.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({dir, cleanup} = tempDir())
  writeConfig(dir, {sources: [source, {name: 'server', writeKey: 'server-write-key-0002'}], destinations: [{name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/never'}]})
  writePlanEvent('signed-up.json', {name: 'Signed Up', properties: {type: 'object', properties: {plan: {type: 'string', enum: ['free', 'pro']}, seats: {type: 'integer'}}, required: ['plan']}})
  writePlanEvent('order-completed.json', {name: 'Order Completed', properties: {type: 'object', properties: {total: {type: 'number'}}, required: ['total']}})
})
afterEach(() => cleanup())

const source = {name: 'web', writeKey: 'web-write-key-0001'}
const repoPackage = fileURLToPath(new URL('../../package.json', import.meta.url))

function writePlanEvent(file: string, rule: unknown): void {
  mkdirSync(path.join(dir, 'plan', 'events'), {recursive: true})
  writeFileSync(path.join(dir, 'plan', 'events', file), JSON.stringify(rule, null, 2))
}

/** A script using @segment/analytics-node against the daemon cdp test gives it (SEGMENT_HOST, SEGMENT_WRITE_KEY). */
function writeScript(name: string, body: string): string {
  const file = path.join(dir, name)
  writeFileSync(
    file,
    `import {createRequire} from 'node:module'
const {Analytics} = createRequire(${JSON.stringify(repoPackage)})('@segment/analytics-node')
const analytics = new Analytics({writeKey: process.env.SEGMENT_WRITE_KEY, host: process.env.SEGMENT_HOST, flushAt: 1, maxRetries: 1})
${body}
`,
  )
  return file
}

const sendsValid = `analytics.track({userId: 'u1', event: 'Signed Up', properties: {plan: 'pro', seats: 3}})
analytics.track({userId: 'u1', event: 'Signed Up', properties: {plan: 'free'}})
analytics.track({userId: 'u1', event: 'Order Completed', properties: {total: 12.5}})
analytics.identify({userId: 'u1', traits: {email: 'a@example.com'}})
await analytics.closeAndFlush()
`

const sendsInvalid = `analytics.track({userId: 'u1', event: 'Signed Up', properties: {plan: 'gold'}})
analytics.track({userId: 'u2', event: 'Order Completed', properties: {total: '12'}})
analytics.track({userId: 'u3', event: 'Order Completed', properties: {total: 4}})
await analytics.closeAndFlush()
`

/**
 * A small XML reader for the JUnit report: checks the document is well formed (every element
 * closed in order, attributes quoted) and gives its elements with their attributes decoded.
 */
interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  text: string
}

function decode(text: string): string {
  return text.replace(/&(#\d+|lt|gt|amp|quot|apos);/g, (_, entity: string) =>
    entity.startsWith('#') ? String.fromCharCode(Number(entity.slice(1))) : ({lt: '<', gt: '>', amp: '&', quot: '"', apos: "'"} as Record<string, string>)[entity],
  )
}

function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '')
  const root: XmlElement = {name: '#document', attributes: {}, children: [], text: ''}
  const stack = [root]
  const token = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy
  let match: RegExpExecArray | null
  let at = 0
  while ((match = token.exec(body)) !== null) {
    at = token.lastIndex
    const [, closing, name, attributes, selfClosing, text] = match
    const top = stack[stack.length - 1]
    if (text !== undefined) {
      if (top === root && text.trim() !== '') throw new Error(`text outside the root element: ${text}`)
      top.text += decode(text)
    } else if (closing) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`)
      stack.pop()
    } else {
      const element: XmlElement = {name, attributes: {}, children: [], text: ''}
      for (const [, key, value] of attributes.matchAll(/([\w-]+)="([^"]*)"/g)) element.attributes[key] = decode(value)
      top.children.push(element)
      if (!selfClosing) stack.push(element)
    }
  }
  if (at !== body.length) throw new Error(`not XML at ${at}: ${body.slice(at, at + 40)}`)
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`)
  if (root.children.length !== 1) throw new Error('not one root element')
  return root.children[0]
}

function all(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...all(child, name)])
}

describe('cdp test', () => {
  it('passes when the command sends events that follow the plan, with counts per type and name', async () => {
    // Given a script that sends planned, valid events
    writeScript('send.mjs', sendsValid)
    // When cdp test runs it
    const result = await runCli(['test', '--dir', dir, '--', 'node', 'send.mjs'], {cwd: dir})
    // Then it passes and counts what it received
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('✓ node send.mjs exited 0')
    expect(result.stdout).toContain('Events received: 4')
    expect(result.stdout).toMatch(/ {5}2 track +Signed Up\n/)
    expect(result.stdout).toMatch(/ {5}1 track +Order Completed\n/)
    expect(result.stdout).toMatch(/ {5}1 identify\s*\n/)
    expect(result.stdout).toContain('✓ No violations')
    expect(result.stdout).toContain('Planned events received: 2 of 2')
    expect(result.stdout.trimEnd().endsWith('PASS')).toBe(true)
  })

  it('fails on violations and lists each with its event, path, expected and actual', async () => {
    // Given a script that sends events breaking the plan
    writeScript('send.mjs', sendsInvalid)
    // When cdp test runs it
    const result = await runCli(['test', '--dir', dir, '--', 'node', 'send.mjs'], {cwd: dir})
    // Then it fails (1) and lists the violations
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain('✗ 2 violations (fails)')
    expect(result.stdout).toMatch(/Signed Up +properties\.plan +The value at properties\.plan must be one of "free", "pro" but it was "gold"\. +expected "free" \| "pro", got "gold"/)
    expect(result.stdout).toMatch(/Order Completed +properties\.total +The value at properties\.total must be a number but it was a string\. +expected number, got string/)
    expect(result.stdout).toContain('FAIL: plan violations')
    // And --allow-violations reports them without failing
    const allowed = await runCli(['test', '--dir', dir, '--allow-violations', '--', 'node', 'send.mjs'], {cwd: dir})
    expect(allowed.exitCode).toBe(0)
    expect(allowed.stdout).toContain('✗ 2 violations (allowed)')
  })

  it('fails on unplanned events unless --allow-unplanned', async () => {
    // Given a script that sends an event the plan does not have
    writeScript('send.mjs', `analytics.track({userId: 'u1', event: 'Mystery Clicked'})\nawait analytics.closeAndFlush()\n`)
    // When cdp test runs it, then with --allow-unplanned
    const failed = await runCli(['test', '--dir', dir, '--', 'node', 'send.mjs'], {cwd: dir})
    const allowed = await runCli(['test', '--dir', dir, '--allow-unplanned', '--', 'node', 'send.mjs'], {cwd: dir})
    // Then
    expect(failed.exitCode).toBe(1)
    expect(failed.stdout).toContain('✗ 1 unplanned event (fails)\n  Mystery Clicked ×1, source web')
    expect(failed.stdout).toContain('never received: Order Completed, Signed Up')
    expect(allowed.exitCode).toBe(0)
    expect(allowed.stdout).toContain('! 1 unplanned event (allowed)')
  })

  it("exits with the command's own code when it fails", async () => {
    // Given a script that sends valid events, then exits 3
    writeScript('send.mjs', `${sendsValid}process.exit(3)\n`)
    // When cdp test runs it
    const result = await runCli(['test', '--dir', dir, '--', 'node', 'send.mjs'], {cwd: dir})
    // Then its exit code is the script's
    expect(result.exitCode).toBe(3)
    expect(result.stdout).toContain('✗ node send.mjs exited 3')
    expect(result.stdout).toContain('FAIL: the command failed (exit 3)')
  })

  it('fails naming an --expect\'ed event never sent', async () => {
    // Given a script that sends valid events
    writeScript('send.mjs', sendsValid)
    // When cdp test expects one it sends and one it never sends
    const result = await runCli(['test', '--dir', dir, '--expect', 'Signed Up', '--expect', 'Never Sent', '--', 'node', 'send.mjs'], {cwd: dir})
    // Then
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain('✗ Expected but never received: 1 event\n  Never Sent')
    expect(result.stdout).toContain("FAIL: --expect'ed events missing")
  })

  it('writes a JUnit report that parses, with one failure per violation, and GitHub annotations', async () => {
    // Given a script that sends two invalid events and a valid one
    writeScript('send.mjs', sendsInvalid)
    // When cdp test runs it on GitHub Actions with --junit
    const result = await runCli(['test', '--dir', dir, '--junit', 'reports/tracking.xml', '--expect', 'Never Sent', '--', 'node', 'send.mjs'], {cwd: dir, env: {GITHUB_ACTIONS: 'true'}})
    expect(result.exitCode).toBe(1)
    // Then the report is well-formed XML: a case per planned event seen or expected, a failure per violation
    const suites = parseXml(readFileSync(path.join(dir, 'reports', 'tracking.xml'), 'utf8'))
    expect(suites.name).toBe('testsuites')
    expect(suites.attributes).toMatchObject({name: 'cdp test', tests: '3', failures: '3'})
    const cases = all(suites, 'testcase')
    expect(cases.map((c) => c.attributes.name)).toEqual(['Order Completed', 'Signed Up', 'Never Sent'])
    const failures = (name: string) => all(cases.find((c) => c.attributes.name === name) as XmlElement, 'failure')
    expect(failures('Order Completed').map((f) => [f.attributes.type, f.attributes.message])).toEqual([['wrong_type', 'properties.total: The value at properties.total must be a number but it was a string.']])
    expect(failures('Order Completed')[0].text).toContain('expected: number\nactual: string\n')
    expect(failures('Signed Up').map((f) => f.attributes.message)).toEqual(['properties.plan: The value at properties.plan must be one of "free", "pro" but it was "gold".'])
    expect(failures('Never Sent').map((f) => f.attributes.type)).toEqual(['ExpectedEventMissing'])
    expect(all(suites, 'failure')).toHaveLength(3)
    // And GitHub annotations name each, escaped as workflow commands want
    expect(result.stderr).toContain('::error title=Tracking plan violation%3A Order Completed::properties.total: The value at properties.total must be a number but it was a string. (expected number, got string)\n::error')
    expect(result.stderr).toContain('::error title=Tracking plan violation%3A Signed Up::properties.plan:')
    expect(result.stderr).toContain('::error title=Expected event missing%3A Never Sent::"Never Sent" was expected (--expect) and never received.')
  })

  it("gives the command the daemon's URL and the source's write key under the SDKs' names", async () => {
    // Given a script that prints its environment
    writeFileSync(
      path.join(dir, 'env.mjs'),
      `const names = ['CDP_URL', 'CDP_WRITE_KEY', 'SEGMENT_WRITE_KEY', 'SEGMENT_HOST', 'SEGMENT_API_HOST', 'RUDDERSTACK_DATA_PLANE_URL', 'RUDDERSTACK_WRITE_KEY']
console.log(JSON.stringify(Object.fromEntries(names.map((n) => [n, process.env[n]]))))
`,
    )
    // When cdp test runs it, with the second source and --json
    const result = await runCli(['test', '--dir', dir, '--source', 'server', '--json', '--', 'node', 'env.mjs'], {cwd: dir})
    // Then the script got them (on stderr: under --json stdout holds only the report) and the report says the same
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout)
    const seen = JSON.parse(result.stderr.trim())
    const url = report.url as string
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(seen).toEqual({
      CDP_URL: url,
      CDP_WRITE_KEY: 'server-write-key-0002',
      SEGMENT_WRITE_KEY: 'server-write-key-0002',
      SEGMENT_HOST: url,
      SEGMENT_API_HOST: url,
      RUDDERSTACK_DATA_PLANE_URL: url,
      RUDDERSTACK_WRITE_KEY: 'server-write-key-0002',
    })
    expect(report).toMatchObject({source: 'server', env: seen, exitCode: 0, failures: [], events: {total: 0}, plannedNotSeen: ['Order Completed', 'Signed Up']})
  })

  it('counts events an SDK sends on its way out, after the command has ended, within the settle time', async () => {
    // Given a script that sends nothing while it runs: on exit it hands its events to a process that sends them a moment later
    const sender = writeScript('late-sender.mjs', `await new Promise((r) => setTimeout(r, 100))\nanalytics.track({userId: 'u1', event: 'Signed Up', properties: {plan: 'pro'}})\nawait analytics.closeAndFlush()\n`)
    writeFileSync(
      path.join(dir, 'exits.mjs'),
      `import {spawn} from 'node:child_process'
process.on('beforeExit', () => {
  spawn(process.execPath, [${JSON.stringify(sender)}], {detached: true, stdio: 'ignore'}).unref()
})
`,
    )
    // When cdp test runs it with no settle time, then waiting long enough for the late process on a busy machine
    const unsettled = await runCli(['test', '--dir', dir, '--json', '--settle', '0', '--expect', 'Signed Up', '--', 'node', 'exits.mjs'], {cwd: dir})
    const settled = await runCli(['test', '--dir', dir, '--json', '--settle', '3000', '--expect', 'Signed Up', '--', 'node', 'exits.mjs'], {cwd: dir})
    // Then the late event is missed without it, and counted with it
    expect(unsettled.exitCode).toBe(1)
    expect(JSON.parse(unsettled.stdout)).toMatchObject({events: {total: 0}, expectedMissing: ['Signed Up']})
    expect(settled.exitCode).toBe(0)
    expect(JSON.parse(settled.stdout).events).toEqual({total: 1, byType: [{type: 'track', event: 'Signed Up', count: 1}]})
  })

  it('prints one JSON object with --json', async () => {
    // Given a script sending one invalid event
    writeScript('send.mjs', sendsInvalid)
    // When
    const result = await runCli(['test', '--dir', dir, '--json', '--', 'node', 'send.mjs'], {cwd: dir})
    // Then
    expect(result.exitCode).toBe(1)
    const report = JSON.parse(result.stdout)
    expect(report).toMatchObject({
      command: ['node', 'send.mjs'],
      commandExit: {code: 0, signal: null},
      events: {total: 3},
      unplanned: [],
      planned: [
        {event: 'Order Completed', seen: true},
        {event: 'Signed Up', seen: true},
      ],
      failures: ['violations'],
      exitCode: 1,
    })
    expect(report.violations.map((v: {event: string; path: string; kind: string}) => [v.event, v.path, v.kind])).toEqual([
      ['Signed Up', 'properties.plan', 'enum_mismatch'],
      ['Order Completed', 'properties.total', 'wrong_type'],
    ])
  })

  it('says so clearly when the command cannot start', async () => {
    // When the command does not exist
    const result = await runCli(['test', '--dir', dir, '--', 'no-such-command-cdp', '--flag'], {cwd: dir})
    // Then
    expect(result.exitCode).toBe(127)
    expect(result.stderr).toContain('Error: Cannot run "no-such-command-cdp": no such command.')
    expect(result.stderr).toContain('Try: Put the command after `--`')
    // And with no command at all
    const none = await runCli(['test', '--dir', dir], {cwd: dir})
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toContain('No command to run.')
  })

  it('stops the command and the daemon together on SIGTERM', async () => {
    // Given a command that runs until stopped, and writes a file when it hears SIGTERM
    writeFileSync(
      path.join(dir, 'forever.mjs'),
      `import {writeFileSync} from 'node:fs'
process.on('SIGTERM', () => { writeFileSync('stopped', 'yes'); process.exit(0) })
console.log('ready')
setInterval(() => {}, 1000)
`,
    )
    const child = execa('node', [binPath, 'test', '--dir', dir, '--', 'node', 'forever.mjs'], {cwd: dir, reject: false, env: {NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}, buffer: true})
    await new Promise<void>((resolve) => child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()))
    // When cdp test gets SIGTERM
    child.kill('SIGTERM')
    const result = await child
    // Then the command was stopped and cdp test ends quietly with 130
    expect(readFileSync(path.join(dir, 'stopped'), 'utf8')).toBe('yes')
    expect(result.exitCode).toBe(130)
  })
})
