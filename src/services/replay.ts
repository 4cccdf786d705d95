import {workspacePaths} from '../config/workspace.js'
import {ExitCode, UserError} from '../errors.js'
import type {Logger} from '../log.js'
import {parseMessageType, parseTimeRange, parseValid} from '../query/filter-input.js'
import {runReplay, type ReplayProgress, type ReplaySummary} from '../replay/runner.js'
import type {ReplayInfo, ReplaySelection} from '../replay/types.js'
import {openStorage} from '../store/open-storage.js'
import {existsSync} from 'node:fs'

export type {ReplayProgress, ReplaySummary} from '../replay/runner.js'

/** What `cdp replay` is asked, as typed: checked here, never by the command. */
export interface ReplayOptions {
  dir: string
  destination?: string
  since?: string
  until?: string
  events?: string[]
  types?: string[]
  source?: string
  user?: string
  valid?: boolean | string
  files?: string[]
  /** Events per second at most, as typed. */
  rate?: number | string
  strict?: boolean
  dryRun?: boolean
  /** Continue this replay instead of starting one. */
  resume?: string
  log: Logger
  onProgress?: (progress: ReplayProgress) => void
  signal?: AbortSignal
}

/** Bad input is exit 2 (a usage error), whatever the parser that found it says. */
function asBadInput<T>(read: () => T): T {
  try {
    return read()
  } catch (error) {
    if (error instanceof UserError && error.exitCode !== ExitCode.usage) throw new UserError(error.message, {hint: error.hint, code: error.code, exitCode: ExitCode.usage, cause: error})
    throw error
  }
}

/** The selection from the options, checked: time range (not inverted, not empty), types, rate. */
export function parseReplaySelection(options: Omit<ReplayOptions, 'log' | 'dir'>, now: number = Date.now()): ReplaySelection {
  return asBadInput(() => {
    if (!options.destination) throw new UserError('which destination? Give --destination NAME (or --resume ID, or --list).', {code: 'invalid_replay'})
    const selection: ReplaySelection = {destination: options.destination}
    const {since, until} = parseTimeRange({since: options.since, until: options.until}, now)
    if (since) selection.since = since
    if (until) selection.until = until
    const events = (options.events ?? []).filter((event) => event !== '')
    if (events.length > 0) selection.events = [...new Set(events)]
    const types = (options.types ?? []).filter((type) => type !== '').map(parseMessageType)
    if (types.length > 0) selection.types = [...new Set(types)]
    if (options.source) selection.source = options.source
    if (options.user) selection.user = options.user
    const valid = parseValid(options.valid)
    if (valid !== undefined) selection.valid = valid
    if (options.files && options.files.length > 0) {
      selection.files = options.files
      if (valid !== undefined) throw new UserError('--valid and --no-valid apply to stored events only: archive lines were never checked against a plan.', {code: 'invalid_replay'})
    }
    if (options.strict) {
      if (!selection.files) throw new UserError('--strict applies to archives (--from-file) only.', {code: 'invalid_replay'})
      selection.strict = true
    }
    if (options.rate !== undefined && options.rate !== '') {
      const rate = Number(options.rate)
      if (!Number.isFinite(rate) || rate <= 0) throw new UserError(`rate "${options.rate}" must be a number of events per second above 0.`, {code: 'invalid_replay'})
      selection.rate = rate
    }
    return selection
  })
}

/** Runs a replay (or a dry run, or resumes one) and answers its summary. */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const common = {dir: options.dir, log: options.log, onProgress: options.onProgress, signal: options.signal, dryRun: options.dryRun}
  if (options.resume !== undefined) {
    if (options.resume === '') throw new UserError('--resume needs the id of a replay (`cdp replay --list` shows them).', {exitCode: ExitCode.usage, code: 'invalid_replay'})
    if (options.dryRun) throw new UserError('--dry-run starts nothing to resume: leave out --resume, or --dry-run.', {exitCode: ExitCode.usage, code: 'invalid_replay'})
    noStoreYet(options.dir)
    return runReplay({...common, resume: options.resume})
  }
  return runReplay({...common, selection: parseReplaySelection(options)})
}

/** The replay exit codes: 0 completed (and dry runs), 1 failed, 130 interrupted (as a shell shows Ctrl-C). */
export function replayExitCode(summary: Pick<ReplaySummary, 'status'>): number {
  switch (summary.status) {
    case 'completed':
    case 'dry-run':
      return 0
    case 'interrupted':
      return 130
    default:
      return 1
  }
}

/** Every replay of the workspace, oldest first; none when there is no store yet. */
export async function listReplays(options: {dir: string}): Promise<ReplayInfo[]> {
  const paths = workspacePaths(options.dir)
  if (!existsSync(paths.database)) return []
  const storage = await openStorage(paths, {role: 'reader'})
  try {
    return await storage.replays.list()
  } finally {
    await storage.close()
  }
}

function noStoreYet(dir: string): void {
  const paths = workspacePaths(dir)
  if (!existsSync(paths.database)) throw new UserError(`no replays in ${paths.dir}: it has no event store yet.`, {exitCode: ExitCode.usage, code: 'unknown_replay'})
}
