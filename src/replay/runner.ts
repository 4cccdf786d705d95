import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'
import {loadConfig} from '../config/load.js'
import type {DestinationConfig} from '../config/schema.js'
import {workspacePaths} from '../config/workspace.js'
import {createAdapter} from '../delivery/adapters.js'
import type {DeliveryResult, DestinationAdapter} from '../delivery/types.js'
import {DestinationWorker} from '../delivery/worker.js'
import {errorMessage, ExitCode, UserError} from '../errors.js'
import {FunctionRegistry} from '../functions/registry.js'
import {createFunctionRunLog, type FunctionRunLog} from '../functions/run-log.js'
import type {Logger} from '../log.js'
import type {MessageType} from '../message/types.js'
import {destinationMatch} from '../store/filter-spec.js'
import {openStorage} from '../store/open-storage.js'
import type {StoredReplay} from '../store/replays.js'
import type {Storage} from '../store/storage.js'
import {openArchiveReader} from './archive-reader.js'
import {createReplayWorkerStore, type ReplayWorkerStore} from './replay-store.js'
import {openStoreReader, replayFilterOf} from './store-reader.js'
import type {ReplayCounts, ReplayInfo, ReplayReader, ReplaySelection, ReplayStatus} from './types.js'

/**
 * Runs one replay (issue 13): the selected events, read from the store or from archive files, go
 * through the very DestinationWorker live delivery uses, with the destination's adapter made as
 * live delivery makes it (its filter, transformations, insert function, batching, retries and
 * dead letters), over the replay's own bookkeeping (a cursor, records and counts of its own, so
 * the live cursor never moves). It ends when every selected event is settled, when the signal
 * aborts (Ctrl-C: interrupted, progress saved, resumable), or when the destination keeps failing.
 */

export interface CorruptLine {
  file: string
  line: number
  reason: string
}

/** What the progress view shows, a few times a second. */
export interface ReplayProgress {
  id: string
  destination: string
  counts: ReplayCounts
  elapsedMs: number
  /** Events settled per second over the last few seconds. */
  eventsPerSecond: number
  /** From the up-front count of the selection and the current speed; null when either is unknown. */
  remainingMs: number | null
  /** The destination's last error, when its last sends failed. */
  lastError: string | null
}

/** What `cdp replay --dry-run` counts: per type and per event name, nothing sent. */
export interface DryRunCounts {
  /** Events the destination would be sent (its own filter applied). */
  total: number
  byType: Record<string, number>
  byEvent: {type: string; event: string | null; count: number}[]
  /** Selected, but left out by the destination's own filter (types, events, sources). */
  skipped: number
}

export interface ReplaySummary {
  /** The replay's id (null for a dry run, which records nothing). */
  id: string | null
  destination: string
  status: ReplayStatus | 'dry-run'
  counts: ReplayCounts
  seconds: number
  /** Events sent per second, over the run. */
  eventsPerSecond: number
  lastError: string | null
  corrupt: CorruptLine[]
  /** Selected events not confirmed by the destination (null when the selection's size is unknown). */
  notSent: number | null
  selection: ReplaySelection
  wouldSend?: DryRunCounts
}

/** When a destination counts as failing for good: the replay stops then, status failed. */
export interface FailureLimits {
  /** Rounds in a row whose sends all failed, with nothing confirmed in between (default 8). */
  rounds: number
  /** Events dead-lettered in a row, with nothing confirmed in between (default 100). */
  dead: number
}

export const defaultFailureLimits: FailureLimits = {rounds: 8, dead: 100}

export interface RunReplayOptions {
  /** The workspace folder. */
  dir: string
  /** A new replay's selection; or resume. */
  selection?: ReplaySelection
  /** The id of a replay to continue where it stopped. */
  resume?: string
  /** Count what would be sent, send nothing, record nothing. */
  dryRun?: boolean
  log: Logger
  onProgress?: (progress: ReplayProgress) => void
  /** Aborted on Ctrl-C: the replay stops cleanly, status interrupted. */
  signal?: AbortSignal
  /** How often progress is polled and reported (default 250 ms). */
  progressEveryMs?: number
  failureLimits?: Partial<FailureLimits>
}

const badInput = (message: string, hint?: string, code = 'invalid_replay') => new UserError(message, {hint, code, exitCode: ExitCode.usage})

/** The destination by name from cdp.json; a disabled one can still be replayed to. */
export function findDestination(destinations: readonly DestinationConfig[], name: string): DestinationConfig {
  const found = destinations.find((destination) => destination.name === name)
  if (found) return found
  const known = destinations.map((destination) => destination.name)
  throw badInput(
    `destination "${name}" is not in cdp.json.`,
    known.length > 0 ? `Use one of: ${known.join(', ')}.` : 'Add a destination to cdp.json\'s "destinations" first.',
    'unknown_destination',
  )
}

