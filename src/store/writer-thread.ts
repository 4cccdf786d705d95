/**
 * The store's writer, in a worker thread: it owns the writing SQLite connection so that inserts
 * and commits never stall the HTTP thread. Group commit happens here: on each wake-up it takes
 * every request already waiting on its port (receiveMessageOnPort) and writes them all in one
 * transaction, then answers each one after COMMIT.
 */
import {receiveMessageOnPort, workerData, type MessagePort} from 'node:worker_threads'
import {decodeEvents} from './event-codec.js'
import {SqliteStore} from './sqlite-store.js'
import type {NewEvent} from './types.js'
import type {WriterReply, WriterRequest, WriterThreadOptions} from './threaded-writer.js'

const {port, ...options} = workerData as WriterThreadOptions & {port: MessagePort}

let store: SqliteStore | undefined
try {
  store = new SqliteStore(options.file, {synchronous: options.synchronous})
  port.postMessage({kind: 'ready'} satisfies WriterReply)
} catch (error) {
  port.postMessage({kind: 'failed', message: (error as Error).message} satisfies WriterReply)
}

function write(appends: {id: number; events: NewEvent[]}[]): void {
  if (!store) return
  const all = appends.length === 1 ? appends[0].events : appends.flatMap((append) => append.events)
  try {
    const {stored} = store.appendEvents(all)
    let offset = 0
    for (const append of appends) {
      port.postMessage({kind: 'appended', id: append.id, stored: stored.slice(offset, offset + append.events.length)} satisfies WriterReply)
      offset += append.events.length
    }
  } catch (error) {
    for (const append of appends) port.postMessage({kind: 'error', id: append.id, message: (error as Error).message} satisfies WriterReply)
  }
}

port.on('message', (first: WriterRequest) => {
  const appends: {id: number; events: NewEvent[]}[] = []
  let closeAfter = false
  for (let request: WriterRequest | undefined = first; request; request = receiveMessageOnPort(port)?.message as WriterRequest | undefined) {
    if (request.kind === 'close') {
      closeAfter = true
      break
    }
    appends.push({id: request.id, events: decodeEvents(request.events)})
  }
  if (appends.length > 0) write(appends)
  if (closeAfter) {
    store?.close()
    store = undefined
    port.postMessage({kind: 'closed'} satisfies WriterReply)
  }
})
