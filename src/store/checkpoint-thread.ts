/**
 * WAL checkpoints in their own thread. A checkpoint copies committed pages into the database
 * file and syncs it; run inside the writer's commits (SQLite's auto-checkpoint) it stalled every
 * request for its duration (measured: single-event p99 18 ms with it, 6–9 ms without). PASSIVE
 * checkpoints never block the writer or readers; a TRUNCATE, when the WAL file has grown past its
 * limit, waits for them briefly (wal-checkpoints.ts).
 */
import {parentPort, workerData} from 'node:worker_threads'
import type {CheckpointReport} from './checkpointer.js'
import {SqliteStore} from './sqlite-store.js'
import {WalCheckpoints} from './wal-checkpoints.js'

const {file, intervalMs, walLimitBytes} = workerData as {file: string; intervalMs: number; walLimitBytes?: number}
// A TRUNCATE waiting for readers holds the write lock: wait for them briefly, report, and try again later.
const store = new SqliteStore(file, {autoCheckpoint: false, busyTimeoutMs: 250})
const checkpoints = new WalCheckpoints(store, walLimitBytes)

const report = (message: CheckpointReport) => parentPort?.postMessage(message)

function checkpoint(): void {
  const message = checkpoints.tick()
  if (message) report(message)
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
