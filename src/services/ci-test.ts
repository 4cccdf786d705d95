import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {constants, tmpdir} from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {loadConfig} from '../config/load.js'
import {sourcePlanFolders} from '../config/plan-folders.js'
import {workspacePaths} from '../config/workspace.js'
import {AbortSilent, ExitCode, UserError, errorMessage} from '../errors.js'
import {junitXml, type JunitCase} from '../functions/junit.js'
import type {Logger} from '../log.js'
import {loadPlan} from '../plan/load.js'
import {PlanRegistry} from '../plan/registry.js'
import {describeReload} from '../plan/watch.js'
import {onStopSignal} from '../stop-signals.js'
import {openStorage} from '../store/open-storage.js'
import {startDev, type DevDaemon} from './dev.js'

export interface CiTestOptions {
  /** The workspace: its cdp.json (sources, functions, destinations), plans. */
  dir: string
  /** CMD and its arguments. */
  command: string
  args: readonly string[]
  /** 0: a free port. */
  port: number
  /** The source whose write key CMD gets (default: the first). */
  source?: string
  allowViolations: boolean
  allowUnplanned: boolean
  /** Event names (track events, page and screen names) that must be received. */
  expect: readonly string[]
  /** Deliver to cdp.json's destinations (default: store only). */
  destinations: boolean
  /** How long to keep receiving after CMD ends, for SDKs that flush on exit. */
  settleMs: number
  junit?: string
  /** Where CMD's stdout goes: through (default), or to stderr so that stdout holds only JSON. */
  commandStdout?: 'inherit' | 'stderr'
  log: Logger
}

export interface CiTestViolation {
  type: string
  event: string | null
  source: string
  kind: string
  path: string
  expected: string
  actual: string
  message: string
  messageId: string
}

export interface CiTestResult {
  command: string[]
  /** The daemon CMD talked to, and the source whose key it got. */
  url: string
  source: string
  /** The environment variables CMD got (names; the values are the URL and the write key). */
  env: Record<string, string>
  /** CMD's own end: its exit code, or the signal that ended it. */
  commandExit: {code: number | null; signal: string | null}
  events: {total: number; byType: {type: string; event: string | null; count: number}[]}
  /** Violations of the plan, unplanned events apart. */
  violations: CiTestViolation[]
  /** Track events of a source with a plan that the plan does not have. */
  unplanned: {event: string; source: string; count: number}[]
  /** Events the plans declare, and whether they were received. */
  planned: {event: string; seen: boolean}[]
  plannedNotSeen: string[]
  expected: {event: string; seen: boolean}[]
  expectedMissing: string[]
  allowViolations: boolean
  allowUnplanned: boolean
  /** Why cdp test fails (empty when it passes). */
  failures: ('command' | 'violations' | 'unplanned' | 'expected')[]
  /** cdp test's exit code. */
  exitCode: number
  junit?: string
}

/** The variables CMD finds the daemon by: cdp's own and the names SDK examples read. */
export function commandEnv(url: string, writeKey: string): Record<string, string> {
  return {
    CDP_URL: url,
    CDP_WRITE_KEY: writeKey,
    SEGMENT_WRITE_KEY: writeKey,
    SEGMENT_HOST: url,
    SEGMENT_API_HOST: url,
    RUDDERSTACK_DATA_PLANE_URL: url,
    RUDDERSTACK_WRITE_KEY: writeKey,
  }
}

/** Exit code of a command a shell would report: its code, or 128 + the signal's number. */
function commandExitCode(exit: {code: number | null; signal: string | null}): number {
  if (exit.code !== null) return exit.code
  const number = exit.signal ? constants.signals[exit.signal as NodeJS.Signals] : undefined
  return 128 + (number ?? 0)
}

// Reports read back from the store: more than a CI run sends.
const violationLimit = 100_000
const messageTypes = ['track', 'identify', 'page', 'screen', 'group', 'alias']

/**
 * Runs CMD against a throwaway daemon (the workspace's sources, plans and functions on a store in
 * a temporary folder, no destinations unless asked) and reports what it sent against the plan.
 */
export async function runCiTest(options: CiTestOptions): Promise<CiTestResult> {
  const paths = workspacePaths(options.dir)
  const loaded = loadConfig(paths.dir)
  const planned = plannedEvents(paths, loaded?.config.sources)
  const temp = mkdtempSync(path.join(tmpdir(), 'cdp-test-'))
  try {
    const tempPaths = workspacePaths(temp)
    const storage = await openStorage(tempPaths, {role: 'daemon', log: options.log})
    const daemon = await startDev({
      dir: paths.dir,
      port: options.port,
      host: '127.0.0.1',
      log: options.log,
      storage,
      destinations: options.destinations,
      daemonFile: false,
    })
    let exit: {code: number | null; signal: string | null}
    let source: {name: string; writeKey: string}
    let env: Record<string, string>
    try {
      source = pickSource(daemon, options.source)
      env = commandEnv(daemon.url, source.writeKey)
      exit = await runCommand(options, env)
    } finally {
      await daemon.stop()
    }
    return await report(options, tempPaths, planned, {url: daemon.url, source: source.name, env, exit})
  } finally {
    rmSync(temp, {recursive: true, force: true})
  }
}

