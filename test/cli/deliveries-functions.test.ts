import {afterEach, describe, expect, it} from 'vitest'
import {workspacePaths} from '../../src/config/workspace.js'
import {silentLogger} from '../../src/log.js'
import type {FunctionRunCount} from '../../src/store/function-runs.js'
import {openStorage} from '../../src/store/open-storage.js'
import {renderDeliveriesReport} from '../../src/ui/deliveries-report.js'
import {runCli} from '../helpers/cli.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'
import {stripVTControlCharacters as plain} from 'node:util'

let cleanups: (() => Promise<unknown> | unknown)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

const counts: FunctionRunCount[] = [
  {function: 'hash-email', stage: 'source', target: 'web', result: 'changed', count: 40},
  {function: 'hash-email', stage: 'source', target: 'web', result: 'error', count: 2},
  {function: 'drop-internal', stage: 'destination', target: 'crm', result: 'unchanged', count: 30},
  {function: 'drop-internal', stage: 'destination', target: 'crm', result: 'dropped', count: 12},
  {function: 'crm', stage: 'destination', target: 'crm', result: 'delivered', count: 28},
  {function: 'crm', stage: 'destination', target: 'crm', result: 'error', count: 1},
]

/** A workspace with two destinations whose daemon counted function runs. */
async function workspace(): Promise<string> {
  const {dir, cleanup} = tempDir()
  cleanups.push(cleanup)
  writeConfig(dir, {sources: testSources, destinations: [{name: 'crm', type: 'webhook', url: 'http://127.0.0.1:9/hook'}, {name: 'archive', type: 'file', path: 'events.ndjson'}]})
  const storage = await openStorage(workspacePaths(dir), {role: 'daemon', log: silentLogger})
  try {
    await storage.functionRuns.append({runs: [], counts})
  } finally {
    await storage.close()
  }
  return dir
}

describe('cdp deliveries: function runs', () => {
  it('counts each function’s runs by result, under the destinations', async () => {
    // Given a workspace whose daemon counted runs of three functions
    const dir = await workspace()

    // When its deliveries are shown
    const result = await runCli(['deliveries', '--dir', dir])

    // Then a table per function and place follows the destinations'
    expect(result.exitCode).toBe(0)
    expect(result.stdout.split('\n').slice(3)).toEqual([
      '',
      'function          ran on               changed unchanged dropped   error delivered',
      'crm               destination crm            0         0       0       1        28',
      'drop-internal     destination crm            0        30      12       0         0',
      'hash-email        source web                40         0       0       2         0',
      '',
      'No failed deliveries (retrying or dead).',
    ])
  })

  it('--json has them as "functions", and --destination keeps that destination’s', async () => {
    // Given the same workspace
    const dir = await workspace()

    // When the report of crm and of archive is asked as JSON
    const crm = JSON.parse((await runCli(['deliveries', '--dir', dir, '--destination', 'crm', '--json'])).stdout)
    const archive = JSON.parse((await runCli(['deliveries', '--dir', dir, '--destination', 'archive', '--json'])).stdout)

    // Then crm's has its two functions, and archive's none (no field)
    expect(crm.functions).toEqual([
      {function: 'crm', stage: 'destination', target: 'crm', changed: 0, unchanged: 0, dropped: 0, error: 1, delivered: 28, emitted: 0},
      {function: 'drop-internal', stage: 'destination', target: 'crm', changed: 0, unchanged: 30, dropped: 12, error: 0, delivered: 0, emitted: 0},
    ])
    expect(Object.keys(archive)).toEqual(['destinations', 'records'])
  })

  it('shows function runs even with no destinations', () => {
    // Given a report with no destinations and a source function's requests
    const text = renderDeliveriesReport({
      destinations: [],
      records: [],
      functions: [{function: 'stripe', stage: 'request', target: 'stripe', changed: 0, unchanged: 0, dropped: 0, error: 1, delivered: 0, emitted: 9}],
    })

    // Then it says there are none, and counts the function's runs
    expect(plain(text).split('\n')).toEqual([
      'No destinations in cdp.json. Add one to "destinations" (see the README), and `cdp dev` starts delivering.',
      '',
      'function          ran on               dropped   error emitted',
      'stripe            request stripe             0       1       9',
    ])
  })
})
