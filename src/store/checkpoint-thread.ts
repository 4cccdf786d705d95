/**
 * WAL checkpoints in their own thread. A checkpoint copies committed pages into the database
 * file and syncs it; run inside the writer's commits (SQLite's auto-checkpoint) it stalled every
 * request for its duration (measured: single-event p99 18 ms with it, 6–9 ms without). PASSIVE
 * checkpoints never block the writer or readers.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {SqliteStore} from './sqlite-store.js'

const {file, intervalMs} = workerData as {file: string; intervalMs: number}
const store = new SqliteStore(file, {autoCheckpoint: false})
const timer = setInterval(() => {
  try {
    store.checkpoint('PASSIVE')
  } catch {
    // A busy database is retried at the next tick.
  }
}, intervalMs)

parentPort?.on('message', (message: string) => {
  if (message !== 'close') return
  clearInterval(timer)
  try {
    store.checkpoint('PASSIVE')
  } finally {
    store.close()
    parentPort?.postMessage('closed')
  }
})