/** Each archive path can be read (a file, or a folder of them): refused up front, before anything is recorded. */
export function checkArchives(files: readonly string[], dir: string): string[] {
  return files.map((file) => {
    const resolved = path.resolve(dir, file)
    try {
      const stat = statSync(resolved)
      accessSync(resolved, stat.isDirectory() ? constants.R_OK | constants.X_OK : constants.R_OK)
      if (!stat.isDirectory() && !stat.isFile()) throw new Error('not a file or a folder')
    } catch (error) {
      throw badInput(`cannot read archive ${file}: ${errorMessage(error)}`, 'Give NDJSON or gzip NDJSON files, or folders of them, that this user can read.', 'unreadable_archive')
    }
    return resolved
  })
}

/** Runs a replay to its end (completed, failed) or until the signal aborts it (interrupted). */
export async function runReplay(options: RunReplayOptions): Promise<ReplaySummary> {
  const paths = workspacePaths(options.dir)
  const loaded = loadConfig(paths.dir)
  const destinations = loaded?.config.destinations ?? []
  if (options.resume === undefined && options.selection === undefined) throw badInput('a replay needs a destination, or --resume ID.')

  if (options.dryRun) {
    const selection = options.selection!
    const config = findDestination(destinations, selection.destination)
    const files = selection.files ? checkArchives(selection.files, paths.dir) : undefined
    return dryRun({...selection, files}, config, paths, options)
  }

  // Checked before the store is opened (or made): bad input records nothing.
  let files: string[] | undefined
  if (options.resume === undefined) {
    findDestination(destinations, options.selection!.destination)
    files = options.selection!.files ? checkArchives(options.selection!.files, paths.dir) : undefined
  }
  // Archives need no events stored: a replay from them makes the store for its records if there is none.
  const storage = await openStorage(paths, {role: 'writer', create: files !== undefined})
  try {
    let info: StoredReplay
    if (options.resume !== undefined) {
      const found = await storage.replays.get(options.resume)
      if (!found) {
        const ids = (await storage.replays.list()).map((replay) => replay.id)
        throw badInput(`no replay "${options.resume}" in this workspace.`, ids.length > 0 ? `\`cdp replay --list\` shows them (${ids.slice(-5).join(', ')}).` : 'Start one with `cdp replay --destination NAME`.', 'unknown_replay')
      }
      if (found.status === 'completed') throw badInput(`replay ${found.id} is already completed: nothing is left to send.`, 'Start a new one with `cdp replay --destination NAME` and the same filters.', 'replay_completed')
      findDestination(destinations, found.destination)
      if (found.selection.files) checkArchives(found.selection.files, paths.dir)
      info = found
    } else {
      info = await storage.replays.create({...options.selection!, files})
      // The up-front count of the selection, for the time left (archives are counted as they are read).
      if (!files) await storage.replays.setSelected(info.id, (await storage.events.countReplayEvents(replayFilterOf(info.selection, info.through))).total)
    }
    const config = findDestination(destinations, info.destination)
    return await run(info, config, storage, loaded?.functions ?? [], paths.dir, options)
  } finally {
    await storage.close()
  }
}

