import {MessageChannel, Worker, type MessagePort} from 'node:worker_threads'
import {UserError} from '../errors.js'
import {encodeEvents} from './event-codec.js'
import type {AppendResult, EventWriter, NewEvent} from './types.js'

export interface WriterThreadOptions {
  file: string
  synchronous?: 'NORMAL' | 'FULL'
}

/** `events` is encodeEvents' string: one flat copy instead of a structured clone per object. */
export type WriterRequest = {kind: 'append'; id: number; events: string} | {kind: 'close'}

export type WriterReply =
  | {kind: 'ready'}
  | {kind: 'failed'; message: string}
  | {kind: 'appended'; id: number; stored: boolean[]}
  | {kind: 'error'; id: number; message: string}
  | {kind: 'closed'}

interface Submission {
  events: readonly NewEvent[]
  resolve: (result: AppendResult) => void
  reject: (error: Error) => void
}

function createWorker(workerData: WriterThreadOptions & {port: MessagePort}): Worker {
  const transferList = [workerData.port]
  if (import.meta.url.endsWith('.ts')) {
    // Under the TypeScript sources (tests, bin/dev.js) the worker is a .ts file: register tsx in it first.
    const entry = new URL('./writer-thread.ts', import.meta.url).href
    const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`
    return new Worker(bootstrap, {eval: true, workerData, transferList})
  }
  return new Worker(new URL('./writer-thread.js', import.meta.url), {workerData, transferList})
}

/**
 * Group commit through a writer thread. The HTTP thread posts what each turn of its event loop
 * accepted; the writer takes everything waiting on its port in one transaction and answers each
 * post after COMMIT. So the HTTP thread only parses and serialises, a lone request is written at
 * once, and under load the commit cost is shared by every request that arrived meanwhile.
 */
export class ThreadedWriter implements EventWriter {
  private queued: Submission[] = []
  /** Posts not yet answered by the writer, by id. */
  private readonly pending = new Map<number, Submission[]>()
  private nextId = 1
  private scheduled = false
  private failure: Error | undefined
  private closing: Promise<void> | undefined

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
  ) {
    port.on('message', (reply: WriterReply) => this.onReply(reply))
    worker.on('error', (error) => this.fail(new Error(`the store's writer thread failed: ${error.message}`)))
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`the store's writer thread exited (code ${code})`))
    })
  }

  /** Starts the writer thread and waits until it has opened (and migrated) the store. */
  static async start(options: WriterThreadOptions): Promise<ThreadedWriter> {
    const channel = new MessageChannel()
    const worker = createWorker({...options, port: channel.port2})
    const first = await new Promise<WriterReply>((resolve, reject) => {
      channel.port1.once('message', resolve)
      worker.once('error', reject)
    })
    if (first.kind === 'failed') {
      await worker.terminate()
      channel.port1.close()
      throw new UserError(first.message, {code: 'store_open_failed'})
    }
    return new ThreadedWriter(worker, channel.port1)
  }

  submit(events: readonly NewEvent[]): Promise<AppendResult> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.closing) return Promise.reject(new Error('the event store is closing'))
    return new Promise((resolve, reject) => {
      this.queued.push({events, resolve, reject})
      if (!this.scheduled) {
        // The rest of this event-loop turn joins the same post.
        this.scheduled = true
        setImmediate(() => this.send())
      }
    })
  }

  private send(): void {
    this.scheduled = false
    if (this.queued.length === 0) return
    const group = this.queued
    this.queued = []
    const id = this.nextId++
    this.pending.set(id, group)
    const events = group.length === 1 ? group[0].events : group.flatMap((submission) => submission.events)
    this.port.postMessage({kind: 'append', id, events: encodeEvents(events)} satisfies WriterRequest)
  }

  private onReply(reply: WriterReply): void {
    if (reply.kind !== 'appended' && reply.kind !== 'error') return
    const group = this.pending.get(reply.id) ?? []
    this.pending.delete(reply.id)
    if (reply.kind === 'error') {
      const error = new Error(`the event store refused the write: ${reply.message}`)
      for (const submission of group) submission.reject(error)
      return
    }
    let offset = 0
    for (const submission of group) {
      const stored = reply.stored.slice(offset, offset + submission.events.length)
      offset += submission.events.length
      let inserted = 0
      for (const isNew of stored) if (isNew) inserted++
      submission.resolve({inserted, duplicates: stored.length - inserted, stored})
    }
  }

  private fail(error: Error): void {
    this.failure ??= error
    for (const group of [...this.pending.values(), this.queued]) for (const submission of group) submission.reject(error)
    this.pending.clear()
    this.queued = []
  }

  /** Writes what is queued, closes the writer's connection after it, and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) {
        this.send()
        // The writer answers every append before it handles the close that follows them.
        const closed = new Promise<void>((resolve) => {
          this.port.on('message', (reply: WriterReply) => {
            if (reply.kind === 'closed') resolve()
          })
        })
        this.port.postMessage({kind: 'close'} satisfies WriterRequest)
        await closed
      }
      this.port.close()
      await this.worker.terminate()
    })()
    return this.closing
  }
}
