import {errorMessage} from '../errors.js'
import type {Logger} from '../log.js'
import type {FunctionRunCount, FunctionRunStore} from '../store/function-runs.js'
import type {FunctionRunRecord, FunctionRunSink} from './types.js'

export interface FunctionRunLogOptions {
  /** Where batches go (the daemon's storage.functionRuns). */
  store: Pick<FunctionRunStore, 'append'>
  /** The live stream: every record, at once, before any flush (hub.publishFunctionRuns). */
  publish?: (records: readonly FunctionRunRecord[]) => void
  log: Logger
  /** A flush at most this long after the first record it takes (default 250 ms). */
  flushMs?: number
  /** A flush as soon as this many records wait to be kept (default 500). */
  flushRecords?: number
  /** Records kept waiting while the store is slow or failing; older ones are let go (default 10,000). */
  maxBuffered?: number
}

export interface FunctionRunLog extends FunctionRunSink {
  /** Writes what waits now; resolves once it is written (or its failure logged). */
  flush(): Promise<void>
  /** Flushes what waits, then takes no more records: closed by the daemon's shutdown before its storage. */
  close(): Promise<void>
}

/** A record worth reading again: it has console lines, an error, a drop, or a source function's request. Plain successes are only counted. */
export function isKept(record: FunctionRunRecord): boolean {
  return record.console.length > 0 || record.result === 'error' || record.result === 'dropped' || record.result === 'emitted'
}

/**
 * The daemon's one FunctionRunSink. record() is called on the hot paths (ingest, delivery) with
 * every record, so it only hands them to the live stream and keeps them in memory; a timer writes
 * them to the store in one transaction per flush: the records worth keeping as rows, and a count
 * per function, stage, target and result for every one. It never throws: a failing store or
 * stream is logged, and those records are lost (they are diagnostics; the events are not touched).
 */
export function createFunctionRunLog(options: FunctionRunLogOptions): FunctionRunLog {
  const flushMs = options.flushMs ?? 250
  const flushRecords = options.flushRecords ?? 500
  const maxBuffered = options.maxBuffered ?? 10_000
  const {store, publish, log} = options
  let kept: FunctionRunRecord[] = []
  let counts = new Map<string, FunctionRunCount>()
  let timer: NodeJS.Timeout | undefined
  let soon = false
  let writing: Promise<void> = Promise.resolve()
  let lost = 0
  let closed = false

  const schedule = (): void => {
    if (kept.length >= flushRecords) {
      if (soon) return
      soon = true
      // Not in the caller's turn: the hot path returns first.
      setImmediate(() => void flush())
      return
    }
    if (timer !== undefined || soon) return
    timer = setTimeout(() => void flush(), flushMs)
    timer.unref()
  }

  const count = (record: FunctionRunRecord): void => {
    const key = `${record.function}\u0000${record.stage}\u0000${record.target}\u0000${record.result}`
    const known = counts.get(key)
    if (known) known.count++
    else counts.set(key, {function: record.function, stage: record.stage, target: record.target, result: record.result, count: 1})
  }

  const write = async (): Promise<void> => {
    clearTimeout(timer)
    timer = undefined
    soon = false
    if (kept.length === 0 && counts.size === 0) return
    const runs = kept
    const batch = {runs, counts: [...counts.values()]}
    kept = []
    counts = new Map()
    try {
      await store.append(batch)
    } catch (error) {
      log.warn(`function run records not kept (${runs.length} records, ${batch.counts.reduce((sum, c) => sum + c.count, 0)} counted runs): ${errorMessage(error)}`)
    }
    if (lost > 0) {
      log.warn(`${lost} function run records were let go: the store fell behind`)
      lost = 0
    }
  }

  /** One write at a time, in order: a flush asked for while one is writing follows it. */
  const flush = (): Promise<void> => {
    writing = writing.then(write)
    return writing
  }

  return {
    record(records) {
      if (closed || records.length === 0) return
      try {
        publish?.(records)
      } catch (error) {
        log.debug(`function run records not streamed: ${errorMessage(error)}`)
      }
      try {
        for (const record of records) {
          count(record)
          if (isKept(record)) kept.push(record)
        }
        if (kept.length > maxBuffered) {
          const excess = kept.length - maxBuffered
          kept.splice(0, excess)
          lost += excess
        }
        if (kept.length > 0 || counts.size > 0) schedule()
      } catch (error) {
        log.warn(`function run records not taken: ${errorMessage(error)}`)
      }
    },
    flush,
    async close() {
      closed = true
      await flush()
    },
  }
}