async function run(info: StoredReplay, config: DestinationConfig, storage: Storage, functionDefinitions: NonNullable<ReturnType<typeof loadConfig>>['functions'], dir: string, options: RunReplayOptions): Promise<ReplaySummary> {
  const {log} = options
  const began = Date.now()
  const limits = {...defaultFailureLimits, ...options.failureLimits}
  await storage.replays.setStatus(info.id, 'running')

  // Functions load as cdp dev loads them: insert functions and destination functions run here.
  const registry = new FunctionRegistry({log})
  let runLog: FunctionRunLog | undefined
  let reader: ReplayReader | undefined
  let adapter: DestinationAdapter | undefined
  let worker: DestinationWorker | undefined
  let status: ReplayStatus = 'running'
  let lastError: string | null = null
  let workerStore: ReplayWorkerStore | undefined
  let fatal: unknown
  const wakeUp = new AbortController()
  const wake = options.signal ? AbortSignal.any([options.signal, wakeUp.signal]) : wakeUp.signal
  // The worker logs a failed round; a failed read is reported once, as the replay's own error.
  const workerLog: Logger = {...log, error: (message) => (fatal === undefined ? log.error(message) : undefined)}
  try {
    await registry.apply(functionDefinitions)
    // What the functions did goes to the store's run log, as in cdp dev (`cdp fn logs` reads it).
    runLog = createFunctionRunLog({store: storage.functionRuns, log})
    adapter = createAdapter(config, {dir, log, functions: {lookup: registry, sink: runLog}})
    try {
      await adapter.open?.()
    } catch (error) {
      const opened = adapter
      adapter = undefined
      await opened.close().catch(() => undefined)
      throw new UserError(`destination "${config.name}" (${config.type}) cannot start: ${errorMessage(error)}`, {
        hint: 'Fix its settings in cdp.json, then `cdp replay --resume ' + info.id + '`.',
        exitCode: ExitCode.environment,
        code: 'destination_unavailable',
      })
    }

    reader = info.selection.files ? await openArchiveReader(info.selection) : openStoreReader(storage.events, info.selection, info.through)
    // A read that fails (a corrupt line under --strict, a store that cannot be read) ends the
    // replay: the worker would only log it and try again each round.
    const guarded = guardReads(reader, (error) => {
      fatal ??= error
      wakeUp.abort()
    })
    workerStore = createReplayWorkerStore({replays: storage.replays, reader: guarded, replayId: info.id, destination: config.name, rewrite: true})

    // The destination keeps failing: rounds in a row whose sends all failed, or events dead-lettered in a row.
    let failedRounds = 0
    let deadInARow = 0
    const onResults = (results: DeliveryResult[]) => {
      let delivered = false
      let failed = false
      for (const result of results) {
        if (result.status === 'delivered') delivered = true
        else if (result.status === 'retrying' || result.status === 'dead') {
          failed = true
          if (result.error) lastError = `${result.httpStatus ? `HTTP ${result.httpStatus}: ` : ''}${result.error}`.replace(/^(HTTP \d+: )HTTP \d+: /, '$1')
          if (result.status === 'dead') deadInARow++
        }
      }
      if (delivered) {
        failedRounds = 0
        deadInARow = 0
        lastError = null
      } else if (failed) failedRounds++
    }
    // From here the worker owns the adapter: its stop() closes it.
    const owned = adapter
    adapter = undefined
    worker = new DestinationWorker({
      config,
      adapter: owned,
      store: workerStore,
      log: workerLog,
      onResults,
      wantResults: () => true,
      pollMs: 50,
      lingerMs: 0,
    })
    worker.wake()
    await worker.opened

    const everyMs = options.progressEveryMs ?? 250
    const speed = new Speed()
    const report = (): ReplayProgress => {
      const progress = workerStore!.progress()
      const settled = progress.counts.sent + progress.counts.failed + progress.counts.skipped
      const now = Date.now()
      speed.add(now, settled)
      const eventsPerSecond = speed.perSecond()
      const left = progress.counts.selected === null ? null : Math.max(0, progress.counts.selected - settled)
      const view: ReplayProgress = {
        id: info.id,
        destination: config.name,
        counts: progress.counts,
        elapsedMs: now - began,
        eventsPerSecond,
        remainingMs: left === null || eventsPerSecond <= 0 ? (left === 0 ? 0 : null) : (left / eventsPerSecond) * 1000,
        lastError: lastError ?? progress.lastError ?? null,
      }
      options.onProgress?.(view)
      return view
    }
    for (;;) {
      report()
      if (workerStore.settled()) {
        // Every event settled, and none got through while some were refused: the destination failed.
        const {sent, failed} = workerStore.progress().counts
        status = sent === 0 && failed > 0 ? 'failed' : 'completed'
        if (status === 'failed') lastError = `the destination refused every event${lastError ? `: ${lastError}` : ''}`
        break
      }
      if (fatal !== undefined) {
        status = 'failed'
        lastError = errorMessage(fatal)
        break
      }
      if (options.signal?.aborted) {
        status = 'interrupted'
        break
      }
      if (failedRounds >= limits.rounds || deadInARow >= limits.dead) {
        status = 'failed'
        lastError = `the destination kept failing (${failedRounds >= limits.rounds ? `${failedRounds} rounds in a row` : `${deadInARow} events dead-lettered in a row`} with nothing confirmed)${lastError ? `: ${lastError}` : ''}`
        break
      }
      await sleep(everyMs, wake)
    }
  } catch (error) {
    status = 'failed'
    lastError = errorMessage(error)
    throw error
  } finally {
    // Stopping saves the worker's progress (the checkpoint: only what was confirmed) and closes the adapter.
    if (worker) await worker.stop().catch((error) => log.error(`replay ${info.id}: stopping: ${errorMessage(error)}`))
    else if (adapter) await adapter.close().catch(() => undefined)
    await reader?.close().catch(() => undefined)
    await runLog?.close()
    await registry.close()
    if (status !== 'running') await storage.replays.setStatus(info.id, status, lastError ?? undefined)
  }

  const final = (await storage.replays.get(info.id))!
  const counts = {...final.counts, ...workerStore!.progress().counts}
  // An archive's size is known once it is read to its end.
  if (counts.selected === null && status === 'completed') {
    counts.selected = counts.sent + counts.failed + counts.skipped
    await storage.replays.setSelected(info.id, counts.selected)
  }
  const seconds = (Date.now() - began) / 1000
  return {
    id: info.id,
    destination: config.name,
    status,
    counts,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: seconds > 0 ? Math.round((counts.sent / seconds) * 10) / 10 : 0,
    lastError: status === 'completed' && counts.failed === 0 ? null : lastError ?? final.lastError,
    corrupt: [...(reader?.corrupt ?? [])],
    notSent: counts.selected === null ? null : Math.max(0, counts.selected - counts.sent - counts.skipped),
    selection: info.selection,
  }
}

