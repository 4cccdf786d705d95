import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = tempDir()))
afterEach(() => cleanup())

describe('cdp init', () => {
  it('scaffolds cdp.json with a source and a random write key, plan/ and .gitignore', async () => {
    const result = await runCli(['init', dir, '--yes', '--source', 'web'])
    expect(result.exitCode).toBe(0)
    const config = JSON.parse(readFileSync(path.join(dir, 'cdp.json'), 'utf8'))
    expect(config).toEqual({sources: [{name: 'web', writeKey: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/)}], destinations: [], functions: []})
    expect(JSON.parse(readFileSync(path.join(dir, 'plan', 'events', 'signed-up.json'), 'utf8')).name).toBe('Signed Up')
    expect(existsSync(path.join(dir, 'plan', 'identify.json'))).toBe(true)
    // The example plan is valid as written.
    const validate = await runCli(['plan', 'validate', '--dir', dir])
    expect(validate.exitCode).toBe(0)
    expect(validate.stdout).toMatch(/valid: 0 errors, 0 warnings$/)
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toContain('.cdp/')
    expect(result.stdout).toContain(`Source web has write key ${config.sources[0].writeKey}`)

    const again = await runCli(['init', dir, '--yes'])
    expect(again.exitCode).toBe(1)
    expect(again.stderr).toContain(`Error: ${path.join(dir, 'cdp.json')} already exists; cdp init will not overwrite it.`)
    expect(again.stderr).toContain('Try: Run `cdp init --force`')
    expect(JSON.parse(readFileSync(path.join(dir, 'cdp.json'), 'utf8'))).toEqual(config)
  })

  it('--force replaces cdp.json with a new key; an existing .gitignore is extended, not replaced', async () => {
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/')
    await runCli(['init', dir, '--yes'])
    const first = JSON.parse(readFileSync(path.join(dir, 'cdp.json'), 'utf8'))
    const forced = await runCli(['init', dir, '--yes', '--force', '--json'])
    expect(forced.exitCode).toBe(0)
    const result = JSON.parse(forced.stdout)
    expect(result.files.map((f: {action: string}) => f.action)).toEqual(['overwritten', 'unchanged', 'unchanged'])
    expect(result.config.sources[0].writeKey).not.toBe(first.sources[0].writeKey)
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n.cdp/\n')
  })

  it('refuses a source name that cdp.json would not accept', async () => {
    const result = await runCli(['init', dir, '--yes', '--source', 'my source!'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('Cannot use "my source!" as a source name')
  })
})

describe('cdp.json validation', () => {
  it('names the file and every bad field at once', async () => {
    writeConfig(dir, {sources: [{name: 'web', writeKey: 123}, {name: 'web', writeKey: 'short'}], destinatons: []})
    const result = await runCli(['dev', '--port', '0', '--dir', dir])
    expect(result.exitCode).toBe(1)
    const file = path.join(dir, 'cdp.json')
    expect(result.stderr).toContain(`Error: ${file} has 3 problems:`)
    expect(result.stderr).toContain('- (top level): unknown field "destinatons"')
    expect(result.stderr).toContain('- /sources/0/writeKey: must be string')
    expect(result.stderr).toContain('- /sources/1/writeKey: must NOT have fewer than 8 characters')
  })

  it('reports invalid JSON with the file', async () => {
    writeConfig(dir, '{"sources": [')
    const result = await runCli(['dev', '--port', '0', '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`Error: ${path.join(dir, 'cdp.json')} is not valid JSON:`)
  })

  it('reports two sources with the same write key', async () => {
    writeConfig(dir, {sources: [{name: 'a', writeKey: 'same-key-123'}, {name: 'b', writeKey: 'same-key-123'}]})
    const result = await runCli(['dev', '--port', '0', '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('- /sources/1/writeKey: the same writeKey as /sources/0; each source needs its own')
  })
})
