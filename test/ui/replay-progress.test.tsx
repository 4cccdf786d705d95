import {render} from 'ink-testing-library'
import {stripVTControlCharacters} from 'node:util'
import {describe, expect, it} from 'vitest'
import type {ReplayProgress, ReplaySummary} from '../../src/replay/runner.js'
import type {ReplayInfo} from '../../src/replay/types.js'
import {formatDuration, progressLine, summaryLines} from '../../src/ui/replay/lines.js'
import {renderReplayList} from '../../src/ui/replay/list-table.js'
import {plainReplayProgress} from '../../src/ui/replay/render.js'
import {ReplayView} from '../../src/ui/replay/ReplayView.js'

const progress: ReplayProgress = {
  id: 'r-20240601-101500-ab12',
  destination: 'warehouse',
  counts: {selected: 1000, sent: 240, failed: 3, skipped: 7, corrupt: 1},
  elapsedMs: 12_400,
  eventsPerSecond: 20.5,
  remainingMs: 36_600,
  lastError: 'HTTP 503: \u001b[31mupstream\nbusy',
}

const summary: ReplaySummary = {
  id: 'r-20240601-101500-ab12',
  destination: 'warehouse',
  status: 'interrupted',
  counts: {selected: 1000, sent: 240, failed: 3, skipped: 7, corrupt: 1},
  seconds: 12.4,
  eventsPerSecond: 19.4,
  lastError: null,
  corrupt: [{file: 'logs/b.ndjson.gz', line: 3, reason: 'not JSON'}],
  notSent: 753,
  selection: {destination: 'warehouse', since: '2024-05-01T00:00:00.000Z'},
}

describe('replay progress and summary', () => {
  it('the live view shows counts, speed, time left and the last error, escaped, at a fixed width', () => {
    const app = render(<ReplayView progress={progress} columns={80} />)
    const frame = stripVTControlCharacters(app.lastFrame() ?? '')
    app.unmount()
    expect(frame).toContain('cdp replay r-20240601-101500-ab12 → warehouse')
    expect(frame).toContain('250 of 1,000 (25%) done')
    expect(frame).toContain('sent 240 · failed 3 · skipped 7 · corrupt 1')
    expect(frame).toContain('20.5 events/s · elapsed 12s · left ~37s')
    expect(frame).toContain('last error: HTTP 503: \\e[31mupstream busy')
    expect(frame).not.toContain('\u001b[31m')
  })

  it('the plain line and the summary say the same things, and how to resume', () => {
    expect(progressLine(progress)).toBe('replay r-20240601-101500-ab12 · 250 of 1,000 (25%) done · sent 240 · failed 3 · skipped 7 · corrupt 1 · 20.5 events/s · elapsed 12s · left ~37s · last error: HTTP 503: \\e[31mupstream busy')
    const text = summaryLines(summary).map((line) => stripVTControlCharacters(line)).join('\n')
    expect(text).toContain('Replay interrupted r-20240601-101500-ab12 → warehouse')
    expect(text).toContain('753 not sent yet')
    expect(text).toContain('corrupt line logs/b.ndjson.gz:3: not JSON')
    expect(text).toContain('Resume with: cdp replay --resume r-20240601-101500-ab12')
    expect(formatDuration(3_725_000)).toBe('1h 02m')
  })

  it('prints a plain line at most every interval', () => {
    const lines: string[] = []
    const display = plainReplayProgress((line) => lines.push(line), 10_000)
    display.update(progress)
    display.update({...progress, counts: {...progress.counts, sent: 300}})
    display.end()
    expect(lines).toHaveLength(1)
  })

  it('--list is a table of id, destination, selection, status, counts and times', () => {
    const info: ReplayInfo = {
      id: 'r-1',
      destination: 'hook',
      selection: {destination: 'hook', since: '2024-05-01T00:00:00.000Z', events: ['Order Completed'], types: ['track']},
      status: 'completed',
      counts: {selected: 5, sent: 5, failed: 0, skipped: 0, corrupt: 0},
      checkpoint: 9,
      createdAt: '2024-06-01T10:15:00.000Z',
      updatedAt: '2024-06-01T10:15:02.000Z',
      finishedAt: '2024-06-01T10:15:02.000Z',
      lastError: null,
    }
    const lines = stripVTControlCharacters(renderReplayList([info])).split('\n')
    expect(lines[0]).toMatch(/^id\s+destination\s+selection\s+status\s+sent\s+failed\s+skipped\s+corrupt\s+selected\s+started\s+finished/)
    expect(lines[1]).toContain('r-1 hook')
    expect(lines[1]).toContain('store 2024-05-01→now track "Order')
    expect(lines[1]).toContain('completed')
    expect(lines[1]).toContain('2024-06-01 10:15:00')
  })
})