/**
 * Counts what a replay would send, by type and event name, reading the selection through the same
 * reader a replay uses (so archives' corrupt lines are met and reported) and applying the
 * destination's own filter as its worker would. Nothing is sent and nothing is recorded.
 */
async function dryRun(selection: ReplaySelection, config: DestinationConfig, paths: ReturnType<typeof workspacePaths>, options: RunReplayOptions): Promise<ReplaySummary> {
  const began = Date.now()
  const matches = destinationMatch.matcher({types: config.types, events: config.events, sources: config.sources})
  const byType = new Map<string, number>()
  const byEvent = new Map<string, {type: string; event: string | null; count: number}>()
  let total = 0
  let skipped = 0
  let read = 0
  const count = (type: string, event: string | null, n: number) => {
    read += n
    if (!matches({type: type as MessageType, event, source: '', policy: null})) {
      skipped += n
      return
    }
    total += n
    byType.set(type, (byType.get(type) ?? 0) + n)
    const key = `${type}\u0000${event ?? ''}`
    const row = byEvent.get(key) ?? {type, event, count: 0}
    row.count += n
    byEvent.set(key, row)
  }
  const storage = selection.files ? undefined : await openStorage(paths, {role: 'reader'})
  let reader: ReplayReader | undefined
  try {
    if (storage && !config.sources) {
      // The store counts by type and name itself; the destination's lists of types and names apply to those rows.
      const counted = await storage.events.countReplayEvents(replayFilterOf(selection))
      for (const row of counted.byType) count(row.type, row.event, row.count)
    } else {
      const opened = selection.files ? await openArchiveReader(selection) : openStoreReader(storage!.events, selection)
      reader = opened
      let after = 0
      for (;;) {
        if (options.signal?.aborted) break
        const page = await opened.read(after, 1000)
        for (const event of page.events) {
          if (matches({type: event.type as MessageType, event: event.event, source: event.source, policy: null})) count(event.type, event.event, 1)
          else {
            read++
            skipped++
          }
        }
        after = page.cursor
        if (page.complete) break
      }
    }
  } finally {
    await reader?.close().catch(() => undefined)
    await storage?.close()
  }
  const corrupt = [...(reader?.corrupt ?? [])]
  const seconds = (Date.now() - began) / 1000
  return {
    id: null,
    destination: config.name,
    status: 'dry-run',
    counts: {selected: read, sent: 0, failed: 0, skipped, corrupt: corrupt.length},
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: 0,
    lastError: null,
    corrupt,
    notSent: null,
    selection,
    wouldSend: {
      total,
      byType: Object.fromEntries([...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
      byEvent: [...byEvent.values()].sort((a, b) => b.count - a.count || (a.event ?? '').localeCompare(b.event ?? '')),
      skipped,
    },
  }
}

/** The reader, telling `onFailure` of a read that fails (before the error goes on to the worker). */
function guardReads(reader: ReplayReader, onFailure: (error: unknown) => void): ReplayReader & {corruptUpTo?: (position: number) => number} {
  const counting = reader as ReplayReader & {corruptUpTo?: (position: number) => number}
  return {
    get corrupt() {
      return reader.corrupt
    },
    async read(after, limit) {
      try {
        return await reader.read(after, limit)
      } catch (error) {
        onFailure(error)
        throw error
      }
    },
    close: () => reader.close(),
    ...(counting.corruptUpTo ? {corruptUpTo: (position: number) => counting.corruptUpTo!(position)} : {}),
  }
}

/** A rolling speed over the last few seconds of samples. */
class Speed {
  private readonly samples: {at: number; settled: number}[] = []

  add(at: number, settled: number): void {
    this.samples.push({at, settled})
    while (this.samples.length > 2 && at - this.samples[0].at > 5000) this.samples.shift()
  }

  perSecond(): number {
    if (this.samples.length < 2) return 0
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    return last.at > first.at ? ((last.settled - first.settled) / (last.at - first.at)) * 1000 : 0
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}
