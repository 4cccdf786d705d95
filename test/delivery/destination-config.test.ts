import {existsSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {runCli, startDaemonProcess} from '../helpers/cli.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'
import {unusedPort} from '../helpers/ports.js'

let cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups) cleanup()
  cleanups = []
})

function workspace(destinations: unknown[]): string {
  const {dir, cleanup} = tempDir()
  cleanups.push(cleanup)
  writeConfig(dir, {sources: testSources, destinations})
  return dir
}

/** `cdp dev` on a free port; it is expected to refuse to start, so it never needs stopping. */
async function startRefused(dir: string): Promise<{exitCode: number; lines: string[]}> {
  const result = await runCli(['dev', '--port', '0', '--dir', dir])
  // Nothing was served: no daemon file for other commands to find.
  expect(existsSync(path.join(dir, '.cdp', 'daemon.json'))).toBe(false)
  expect(result.stdout).toBe('')
  // Under vitest NODE_ENV is "test", and oclif then warns (" ›   Warning: …") that it runs dist/, not src/.
  const lines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith(' ›'))
  return {exitCode: result.exitCode, lines}
}

const hint = 'Try: Fix these fields in cdp.json; the README\'s "The workspace" section describes it.'


describe('cdp dev refuses a bad destination, naming it', () => {
  it('an unknown destination type', async () => {
    const dir = workspace([{name: 'crm', type: 'mailchimp', apiKey: 'k'}])
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 1 problem:`,
        '  - /destinations/0/type: destination "crm" has unknown type "mailchimp"; use one of webhook, file, segment, postgres, function',
        hint,
      ],
    })
  })

  it('a webhook without a URL, and one with a URL that is not http(s)', async () => {
    const dir = workspace([
      {name: 'crm-hook', type: 'webhook'},
      {name: 'ftp-hook', type: 'webhook', url: 'ftp://example.com/in'},
    ])
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 2 problems:`,
        '  - /destinations/0: missing required field "url" (destination "crm-hook")',
        '  - /destinations/1/url: must match pattern "^https?://[^\\s/?#]+[^\\s]*$" (destination "ftp-hook")',
        hint,
      ],
    })
  })

  it('a file destination without a path', async () => {
    const dir = workspace([{name: 'archive', type: 'file', maxBytes: 4096}])
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [`Error: ${path.join(dir, 'cdp.json')} has 1 problem:`, '  - /destinations/0: missing required field "path" (destination "archive")', hint],
    })
  })

  it('a setting its type does not have', async () => {
    const dir = workspace([{name: 'archive', type: 'file', path: 'events.ndjson', url: 'http://example.com'}])
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [`Error: ${path.join(dir, 'cdp.json')} has 1 problem:`, '  - /destinations/0: unknown field "url" (destination "archive")', hint],
    })
  })

  it('a destination naming a source cdp.json does not define', async () => {
    const dir = workspace([{name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/in', sources: ['web', 'mobile']}])
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 1 problem:`,
        '  - /destinations/0/sources: destination "hook" names source "mobile", which cdp.json does not define',
        hint,
      ],
    })
  })

  it('two destinations with one name', async () => {
    const dir = workspace([
      {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/a'},
      {name: 'archive', type: 'file', path: 'events.ndjson'},
      {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/b'},
    ])
    expect(await startRefused(dir)).toEqual({
      exitCode: 1,
      lines: [
        `Error: ${path.join(dir, 'cdp.json')} has 1 problem:`,
        '  - /destinations/2/name: destination "hook" has the same name as /destinations/0; each destination needs its own',
        hint,
      ],
    })
  })

  it('reports every problem at once', async () => {
    const dir = workspace([
      {name: 'crm', type: 'mailchimp'},
      {name: 'hook', type: 'webhook'},
      {name: 'archive', type: 'file'},
      {name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/x', sources: ['mobile']},
    ])
    const {exitCode, lines} = await startRefused(dir)
    expect(exitCode).toBe(1)
    expect(lines).toEqual([
      `Error: ${path.join(dir, 'cdp.json')} has 5 problems:`,
      '  - /destinations/0/type: destination "crm" has unknown type "mailchimp"; use one of webhook, file, segment, postgres, function',
      '  - /destinations/1: missing required field "url" (destination "hook")',
      '  - /destinations/2: missing required field "path" (destination "archive")',
      '  - /destinations/3/name: destination "hook" has the same name as /destinations/1; each destination needs its own',
      '  - /destinations/3/sources: destination "hook" names source "mobile", which cdp.json does not define',
      hint,
    ])
  })

  it('a PostgreSQL destination whose server is not there: exit 3, the password hidden', async () => {
    const port = await unusedPort()
    const dir = workspace([{name: 'warehouse', type: 'postgres', connectionString: `postgres://cdp:s3cret@127.0.0.1:${port}/analytics`}])
    const {exitCode, lines} = await startRefused(dir)
    expect(exitCode).toBe(3)
    expect(lines).toEqual([
      `Error: destination "warehouse" (postgres): cannot connect to postgres://cdp:***@127.0.0.1:${port}/analytics: connect ECONNREFUSED 127.0.0.1:${port}`,
      'Try: Start PostgreSQL, or fix connectionString of destination "warehouse" in cdp.json.',
    ])
  })

  it('starts when the unreachable destination is disabled', async () => {
    const port = await unusedPort()
    const dir = workspace([
      {name: 'warehouse', type: 'postgres', enabled: false, connectionString: `postgres://cdp@127.0.0.1:${port}/analytics`},
      {name: 'archive', type: 'file', path: 'events.ndjson'},
    ])
    const daemon = await startDaemonProcess(dir)
    expect((daemon as unknown as {destinations: string[]}).destinations).toEqual(['archive'])
    expect(await daemon.stop()).toBe(0)
  })
})
