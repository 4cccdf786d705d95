import http from 'node:http'
import os from 'node:os'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {planRegExp, re2Source, unusablePattern} from '../../src/plan/regexp.js'
import {runCli, startDaemonProcess} from '../helpers/cli.js'
import {memoryLogger, startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth, getJson, post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const key = testSources[0].writeKey
/** 33 a's and a "!": V8's backtracking engine takes tens of seconds on it against "^(a+)+$". */
const hostile = 'a'.repeat(33) + '!'

const signedUp = (properties: Record<string, unknown>) => ({
  name: 'Signed Up',
  description: 'A new account.',
  properties: {type: 'object', properties},
})
const planProperties = {
  code: {type: 'string', pattern: '^(a+)+$'},
  currency: {type: 'string', pattern: '^[A-Z]{3}$'},
  handle: {type: 'string', pattern: '^\\S+$'},
}

function writePlanFile(dir: string, relative: string, content: unknown): string {
  const file = path.join(dir, 'plan', relative)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, JSON.stringify(content, null, 2))
  return file
}

/**
 * GET on its own keep-alive connection: the status and how long the answer took. A daemon stuck
 * in a pattern never answers: after 5 s the request is given up as status 0.
 */
function timedGet(agent: http.Agent, url: string): Promise<{status: number; ms: number}> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    const request = http.get(url, {agent, timeout: 5000}, (response) => {
      response.resume()
      response.on('end', () => resolve({status: response.statusCode ?? 0, ms: performance.now() - start}))
    })
    request.on('timeout', () => {
      request.destroy()
      resolve({status: 0, ms: performance.now() - start})
    })
    request.on('error', reject)
  })
}