/** The event names of every source's plan; refuses a plan with errors, which would check nothing. */
function plannedEvents(paths: ReturnType<typeof workspacePaths>, sources: readonly {name: string; plan?: string}[] | undefined): string[] {
  const folders = [...new Set(sourcePlanFolders(paths, sources ?? [{name: 'default'}]).values())]
  const names = new Set<string>()
  for (const folder of folders) {
    const reload = new PlanRegistry().reload(folder)
    if (!reload.applied) {
      throw new UserError(`The tracking plan does not load, so events would not be checked against it.\n${describeReload(reload)}`, {
        hint: 'Fix the plan (`cdp plan validate` lists every problem), then run cdp test again.',
        exitCode: ExitCode.invalidPlan,
        code: 'invalid_plan',
      })
    }
    for (const name of loadPlan(folder).plan.events.keys()) names.add(name)
  }
  return [...names].sort()
}

function pickSource(daemon: DevDaemon, name: string | undefined): {name: string; writeKey: string} {
  if (name === undefined) return daemon.sources[0]
  const source = daemon.sources.find((s) => s.name === name)
  if (!source) {
    throw new UserError(`No source named "${name}" in ${daemon.configFile ?? 'the defaults'}.`, {
      hint: `Pick one of: ${daemon.sources.map((s) => s.name).join(', ')}.`,
      exitCode: ExitCode.usage,
      code: 'unknown_source',
    })
  }
  return source
}

/**
 * Runs CMD to its end, its output streamed through, then waits the settle time; Ctrl-C (SIGINT,
 * SIGTERM) stops CMD, or cuts the settle time short, and the run ends silently (130).
 */
async function runCommand(options: CiTestOptions, env: Record<string, string>): Promise<{code: number | null; signal: string | null}> {
  const child = execa(options.command, [...options.args], {
    stdin: 'inherit',
    stdout: options.commandStdout === 'stderr' ? 2 : 'inherit',
    stderr: 'inherit',
    env,
    reject: false,
    // Killed with SIGKILL when it does not end 5 s after the signal passed on.
    forceKillAfterDelay: 5000,
  })
  let stoppedBy: NodeJS.Signals | undefined
  let settled: (() => void) | undefined
  const dispose = onStopSignal((signal) => {
    stoppedBy = signal
    child.kill(signal)
    settled?.()
  })
  let result: Awaited<typeof child>
  try {
    result = await child
    // Also after a failed CMD (its report still tells what it sent), not when it never started.
    const ran = result.exitCode !== undefined || result.signal !== undefined
    if (!stoppedBy && ran && options.settleMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.settleMs)
        settled = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  } finally {
    dispose()
  }
  if (stoppedBy) throw new AbortSilent()
  const code = (result as {code?: string}).code
  if (result.failed && result.exitCode === undefined && result.signal === undefined && code !== undefined) {
    const name = options.command
    const notFound = code === 'ENOENT'
    throw new UserError(notFound ? `Cannot run ${JSON.stringify(name)}: no such command.` : `Cannot run ${JSON.stringify(name)}: ${errorMessage(result.cause ?? result.message)}`, {
      hint: notFound
        ? 'Put the command after `--` as a program on PATH or a path to one, e.g. `cdp test -- npm test`; for a shell command line, `cdp test -- sh -c "…"`.'
        : 'Check that the command is a program you may run.',
      exitCode: notFound ? 127 : 126,
      code: 'command_not_started',
    })
  }
  return {code: result.exitCode ?? null, signal: result.signal ?? null}
}

