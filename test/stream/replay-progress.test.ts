import {describe, expect, it} from 'vitest'
import {connectStream} from '../../src/stream/client.js'
import type {StreamItem, StreamReplay} from '../../src/stream/types.js'
import {formatReplayLine} from '../../src/ui/tail-lines.js'
import {TailModel} from '../../src/ui/tail/model.js'
import {countsLine} from '../../src/ui/tail/status-lines.js'
import {runCli} from '../helpers/cli.js'
import {cleanupsAfterEach, startTestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {startSink} from '../helpers/sink.js'
import {waitFor} from '../helpers/wait.js'
import {testSources} from '../helpers/workspace.js'

const replay = (over: Partial<StreamReplay['replay']> = {}): StreamReplay['replay'] => ({
  id: 'r-20261201-030512-ab12',
  destination: 'hook',
  status: 'running',
  counts: {selected: 5000, sent: 1200, failed: 0, skipped: 3, corrupt: 0},
  updatedAt: '2026-12-01T03:05:14.250Z',
  finishedAt: null,
  lastError: null,
  ...over,
})

describe('replays on the live stream', () => {
  const cleanups = cleanupsAfterEach()

  it('a replay run beside cdp dev shows on its stream as its own kind, until it completes', async () => {
    // Given a daemon with a destination (disabled: only the replay sends to it) and stored events
    const sink = await startSink()
    cleanups.push(() => sink.close())
    const daemon = await startTestDaemon({config: {sources: testSources, destinations: [{name: 'hook', type: 'webhook', url: sink.url, enabled: false, batchSize: 10}]}})
    cleanups.push(() => daemon.close())
    const batch = Array.from({length: 30}, (_, i) => ({type: 'track', userId: `u${i % 3}`, event: 'Replayed', messageId: `m-${i}`}))
    expect((await post(`${daemon.url}/v1/batch`, {batch}, {writeKey: testSources[0].writeKey})).status).toBe(200)
    // and a reader of its stream
    const items: StreamItem[] = []
    const feed = connectStream({url: daemon.url, filter: {}, history: 0})
    cleanups.push(() => feed.close())
    let connected = false
    feed.onConnection((state) => (connected ||= state.state === 'connected'))
    feed.onItems((batch) => items.push(...batch))
    await waitFor('the stream to connect', () => connected, 5_000)

    // When cdp replay runs in its own process
    const result = await runCli(['replay', '--destination', 'hook', '--json', '--dir', daemon.dir])
    expect(result.exitCode).toBe(0)

    // Then the stream carries the replay's progress, ending completed with every event sent
    const replays = () => items.filter((item): item is StreamReplay => item.kind === 'replay')
    await waitFor('the completed replay on the stream', () => replays().some((item) => item.replay.status === 'completed'), 10_000)
    const done = replays().find((item) => item.replay.status === 'completed')!
    expect(done.replay).toMatchObject({id: JSON.parse(result.stdout).id, destination: 'hook', counts: {sent: 30, failed: 0}})
    expect(sink.accepted()).toHaveLength(30)
  })

  it('cdp tail prints a replay as its own line and keeps the newest in its status line', () => {
    expect(formatReplayLine(replay({lastError: 'HTTP 503\u001b[2J'}))).toBe(
      '03:05:14.250  replay r-20261201-030512-ab12 → hook  running  sent 1,200 of 5,000, failed 0, skipped 3 (HTTP 503\\e[2J)',
    )
    const model = new TailModel()
    model.ingest([{kind: 'replay', replay: replay()}, {kind: 'replay', replay: replay({status: 'completed', counts: {selected: 5000, sent: 5000, failed: 2, skipped: 3, corrupt: 0}})}])
    expect(model.view.replays).toHaveLength(1)
    expect(countsLine(model.view).map((segment) => segment.text).join('')).toBe('0 events · replay → hook completed 5,000/5,000 sent, 2 failed')
  })
})
