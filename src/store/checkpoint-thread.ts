/**
 * WAL checkpoints in their own thread. A checkpoint copies committed pages into the database
 * file and syncs it; run inside the writer's commits (SQLite's auto-checkpoint) it stalled every
 * request for its duration (measured: single-event p99 18 ms with it, 6–9 ms without). PASSIVE
 * checkpoints never block the writer or readers.
 */
import {parentPort, workerData} from 'node:worker_threads'
import type {CheckpointReport} from './checkpointer.js'
import {SqliteStore} from './sqlite-store.js'

const {file, intervalMs} = workerData as {file: string; intervalMs: number}
const store = new SqliteStore(file, {autoCheckpoint: false})
/** Successes are reported at most this often (the daemon's /health shows when the last one was); failures each time. */
const okReportMs = 1000
let lastOkReport = 0
let failing = false
/** Busy answers in a row: one is the writer checkpointing between its commits (group-commit.ts), not a failure. */
let busyInARow = 0
const busyReportedAfter = 5

const report = (message: CheckpointReport) => parentPort?.postMessage(message)

function checkpoint(): void {
  const at = Date.now()
  try {
    // PASSIVE never waits: busy means another connection was checkpointing (SQLite answers that in a row, not an error).
    if (store.checkpoint('PASSIVE').busy) {
      if (++busyInARow < busyReportedAfter) return
      throw new Error(`the database was busy: another connection kept checkpointing (SQLITE_BUSY, ${busyInARow} times in a row)`)
    }
    busyInARow = 0
  } catch (error) {
    // Retried at the next tick; the daemon logs it and counts it in /health.
    failing = true
    report({kind: 'failed', error: error instanceof Error ? error.message : String(error), at})
    return
  }
  if (failing || at - lastOkReport >= okReportMs) {
    failing = false
    lastOkReport = at
    report({kind: 'ok', at})
  }
}

const timer = setInterval(checkpoint, intervalMs)

parentPort?.on('message', (message: string) => {
  if (message !== 'close') return
  clearInterval(timer)
  try {
    checkpoint()
  } finally {
    store.close()
    report({kind: 'closed'})
  }
})
