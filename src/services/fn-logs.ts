import {workspacePaths} from '../config/workspace.js'
import type {StoredFunctionRun} from '../store/function-runs.js'
import {openStorage} from '../store/open-storage.js'
import type {Storage} from '../store/storage.js'

export interface FnLogsOptions {
  dir: string
  /** Only this function's records. */
  name?: string
  /** The newest this many. */
  limit: number
}

export interface FnLogsResult {
  /** Oldest first. */
  records: StoredFunctionRun[]
  /** Runs counted for the function (or every function), kept as records or not. */
  counted: number
}

export interface FnLogsFollow {
  /** Called with each batch of new records, oldest first. */
  onRecords: (records: StoredFunctionRun[]) => void
  /** Stops following. */
  signal: AbortSignal
  /** How often the store is asked for new records (default 200 ms). */
  pollMs?: number
}

/** Records asked at once while following: more than this waiting are read in several steps, none missed. */
const followPage = 500

async function recentRuns(storage: Storage, options: FnLogsOptions): Promise<FnLogsResult> {
  const records = await storage.functionRuns.recent({function: options.name, limit: options.limit})
  let counted = 0
  if (records.length === 0) {
    for (const count of await storage.functionRuns.counts()) if (options.name === undefined || count.function === options.name) counted += count.count
  }
  return {records, counted}
}

/**
 * `cdp fn logs`: the newest records of the daemon's function runs (console lines, errors, drops,
 * source functions' requests), read from the workspace's store whether or not the daemon runs.
 * `counted` is only looked up when there are no records, to say why.
 */
export async function readFunctionLogs(options: FnLogsOptions): Promise<FnLogsResult> {
  const storage = await openStorage(workspacePaths(options.dir), {role: 'reader'})
  try {
    return await recentRuns(storage, options)
  } finally {
    await storage.close()
  }
}

/**
 * `cdp fn logs --follow`: the newest records, then every later one as the daemon writes them
 * (it flushes every 250 ms; the store is polled by id), until the signal aborts. Resolves with the
 * first answer once following has started, and keeps going in the background; `done` settles when
 * it stops.
 */
export async function followFunctionLogs(options: FnLogsOptions, follow: FnLogsFollow): Promise<FnLogsResult & {done: Promise<void>}> {
  const storage = await openStorage(workspacePaths(options.dir), {role: 'reader'})
  let first: FnLogsResult
  try {
    first = await recentRuns(storage, options)
  } catch (error) {
    await storage.close()
    throw error
  }
  const pollMs = follow.pollMs ?? 200
  const poll = async (): Promise<void> => {
    // No records of the function yet: every later one is new, so reading after 0 misses none.
    let after = first.records.at(-1)?.id ?? 0
    try {
      while (!follow.signal.aborted) {
        const records = await storage.functionRuns.recent({function: options.name, after, limit: followPage})
        if (records.length > 0) {
          after = records[records.length - 1].id
          follow.onRecords(records)
        }
        if (records.length < followPage) await sleep(pollMs, follow.signal)
      }
    } finally {
      await storage.close()
    }
  }
  return {...first, done: poll()}
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}
