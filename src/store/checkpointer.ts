import type {Worker} from 'node:worker_threads'
import type {CheckpointHealth} from './checkpoint-health.js'
import {startStoreWorker} from './worker.js'

/** What the checkpoint thread tells the daemon. */
export type CheckpointReport = {kind: 'ok'; at: number} | {kind: 'failed'; error: string; at: number} | {kind: 'closed'}

/** Something that keeps the WAL checkpointed until closed: the thread below, or a test's stand-in. */
export interface WalUpkeep {
  close(): Promise<void>
}

/** Runs WAL checkpoints off the writer, every intervalMs, until closed; tells health how each goes. */
export class Checkpointer implements WalUpkeep {
  private constructor(private readonly worker: Worker) {}

  static start(file: string, health: CheckpointHealth, intervalMs = 200): Checkpointer {
    const worker = startStoreWorker('checkpoint-thread', {file, intervalMs})
    worker.on('message', (report: CheckpointReport) => {
      if (report.kind === 'ok') health.succeeded(report.at)
      else if (report.kind === 'failed') health.failed(report.error, 'checkpoint thread', report.at)
    })
    return new Checkpointer(worker)
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.worker.on('message', (report: CheckpointReport) => {
        if (report.kind === 'closed') resolve()
      })
      this.worker.once('exit', () => resolve())
    })
    this.worker.postMessage('close')
    await closed
    await this.worker.terminate()
  }
}