describe('plan patterns are matched in linear time', () => {
  let t: TestDaemon
  let cleanup: () => void
  const log = memoryLogger()

  beforeAll(async () => {
    const temp = tempDir()
    cleanup = temp.cleanup
    writeConfig(temp.dir, {sources: testSources})
    writePlanFile(temp.dir, 'events/signed-up.json', signedUp(planProperties))
    t = await startTestDaemon({dir: temp.dir, config: {sources: testSources}, log})
  })
  afterAll(async () => {
    await t.close()
    cleanup()
  })

  it('hostile values against "^(a+)+$" are stored with their violation while /health keeps answering within 100 ms', async () => {
    // Given cdp dev in its own process (a regression then fails this test instead of freezing it),
    // and a second connection that asks /health back to back, both warmed up
    const {dir, cleanup: remove} = tempDir()
    writeConfig(dir, {sources: testSources})
    writePlanFile(dir, 'events/signed-up.json', signedUp(planProperties))
    const daemon = await startDaemonProcess(dir)
    const agent = new http.Agent({keepAlive: true, maxSockets: 1})
    // The 100 ms bound is for the daemon, not for a shared 2-core machine's run queue: the daemon's
    // event loop and this test's run ahead of other processes (root may raise priority; else as is).
    const priority = os.getPriority()
    for (const pid of [0, daemon.child.pid as number]) {
      try {
        os.setPriority(pid, -10)
      } catch {}
    }
    try {
      expect((await timedGet(agent, `${daemon.url}/health`)).status).toBe(200)
      expect((await post(`${daemon.url}/v1/track`, {userId: 'u', messageId: 'warm-up', event: 'Signed Up', properties: {code: 'aaa'}}, {writeKey: key})).status).toBe(200)
      const health: {status: number; ms: number}[] = []
      let sending = true
      const poller = (async () => {
        while (sending || health.length < 3) health.push(await timedGet(agent, `${daemon.url}/health`))
      })()
      try {
        // When a batch of 20 events carries a value that makes a backtracking engine explode
        const batch = Array.from({length: 20}, (_, i) => ({type: 'track', userId: `u-${i}`, messageId: `hostile-${i}`, event: 'Signed Up', properties: {code: hostile}}))
        const answer = await fetch(`${daemon.url}/v1/batch`, {
          method: 'POST',
          headers: {'content-type': 'application/json', authorization: basicAuth(key)},
          body: JSON.stringify({batch}),
          // A daemon stuck in a pattern would keep this test waiting for minutes.
          signal: AbortSignal.timeout(5000),
        })
        expect(answer.status).toBe(200)
        await answer.arrayBuffer()
      } finally {
        sending = false
        await poller
      }

      // Then every /health answered 200 within 100 ms while the events were being checked
      expect(health.length).toBeGreaterThanOrEqual(3)
      expect(health.filter((h) => h.status !== 200 || h.ms >= 100)).toEqual([])
      // And every event is stored, marked invalid, with the pattern violation in the usual words
      const invalid = (await getJson(`${daemon.url}/api/events?event=Signed%20Up&valid=false&limit=100`)).body as any[]
      expect(invalid.map((m) => m.messageId).sort()).toEqual(Array.from({length: 20}, (_, i) => `hostile-${i}`).sort())
      const violations = (await getJson(`${daemon.url}/api/violations?kind=pattern_mismatch&limit=100`)).body as any[]
      expect(violations).toHaveLength(20)
      expect(violations.find((v) => v.messageId === 'hostile-0')).toMatchObject({
        kind: 'pattern_mismatch',
        path: 'properties.code',
        expected: '^(a+)+$',
        actual: JSON.stringify(hostile),
        message: `The value at properties.code must match the pattern ^(a+)+$ but it was ${JSON.stringify(hostile)}.`,
      })
    } finally {
      os.setPriority(0, priority)
      agent.destroy()
      // A daemon stuck in a pattern would never handle SIGTERM.
      const stopped = daemon.stop()
      const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 10_000)
      await stopped
      clearTimeout(timer)
      remove()
    }
  })

  it('an ordinary pattern gives the same pattern_mismatch as before, and a value that fits passes', async () => {
    await fetch(`${t.url}/api/events`, {method: 'DELETE'})
    expect((await post(`${t.url}/v1/track`, {userId: 'u', messageId: 'euro', event: 'Signed Up', properties: {currency: 'euro'}}, {writeKey: key})).status).toBe(200)
    expect((await post(`${t.url}/v1/track`, {userId: 'u', messageId: 'eur', event: 'Signed Up', properties: {currency: 'EUR', code: 'aaa'}}, {writeKey: key})).status).toBe(200)
    const violations = (await getJson(`${t.url}/api/violations`)).body as any[]
    expect(violations.map((v) => [v.messageId, v.kind, v.path, v.message])).toEqual([
      ['euro', 'pattern_mismatch', 'properties.currency', 'The value at properties.currency must match the pattern ^[A-Z]{3}$ but it was "euro".'],
    ])
    expect(t.storedEvents().map((e) => [e.message.messageId, e.valid])).toEqual([
      ['euro', false],
      ['eur', true],
    ])
  })

  it('keeps ECMAScript meaning where RE2 differs: \\S refuses a no-break space', async () => {
    await fetch(`${t.url}/api/events`, {method: 'DELETE'})
    // RE2's own \S would accept U+00A0; ECMAScript's, which JSON Schema means, does not.
    await post(`${t.url}/v1/track`, {userId: 'u', messageId: 'nbsp', event: 'Signed Up', properties: {handle: 'ada\u00a0lovelace'}}, {writeKey: key})
    await post(`${t.url}/v1/track`, {userId: 'u', messageId: 'plain', event: 'Signed Up', properties: {handle: 'ada_lovelace'}}, {writeKey: key})
    const violations = (await getJson(`${t.url}/api/violations`)).body as any[]
    expect(violations.map((v) => [v.messageId, v.kind, v.path])).toEqual([['nbsp', 'pattern_mismatch', 'properties.handle']])
  })

  it('an edit that brings a lookahead keeps the last good plan in force and logs the pattern with its file and path', async () => {
    const file = path.join(t.dir, 'plan', 'events', 'signed-up.json')
    writeFileSync(file, JSON.stringify(signedUp({...planProperties, currency: {type: 'string', pattern: '^(?!XXX)[A-Z]{3}$'}})))
    await waitFor('the reload to log the pattern', () => log.lines.some((line) => line.includes('(?!XXX)')), 5_000)
    const logged = log.lines.join('\n')
    expect(logged).toContain(`plan ${path.join(t.dir, 'plan')} has 1 error; the last good plan stays in force:`)
    expect(logged).toContain(`${file} /properties/properties/currency/pattern: pattern "^(?!XXX)[A-Z]{3}$" cannot be matched in linear time: it has the lookahead (?!…).`)

    await fetch(`${t.url}/api/events`, {method: 'DELETE'})
    await post(`${t.url}/v1/track`, {userId: 'u', messageId: 'after-edit', event: 'Signed Up', properties: {currency: 'euro'}}, {writeKey: key})
    const violations = (await getJson(`${t.url}/api/violations`)).body as any[]
    expect(violations.map((v) => [v.messageId, v.kind, v.expected])).toEqual([['after-edit', 'pattern_mismatch', '^[A-Z]{3}$']])
  })
})

