import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {fixturePath} from '../helpers/daemon.js'

let ws: string
beforeAll(() => {
  ws = mkdtempSync(path.join(os.tmpdir(), 'cdp-codegen-format-'))
  cpSync(fixturePath('ecommerce'), ws, {recursive: true})
})
afterAll(() => rmSync(ws, {recursive: true, force: true}))

/** The generated file with cdp's version left out, so that a release does not change the snapshot. */
function withoutVersion(text: string): string {
  return text.replace(/\(cdp \d+\.\d+\.\d+[^,)]*/, '(cdp <version>').replace(/"version":"[^"]+"/, '"version":"<version>"')
}

describe('the E-commerce client, as a person would write it', () => {
  it.each([
    ['TypeScript', [], 'index.ts', 'ecommerce-node.ts.snap'],
    ['JavaScript', ['--language', 'js'], 'index.js', 'ecommerce-node.js.snap'],
  ])('%s: the snapshot reviewed by eye (two-space indentation, a blank line between declarations)', async (_label, args, file, snapshot) => {
    // Given the E-commerce fixture plan, when codegen writes the client
    const out = `out-${file}`
    const result = await runCli(['plan', 'codegen', '--dir', ws, '--out', out, ...args])
    expect(result.exitCode, result.stderr).toBe(0)
    const text = readFileSync(path.join(ws, out, file), 'utf8')
    // Then it is the reviewed snapshot
    await expect(withoutVersion(text)).toMatchFileSnapshot(`__snapshots__/${snapshot}`)
    // and it is laid out by rule: indentation in steps of two, no trailing spaces, one blank line at most, one newline at the end
    for (const line of text.split('\n')) {
      // A block comment's lines (" * …") sit one column in, under its "/**".
      const code = line.replace(/^( *) \*(\/| |$)/, '$1')
      expect(/^( *)/.exec(code)![1].length % 2, line).toBe(0)
      expect(line, 'trailing space').not.toMatch(/\s$/)
    }
    expect(text).not.toMatch(/\n\n\n/)
    expect(text.endsWith('}\n')).toBe(true)
    // and declarations are indented: no member at column 0 (the old output's fault)
    expect(text).not.toMatch(/\{\n[a-z_]+\??: /)
  })

  it('the same plan always gives the same bytes, whichever language', async () => {
    for (const args of [[], ['--language', 'js']]) {
      const first = await runCli(['plan', 'codegen', '--dir', ws, '--out', 'twice', ...args, '--json'])
      const second = await runCli(['plan', 'codegen', '--dir', ws, '--out', 'twice', ...args, '--json'])
      expect(JSON.parse(first.stdout).files[0].status).toMatch(/written|unchanged/)
      expect(JSON.parse(second.stdout).files[0].status).toBe('unchanged')
    }
  })

  it('--check calls a client from the previous cdp stale when only its layout differs, once', async () => {
    // Given the client cdp wrote for this same plan before its output was formatted (b952d44)
    const previous = readFileSync(new URL('fixtures/ecommerce-index-cdp-b952d44.ts.txt', import.meta.url), 'utf8')
    const target = path.join(ws, 'analytics', 'index.ts')
    rmSync(path.join(ws, 'analytics'), {recursive: true, force: true})
    cpSync(new URL('fixtures/ecommerce-index-cdp-b952d44.ts.txt', import.meta.url), target, {force: true})
    expect(readFileSync(target, 'utf8')).toBe(previous)
    // When --check runs: stale, exit 1
    const stale = await runCli(['plan', 'codegen', '--dir', ws, '--check'])
    expect(stale.exitCode).toBe(1)
    expect(stale.stdout).toContain(`stale     ${target}`)
    // Then after one codegen it is current
    expect((await runCli(['plan', 'codegen', '--dir', ws])).exitCode).toBe(0)
    const current = await runCli(['plan', 'codegen', '--dir', ws, '--check'])
    expect(current.exitCode).toBe(0)
    expect(current.stdout).toContain('The generated client is current.')
  })

  it('a JavaScript client is checked too: stale after a hand edit, missing when absent', async () => {
    expect((await runCli(['plan', 'codegen', '--dir', ws, '--language', 'js', '--out', 'js-check'])).exitCode).toBe(0)
    expect((await runCli(['plan', 'codegen', '--dir', ws, '--language', 'js', '--out', 'js-check', '--check'])).exitCode).toBe(0)
    const file = path.join(ws, 'js-check', 'index.js')
    writeFileSync(file, readFileSync(file, 'utf8').replace('cartViewed(message)', 'cartViewed(msg)'))
    const stale = await runCli(['plan', 'codegen', '--dir', ws, '--language', 'js', '--out', 'js-check', '--check'])
    expect(stale.exitCode).toBe(1)
    expect(stale.stdout).toContain(`stale     ${file}`)
    const missing = await runCli(['plan', 'codegen', '--dir', ws, '--language', 'js', '--out', 'js-nowhere', '--check'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stdout).toContain(`missing   ${path.join(ws, 'js-nowhere', 'index.js')}`)
  })

  it.each([
    ['is not JSON Schema', {type: 'object', properties: {query: {type: 'strin'}}}, 'invalid JSON Schema'],
    ['has a pattern cdp cannot match in linear time', {type: 'object', properties: {query: {type: 'string', pattern: '^(a)\\1$'}}}, 'pattern'],
  ])('a plan whose rule %s is refused, naming the file', async (_label, properties, message) => {
    const file = path.join(ws, 'plan', 'events', 'broken-rule.json')
    writeFileSync(file, JSON.stringify({name: 'Broken Rule', properties}))
    try {
      const result = await runCli(['plan', 'codegen', '--dir', ws, '--out', 'refused'])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain('does not validate')
      expect(result.stderr).toContain(file)
      expect(result.stderr).toContain(message)
      expect(result.stderr).toContain('Try: Run `cdp plan validate` and fix the plan first.')
    } finally {
      rmSync(file)
    }
  })

  it('an unknown language is refused with the ones there are', async () => {
    const result = await runCli(['plan', 'codegen', '--dir', ws, '--language', 'ruby'])
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('Expected --language=ruby to be one of: ts, js')
  })
})
