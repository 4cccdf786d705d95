import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCli, startDaemonProcess} from '../helpers/cli.js'
import {basicAuth} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeAll(() => {
  ;({dir, cleanup} = tempDir())
  writeConfig(dir, {sources: testSources})
})
afterAll(() => cleanup())

describe('durability', () => {
  it('every event answered 200 survives SIGKILL of the daemon', async () => {
    // Given a daemon receiving single events and batches from 16 concurrent clients
    const daemon = await startDaemonProcess(dir)
    const acknowledged = new Set<string>()
    let stop = false
    let sent = 0
    const auth = basicAuth(testSources[0].writeKey)
    const client = async (clientId: number) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const batch = i % 4 === 0
        const ids = batch ? Array.from({length: 20}, (_, j) => `c${clientId}-${i}-${j}`) : [`c${clientId}-${i}`]
        const body = batch
          ? {batch: ids.map((messageId) => ({type: 'track', userId: `u${clientId}`, event: 'Crash Test', messageId}))}
          : {userId: `u${clientId}`, event: 'Crash Test', messageId: ids[0]}
        sent += ids.length
        try {
          const response = await fetch(`${daemon.url}/v1/${batch ? 'batch' : 'track'}`, {
            method: 'POST',
            headers: {authorization: auth, 'content-type': 'application/json'},
            body: JSON.stringify(body),
          })
          if (response.status === 200) for (const id of ids) acknowledged.add(id)
          await response.arrayBuffer()
        } catch {
          return // the daemon died mid-request: that request was never acknowledged
        }
      }
    }
    const clients = Array.from({length: 16}, (_, id) => client(id))
    // When it is killed without warning while they send (once they are well under way)
    await waitFor('500 events acknowledged', () => acknowledged.size >= 500)
    daemon.child.kill('SIGKILL')
    await daemon.child
    stop = true
    await Promise.all(clients)
    expect(acknowledged.size).toBeGreaterThan(100)

    // Then after a restart every acknowledged event is in the store
    const restarted = await startDaemonProcess(dir)
    const result = await runCli(['events', '--json', '--dir', dir, '--event', 'Crash Test', '--limit', '100000'])
    expect(result.exitCode).toBe(0)
    const stored = new Set((JSON.parse(result.stdout) as {messageId: string}[]).map((m) => m.messageId))
    const lost = [...acknowledged].filter((id) => !stored.has(id))
    expect(lost).toEqual([])
    expect(stored.size).toBeLessThanOrEqual(sent)
    expect(await restarted.stop()).toBe(0)
  })
})
