import {chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {silentLogger} from '../../src/log.js'
import {startDev} from '../../src/services/dev.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {getJson, post} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

const writeKey = testSources[0].writeKey
let daemon: TestDaemon | undefined
let umask: number
// A umask that takes nothing away: every mode below is set by cdp, not left to the umask.
beforeEach(() => (umask = process.umask(0)))
afterEach(async () => {
  process.umask(umask)
  await daemon?.close()
  daemon = undefined
})

function modeOf(file: string): string {
  return (statSync(file).mode & 0o777).toString(8).padStart(4, '0')
}

function stateModes(dir: string): Record<string, string> {
  const cdp = path.join(dir, '.cdp')
  return Object.fromEntries([['.cdp', modeOf(cdp)], ...readdirSync(cdp).sort().map((name) => [name, modeOf(path.join(cdp, name))])])
}

const privateState = {
  '.cdp': '0700',
  'cdp.sqlite': '0600',
  'cdp.sqlite-shm': '0600',
  'cdp.sqlite-wal': '0600',
  'daemon.json': '0600',
  'daemon.lock': '0600',
}

async function delivered(): Promise<number> {
  return (await getJson(`${daemon!.url}/api/deliveries`)).body.destinations[0].delivered as number
}

describe('file modes of what holds events', () => {
  it('.cdp/ is created 0700 and every file in it 0600, whatever the umask', async () => {
    daemon = await startTestDaemon()
    expect((await post(`${daemon.url}/v1/track`, {userId: 'u', event: 'Private'}, {writeKey})).status).toBe(200)
    expect(stateModes(daemon.dir)).toEqual(privateState)
  })

  it('an existing .cdp/ that others could read is tightened at start', async () => {
    // Given a workspace left by an older cdp: .cdp/ 0755, its files 0644
    const {dir, cleanup} = tempDir()
    const cdp = path.join(dir, '.cdp')
    new SqliteStore(path.join(cdp, 'cdp.sqlite')).close()
    writeFileSync(path.join(cdp, 'daemon.json'), JSON.stringify({url: 'http://127.0.0.1:1', pid: 999_999_999, startedAt: '2024-01-01T00:00:00Z'}))
    writeFileSync(path.join(cdp, 'daemon.lock'), '')
    for (const name of readdirSync(cdp)) chmodSync(path.join(cdp, name), 0o644)
    chmodSync(cdp, 0o755)

    // When cdp dev starts there, Then everything is its owner's alone
    daemon = await startTestDaemon({dir})
    const close = daemon.close
    daemon.close = async () => {
      await close()
      cleanup()
    }
    expect(stateModes(dir)).toEqual(privateState)
  })

  it('the file destination writes 0600 files, rotated ones too, unless cdp.json sets a mode', async () => {
    // Given two file destinations, one with the default mode and one with "0640", rotating small files,
    // and an existing output file that an older cdp left readable by all
    const {dir, cleanup} = tempDir()
    mkdirSync(path.join(dir, 'out'))
    writeFileSync(path.join(dir, 'out', 'default.ndjson'), '')
    chmodSync(path.join(dir, 'out', 'default.ndjson'), 0o644)
    const destinations = [
      {name: 'default', type: 'file', path: 'out/default.ndjson', maxBytes: 1024},
      {name: 'shared', type: 'file', path: 'out/shared.ndjson', maxBytes: 1024, mode: '0640'},
    ]
    daemon = await startTestDaemon({dir, config: {sources: testSources, destinations}})
    const close = daemon.close
    daemon.close = async () => {
      await close()
      cleanup()
    }

    // When enough events arrive to rotate each
    const batch = Array.from({length: 12}, (_, i) => ({type: 'track', userId: 'u', event: 'Rotated', messageId: `r-${i}`, properties: {pad: 'x'.repeat(200)}}))
    expect((await post(`${daemon.url}/v1/batch`, {batch}, {writeKey})).status).toBe(200)
    await waitFor('12 delivered to each', async () => {
      const report = (await getJson(`${daemon!.url}/api/deliveries`)).body
      return report.destinations.every((d: {delivered: number}) => d.delivered === 12)
    })

    // Then each file and its rotations have the destination's mode
    const modes = Object.fromEntries(readdirSync(path.join(dir, 'out')).sort().map((name) => [name, modeOf(path.join(dir, 'out', name))]))
    expect(Object.keys(modes)).toEqual(expect.arrayContaining(['default.ndjson', 'default.ndjson.1', 'default.ndjson.2', 'shared.ndjson', 'shared.ndjson.1', 'shared.ndjson.2']))
    for (const [name, mode] of Object.entries(modes)) expect(mode, name).toBe(name.startsWith('shared') ? '0640' : '0600')
    expect(await delivered()).toBe(12)
  })

  it('refuses a file mode that is not octal or that the owner could not write', async () => {
    const {dir, cleanup} = tempDir()
    try {
      const bad = ['640', '0644x', '0400', '0999']
      writeConfig(dir, {sources: testSources, destinations: bad.map((mode, i) => ({name: `f${i}`, type: 'file', path: `f${i}.ndjson`, mode}))})
      const refused = await startDev({dir, port: 0, host: '127.0.0.1', log: silentLogger}).then(
        () => undefined,
        (error: Error) => error.message,
      )
      const meaning = 'is not a file mode you can read and write: use four octal digits starting 06 or 07, such as "0600" or "0640"'
      expect(refused).toBe(
        [`${path.join(dir, 'cdp.json')} has 4 problems:`, ...bad.map((_, i) => `  - /destinations/${i}/mode: ${meaning} (destination "f${i}")`)].join('\n'),
      )
      expect(existsSync(path.join(dir, '.cdp'))).toBe(false)
    } finally {
      cleanup()
    }
  })
})