async function report(
  options: CiTestOptions,
  tempPaths: ReturnType<typeof workspacePaths>,
  planned: string[],
  run: {url: string; source: string; env: Record<string, string>; exit: {code: number | null; signal: string | null}},
): Promise<CiTestResult> {
  const storage = await openStorage(tempPaths, {role: 'reader'})
  const counts = new Map<string, {type: string; event: string | null; count: number}>()
  let stored: Awaited<ReturnType<typeof storage.events.queryViolations>>
  try {
    for await (const message of storage.events.iterateMessages(messageTypes)) {
      const m = message as {type: string; event?: unknown; name?: unknown}
      const name = m.type === 'track' ? m.event : m.type === 'page' || m.type === 'screen' ? m.name : undefined
      const event = typeof name === 'string' ? name : null
      const key = JSON.stringify([m.type, event])
      const entry = counts.get(key) ?? {type: m.type, event, count: 0}
      entry.count++
      counts.set(key, entry)
    }
    stored = await storage.events.queryViolations({limit: violationLimit})
  } finally {
    storage.close()
  }
  const byType = [...counts.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type) || (a.event ?? '').localeCompare(b.event ?? ''))
  const seen = new Set(byType.map((row) => row.event).filter((event): event is string => event !== null))
  const seenTracks = new Set(byType.filter((row) => row.type === 'track').map((row) => row.event))
  const violations: CiTestViolation[] = []
  const unplannedCounts = new Map<string, {event: string; source: string; count: number}>()
  for (const v of stored) {
    if (v.kind === 'unplanned_event') {
      const key = JSON.stringify([v.source, v.event])
      const entry = unplannedCounts.get(key) ?? {event: v.event ?? '', source: v.source, count: 0}
      entry.count++
      unplannedCounts.set(key, entry)
      continue
    }
    violations.push({type: v.type, event: v.event, source: v.source, kind: v.kind, path: v.path, expected: v.expected, actual: v.actual, message: v.message, messageId: v.messageId})
  }
  const unplanned = [...unplannedCounts.values()].sort((a, b) => b.count - a.count || a.event.localeCompare(b.event))
  const plannedRows = planned.map((event) => ({event, seen: seenTracks.has(event)}))
  const expected = [...new Set(options.expect)].map((event) => ({event, seen: seen.has(event)}))
  const failures: CiTestResult['failures'] = []
  const commandFailed = run.exit.code !== 0
  if (commandFailed) failures.push('command')
  if (violations.length > 0 && !options.allowViolations) failures.push('violations')
  if (unplanned.length > 0 && !options.allowUnplanned) failures.push('unplanned')
  if (expected.some((e) => !e.seen)) failures.push('expected')
  const result: CiTestResult = {
    command: [options.command, ...options.args],
    url: run.url,
    source: run.source,
    env: run.env,
    commandExit: run.exit,
    events: {total: byType.reduce((sum, row) => sum + row.count, 0), byType},
    violations,
    unplanned,
    planned: plannedRows,
    plannedNotSeen: plannedRows.filter((p) => !p.seen).map((p) => p.event),
    expected,
    expectedMissing: expected.filter((e) => !e.seen).map((e) => e.event),
    allowViolations: options.allowViolations,
    allowUnplanned: options.allowUnplanned,
    failures,
    exitCode: commandFailed ? commandExitCode(run.exit) : failures.length > 0 ? 1 : 0,
  }
  if (options.junit !== undefined) result.junit = writeJunit(options.junit, result)
  return result
}

function writeJunit(target: string, result: CiTestResult): string {
  const file = path.resolve(target)
  try {
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, junitXml([{name: 'tracking plan', cases: junitCases(result)}], {name: 'cdp test'}))
  } catch (error) {
    throw new UserError(`Cannot write the JUnit report ${file}: ${errorMessage(error)}`, {hint: 'Choose a file you can write with --junit.', exitCode: ExitCode.environment, code: 'not_writable'})
  }
  return file
}

/**
 * One case per planned event seen or expected (a planned event never seen nor expected is a
 * skipped case), one per unplanned event, one per other message kind with violations; a failure
 * per violation, unless violations are allowed (then they are the case's output).
 */
function junitCases(result: CiTestResult): JunitCase[] {
  const cases = new Map<string, JunitCase>()
  const caseOf = (name: string): JunitCase => {
    let c = cases.get(name)
    if (!c) cases.set(name, (c = {name, time: 0}))
    return c
  }
  const expected = new Map(result.expected.map((e) => [e.event, e.seen]))
  for (const p of result.planned) {
    const c = caseOf(p.event)
    if (!p.seen && !expected.has(p.event)) c.skipped = 'planned, never received'
  }
  for (const [event, seen] of expected) {
    const c = caseOf(event)
    if (!seen) c.failure = {message: `${event} was expected (--expect) and never received.`, type: 'ExpectedEventMissing'}
  }
  for (const v of result.violations) {
    const name = v.type === 'track' && v.event !== null ? v.event : v.event === null ? v.type : `${v.type} ${v.event}`
    const c = caseOf(name)
    const detail = {message: `${v.path}: ${v.message}`, type: v.kind, details: `expected: ${v.expected}\nactual: ${v.actual}\nmessageId: ${v.messageId}\nsource: ${v.source}`}
    if (result.allowViolations) c.output = `${c.output ?? ''}${detail.message} (expected ${v.expected}, actual ${v.actual}; allowed)\n`
    else (c.failures ??= []).push(detail)
  }
  for (const u of result.unplanned) {
    const c = caseOf(u.event)
    const message = `${u.event} is not in the tracking plan (received ${u.count} time${u.count === 1 ? '' : 's'} from source ${u.source}).`
    if (result.allowUnplanned) c.output = `${c.output ?? ''}${message} (allowed)\n`
    else (c.failures ??= []).push({message, type: 'unplanned_event'})
  }
  return [...cases.values()]
}
