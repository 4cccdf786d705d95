import type {Worker} from 'node:worker_threads'
import {startStoreWorker} from './worker.js'

/** Runs WAL checkpoints off the writer, every intervalMs, until closed. */
export class Checkpointer {
  private constructor(private readonly worker: Worker) {}

  static start(file: string, intervalMs = 200): Checkpointer {
    return new Checkpointer(startStoreWorker('checkpoint-thread', {file, intervalMs}))
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve())
      this.worker.once('exit', () => resolve())
    })
    this.worker.postMessage('close')
    await closed
    await this.worker.terminate()
  }
}
