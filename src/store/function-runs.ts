import type {FunctionRunRecord} from '../functions/types.js'
import type {Awaitable} from './types.js'

/**
 * The records of user functions' runs, the third part of the storage contract beside events and
 * deliveries (docs/ARCHITECTURE.md, "The storage contract"). The daemon's run log
 * (src/functions/run-log.ts) appends them in batches; `cdp fn logs` and `cdp deliveries` read them.
 *
 * Only records worth reading again are kept as rows (console lines, errors, drops, a source
 * function's requests), the newest few thousand; every run is counted, per function, stage, target
 * and result.
 */

export type FunctionRunResult = FunctionRunRecord['result']
export type FunctionRunStage = FunctionRunRecord['stage']

/** A kept record, with its id: increasing in the order records were appended (a follower reads after the last one it saw). */
export interface StoredFunctionRun extends FunctionRunRecord {
  id: number
}

/** How many runs of one function, at one place, had one result. */
export interface FunctionRunCount {
  function: string
  stage: FunctionRunStage
  target: string
  result: FunctionRunResult
  count: number
}

/** What one flush of the run log writes, in one transaction. */
export interface FunctionRunBatch {
  /** Records to keep as rows, in the order they happened. */
  runs: readonly FunctionRunRecord[]
  /** Runs to add to the counts (every run, kept or not). */
  counts: readonly FunctionRunCount[]
}

export interface FunctionRunQuery {
  /** Only this function's records. */
  function?: string
  /**
   * Without it: the newest `limit` records. With it: the first `limit` records after this id, so
   * that a follower paging forward misses none. Oldest first either way.
   */
  after?: number
  limit: number
}

export interface FunctionRunStore {
  /** The daemon's: writes the rows and adds the counts at once, and lets the oldest rows go past the store's bound. */
  append(batch: FunctionRunBatch): Awaitable<void>
  recent(query: FunctionRunQuery): Awaitable<StoredFunctionRun[]>
  /** Every count since the store was created, ordered by function, stage, target and result. */
  counts(): Awaitable<FunctionRunCount[]>
}