describe('cdp plan validate refuses patterns the linear-time engine cannot match', () => {
  let dir: string
  let cleanup: () => void
  beforeAll(() => {
    ;({dir, cleanup} = tempDir())
    writeConfig(dir, {sources: testSources})
  })
  afterAll(() => cleanup())

  it('names the file, the JSON path and the pattern, says why and what to do; exit 1', async () => {
    const file = writePlanFile(dir, 'events/signed-up.json', {
      ...signedUp({password: {type: 'string', pattern: '^(?=.*\\d).{8,}$'}, repeated: {type: 'string', pattern: '^(ab)\\1$'}}),
      definitions: {tag: {type: 'string', pattern: '^[a-z]+$'}},
    })
    const result = await runCli(['plan', 'validate', '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toBe(
      [
        `${path.join(dir, 'plan')}: 1 event rule`,
        `  error   ${file} /properties/properties/password/pattern: pattern "^(?=.*\\\\d).{8,}$" cannot be matched in linear time: it has the lookahead (?=…). cdp dev checks every event against the plan on its one thread, so plan patterns are matched by a linear-time engine (RE2). Write it without lookaround: each condition as its own pattern under "allOf", a forbidden one under "not".`,
        `  error   ${file} /properties/properties/repeated/pattern: pattern "^(ab)\\\\1$" cannot be matched in linear time: it has the backreference \\1. cdp dev checks every event against the plan on its one thread, so plan patterns are matched by a linear-time engine (RE2). No linear-time engine can match a backreference: write the pattern without it, accepting a little more.`,
        '2 errors, 0 warnings',
      ].join('\n'),
    )
  })

  it('--json gives each refused pattern as a problem with file, pointer and message, in patternProperties and shared definitions too', async () => {
    rmSync(path.join(dir, 'plan'), {recursive: true, force: true})
    writePlanFile(dir, 'events/signed-up.json', {...signedUp({}), properties: {type: 'object', patternProperties: {'^x-(?<!y)': {type: 'string'}}}})
    writePlanFile(dir, 'definitions.json', {definitions: {zip: {type: 'string', pattern: '^\\d{5}(?:-\\d{1001})?$'}}})
    const result = await runCli(['plan', 'validate', '--dir', dir, '--json'])
    expect(result.exitCode).toBe(1)
    const [report] = JSON.parse(result.stdout)
    expect(report.problems.map((p: any) => [p.severity, p.file, p.pointer, p.message.split('. ')[0]])).toEqual([
      ['error', 'definitions.json', '/definitions/zip/pattern', 'pattern "^\\\\d{5}(?:-\\\\d{1001})?$" cannot be matched in linear time: it repeats {1001} times, more than RE2\'s 1000'],
      ['error', 'events/signed-up.json', '/properties/patternProperties/^x-(?<!y)', 'pattern "^x-(?<!y)" cannot be matched in linear time: it has the lookbehind (?<!…)'],
    ])
  })
})

describe('the engine itself', () => {
  it('matches as ECMAScript does on a corpus of plan-like patterns and tricky strings', () => {
    const patterns = [
      '^[a-z0-9_]+$', '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', '^\\S+$', '^\\s*$', '^.$', '^.+$', '^[^]$', '^[]', '^\\u00e9$', '^\\u{1F600}$',
      '^\\uD83D\\uDE00$', '^[\\u0041-\\u005A]+$', '^\\x41$', '^\\cJ$', '^\\0$', '[\\b]', '\\bfoo\\b', '^(?<year>\\d{4})-(?:\\d{2})$',
      '^\\p{Lu}\\p{Ll}+$', '^\\p{Letter}+$', '^\\p{Script=Greek}+$', '^\\p{ASCII}+$', '^[\\P{ASCII}x]+$', '^[a-]+$', '^[-a]+$',
      '^[\\-\\]\\[\\^]+$', '^[\\w.+-]+$', '^\\/path\\/$', '^\\$\\d+(?:\\.\\d\\d)?$', '^[A-Z]{3}$', 'a{2,}', '^[^\\S\\n]+$', '^\\W+$',
      '^[\\D]+$', '^\\p{L}[\\p{L}\\p{N} ]*$', '^😀+$', '^[😀-😂]$', '^\\.\\*$', '^[*+?(){}|]+$', '^[.]$', 'x*?y', '^#\\d$', '^ $', '^(a+)+$',
    ]
    const strings = [
      '', 'a', 'abc', 'A', 'Ab', 'ab_9', 'é', 'É', '😀', '😁', '\ud83d', 'x y', 'x\u00a0y', '\u00a0', '\u2028', '\u3000', '\ufeff', '\v', '\n',
      '\r', '\t', ' ', 'ada@example.com', 'a@b', '2024-05', 'foo bar', 'foobar', '/path/', '$12.50', 'EUR', 'euro', 'aaa', 'aaaa!', '-', ']',
      '[', '^', '\\', 'Αλφα', 'ab\ncd', '\b', '\0', 'AB', '*', '.', '.*', '#1', 'a-', 'hello world 12', '\u0085', '\u180e', '\u200b', 'ǅ',
    ]
    const differences: string[] = []
    for (const pattern of patterns) {
      const native = new RegExp(pattern, 'u')
      const linear = planRegExp(pattern, 'u')
      for (const text of strings) if (native.test(text) !== linear.test(text)) differences.push(`${pattern} on ${JSON.stringify(text)}: ECMAScript ${native.test(text)}`)
    }
    expect(differences).toEqual([])
  })

  it('refuses what no linear-time engine matches, and what would be too large', () => {
    expect(['(?=a)b', '(?<=a)b', '(a)\\1', '(?<n>a)\\k<n>', 'a{1001}', '(a{100}){20}', '[^x]{1000}[^x]{1000}', 'a++'].map((p) => unusablePattern(p)?.reason)).toEqual([
      'cannot be matched in linear time: it has the lookahead (?=…)',
      'cannot be matched in linear time: it has the lookbehind (?<=…)',
      'cannot be matched in linear time: it has the backreference \\1',
      'cannot be matched in linear time: it has the backreference \\k<…>',
      "cannot be matched in linear time: it repeats {1001} times, more than RE2's 1000",
      "cannot be matched in linear time: its nested counted repeats multiply past RE2's 1000 (invalid repeat count: `{20}`)",
      'cannot be matched in linear time: it compiles to 2002 instructions, more than 1000',
      'is not a valid regular expression (/a++/u: Nothing to repeat)',
    ])
    expect(re2Source('^[a-z0-9_]+$')).toBe('^[a-z0-9_]+$')
  })
})

describe('cdp plan codegen --validate', () => {
  const repo = fileURLToPath(new URL('../../', import.meta.url))
  let ws: string
  // Inside the repository, so that the generated client resolves ajv and re2js as a user's app would.
  beforeAll(() => {
    ws = mkdtempSync(path.join(repo, 'test', '.tmp-redos-'))
    writeConfig(ws, {sources: testSources})
  })
  afterAll(() => rmSync(ws, {recursive: true, force: true}))

  it('generates a client whose patterns run on re2js: a hostile value is a violation, found at once', async () => {
    writePlanFile(ws, 'events/signed-up.json', signedUp(planProperties))
    const result = await runCli(['plan', 'codegen', '--dir', ws, '--validate'])
    expect(result.exitCode, result.stderr).toBe(0)
    const source = readFileSync(path.join(ws, 'analytics', 'index.ts'), 'utf8')
    expect(source).toContain("import {RE2JS} from 're2js'")
    expect(source).toContain('  ["^(a+)+$", "^(a+)+$"],\n')

    const {createTracker} = await import(path.join(ws, 'analytics', 'index.ts'))
    const violations: any[] = []
    const sent: any[] = []
    const tracker = createTracker({track: (m: unknown) => sent.push(m), identify: () => {}, group: () => {}}, {onViolation: (v: unknown) => violations.push(v)})
    const start = performance.now()
    tracker.signedUp({userId: 'u', properties: {code: hostile, currency: 'euro', handle: 'ada\u00a0lovelace'}})
    // V8's own engine would spend tens of seconds on the first pattern alone.
    expect(performance.now() - start).toBeLessThan(1000)
    expect(violations).toEqual([
      {
        event: 'Signed Up',
        errors: [
          {path: 'properties.code', message: 'must match pattern "^(a+)+$"'},
          {path: 'properties.currency', message: 'must match pattern "^[A-Z]{3}$"'},
          {path: 'properties.handle', message: 'must match pattern "^\\S+$"'},
        ],
      },
    ])
    expect(sent).toHaveLength(1)
  })

  it('refuses a plan with a pattern it cannot match in linear time, and --check refuses it the same way', async () => {
    const file = writePlanFile(ws, 'events/signed-up.json', signedUp({...planProperties, code: {type: 'string', pattern: '^(?:(?!--).)+$'}}))
    const expected = `Error: The plan in ${path.join(ws, 'plan')} does not validate (1 error), first: ${file} /properties/properties/code/pattern: pattern "^(?:(?!--).)+$" cannot be matched in linear time: it has the lookahead (?!…).`
    for (const args of [['--validate'], ['--check'], ['--validate', '--check']]) {
      const result = await runCli(['plan', 'codegen', '--dir', ws, ...args])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(expected)
      expect(result.stderr).toContain('Try: Run `cdp plan validate` and fix the plan first.')
    }
  })
})
