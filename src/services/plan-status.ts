import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {generatedMarker} from '../codegen/generate.js'
import {camelCase, methodNames} from '../codegen/names.js'
import {UserError} from '../errors.js'
import {findCallSites, loadTypeScript, type FoundCall, type SourcePosition} from '../plan/call-sites.js'
import {loadPlan} from '../plan/load.js'
import {planFolders} from './plan-validate.js'

export interface PlanStatusOptions {
  dir: string
  /** Globs relative to the workspace; they replace the default set of files. */
  src: string[]
  /** The codegen output folder, relative to the workspace (skipped, and the module whose imports mark a file as a client's). */
  out: string
  /** Planned events without a call site do not fail the status. */
  allowMissing: boolean
}

export interface CallSite extends SourcePosition {
  /** `client`: a generated client's function; `raw`: an SDK track call with the name as a literal. */
  kind: 'client' | 'raw'
  callee: string
}

export interface PlannedEventStatus {
  event: string
  /** The generated client's function for it; none when codegen cannot name one (a reserved name). */
  function?: string
  calls: CallSite[]
}

export interface PlanStatusResult {
  /** The plan folders read, absolute. */
  plans: string[]
  /** How the files were chosen: git's file list, a walk of the folder (no git repository), or --src globs. */
  files: {from: 'git' | 'walk' | 'src'; scanned: number}
  events: PlannedEventStatus[]
  /** Planned events with no call site. */
  missing: string[]
  /** Events called in code that no plan has. */
  unplanned: {event: string; calls: CallSite[]}[]
  /** Track calls whose event name is not a literal: not checked. */
  dynamic: (SourcePosition & {callee: string; argument: string})[]
  /** No unplanned event, and no missing one unless allowed. */
  ok: boolean
}

const sourceExtensions = new Set(['.ts', '.tsx', '.js', '.jsx', '.mjs', '.cjs'])
const skippedFolders = new Set(['node_modules', '.git', '.cdp'])

const toPosix = (relative: string) => relative.split(path.sep).join('/')

/** Every file below dir (relative, with /), without .git, .cdp and (unless asked) node_modules. */
function walk(dir: string, options: {modules?: boolean} = {}): string[] {
  const files: string[] = []
  const visit = (relative: string) => {
    let entries
    try {
      entries = readdirSync(path.join(dir, relative), {withFileTypes: true})
    } catch {
      return
    }
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        if (!skippedFolders.has(entry.name) || (options.modules && entry.name === 'node_modules')) visit(child)
      } else if (entry.isFile()) files.push(child)
    }
  }
  visit('')
  return files
}

/** The files git knows below dir (tracked, and untracked ones it does not ignore); undefined outside a repository or without git. */
async function gitFiles(dir: string): Promise<string[] | undefined> {
  const result = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: dir, reject: false, env: {LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0'}})
  if (result.failed || result.exitCode !== 0) return undefined
  // A file deleted from the working tree is still in the index: listed once, skipped when unreadable.
  return [...new Set(result.stdout.split('\0').filter(Boolean))]
}

/**
 * A glob as a regular expression over a relative path with forward slashes: `**` any number of
 * folders, `*` and `?` within one name, `{a,b}` alternatives, `[abc]` classes. Small on purpose:
 * path.matchesGlob and fs.globSync are not in every Node 20 that cdp supports.
 */
export function globToRegExp(glob: string): RegExp {
  let pattern = ''
  let depth = 0
  const source = glob.replace(/^\.\//, '')
  for (let i = 0; i < source.length; i++) {
    const char = source[i]
    if (char === '*') {
      if (source[i + 1] === '*') {
        const atStart = i === 0 || source[i - 1] === '/'
        const atEnd = i + 2 === source.length || source[i + 2] === '/'
        if (atStart && atEnd) {
          // "**/" matches no folder or any number; a trailing "**" anything below.
          if (source[i + 2] === '/') {
            pattern += '(?:[^/]*/)*'
            i += 2
          } else {
            pattern += '.*'
            i += 1
          }
          continue
        }
        i += 1
      }
      pattern += '[^/]*'
    } else if (char === '?') pattern += '[^/]'
    else if (char === '{') {
      depth++
      pattern += '(?:'
    } else if (char === '}' && depth > 0) {
      depth--
      pattern += ')'
    } else if (char === ',' && depth > 0) pattern += '|'
    else if (char === '[') {
      const close = source.indexOf(']', i + 2)
      if (close === -1) pattern += '\\['
      else {
        const body = source.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')
        pattern += `[${body}]`
        i = close
      }
    } else pattern += char.replace(/[.+^$()|\\\]]/g, '\\$&')
  }
  return new RegExp(`^${pattern}$`)
}

/** The client's function name for each event, by name; reserved names (codegen refuses them) have none. */
function functionNames(events: readonly string[]): Map<string, string> {
  const names = new Map<string, string>()
  for (const event of events) {
    try {
      methodNames([event])
      names.set(event, camelCase(event))
    } catch {
      // "Track" would be track(), which codegen refuses: only raw calls can send it.
    }
  }
  return names
}

/** Planned events, their call sites in the workspace's source, unplanned and dynamic track calls. */
export async function planStatus(options: PlanStatusOptions): Promise<PlanStatusResult> {
  const dir = path.resolve(options.dir)
  const plans = planFolders(dir)
  const planned = new Set<string>()
  for (const folder of plans) {
    const {plan, problems} = loadPlan(folder)
    const errors = problems.filter((problem) => problem.severity === 'error')
    if (errors.length > 0) {
      const [first] = errors
      throw new UserError(`The plan in ${folder} does not load (${errors.length} error${errors.length === 1 ? '' : 's'}), first: ${path.join(folder, first.file)}${first.pointer ? ` ${first.pointer}` : ''}: ${first.message}`, {
        hint: 'Run `cdp plan validate` and fix the plan first.',
        code: 'invalid_plan',
      })
    }
    for (const name of plan.events.keys()) planned.add(name)
  }
  const events = [...planned].sort()
  const names = functionNames(events)
  const eventsByMethod = new Map<string, string[]>()
  for (const [event, method] of names) eventsByMethod.set(method, [...(eventsByMethod.get(method) ?? []), event])

  const out = toPosix(path.relative(dir, path.resolve(dir, options.out)))
  const insideOut = (relative: string) => out !== '' && !out.startsWith('..') && (relative === out || relative.startsWith(`${out}/`))

  let from: PlanStatusResult['files']['from']
  let candidates: string[]
  if (options.src.length > 0) {
    from = 'src'
    const globs = options.src.map(globToRegExp)
    // node_modules only when a glob asks for it by name.
    const all = options.src.some((glob) => glob.includes('node_modules')) ? walk(dir, {modules: true}) : walk(dir)
    candidates = all.filter((file) => globs.some((glob) => glob.test(file)))
  } else {
    const listed = await gitFiles(dir)
    from = listed === undefined ? 'walk' : 'git'
    candidates = (listed ?? walk(dir)).filter(
      (file) => sourceExtensions.has(path.posix.extname(file).toLowerCase()) && !file.split('/').includes('node_modules') && !insideOut(file),
    )
  }

  const outAbsolute = path.resolve(dir, options.out)
  const ts = await loadTypeScript()
  const found: FoundCall[] = []
  let scanned = 0
  for (const file of candidates.sort()) {
    const absolute = path.join(dir, file)
    let text: string
    try {
      if (!statSync(absolute).isFile()) continue
      text = readFileSync(absolute, 'utf8')
    } catch {
      continue
    }
    // The generated client names every function itself: its own calls are not call sites.
    if (text.startsWith(generatedMarker)) continue
    scanned++
    const fileDir = path.dirname(absolute)
    const isClientModule = (specifier: string) => {
      if (specifier.startsWith('.')) {
        const target = path.resolve(fileDir, specifier)
        const relative = path.relative(outAbsolute, target)
        return relative === '' || /^index(\.[cm]?[jt]sx?)?$/.test(relative) || (!relative.startsWith('..') && !path.isAbsolute(relative) && !relative.includes(path.sep))
      }
      // Path aliases (@/analytics, ~/analytics, src/analytics); not a package such as @segment/analytics-node.
      return out !== '' && !/^@[^/]/.test(specifier) && (specifier === out || specifier.endsWith(`/${out}`) || specifier.endsWith(`/${out}/index`))
    }
    found.push(...findCallSites(ts, text, file, {methods: new Set(eventsByMethod.keys()), isClientModule}))
  }

  const callsOf = new Map<string, CallSite[]>(events.map((event) => [event, []]))
  const unplanned = new Map<string, CallSite[]>()
  const dynamic: PlanStatusResult['dynamic'] = []
  for (const call of found) {
    const {file, line, column, callee} = call
    if (call.kind === 'dynamic') {
      dynamic.push({file, line, column, callee, argument: call.argument})
      continue
    }
    const site: CallSite = {kind: call.kind, file, line, column, callee}
    const targets = call.kind === 'client' ? (eventsByMethod.get(call.method) ?? []) : [call.event]
    for (const event of targets) {
      const sites = callsOf.get(event)
      if (sites) sites.push(site)
      else unplanned.set(event, [...(unplanned.get(event) ?? []), site])
    }
  }

  const statuses: PlannedEventStatus[] = events.map((event) => ({event, ...(names.has(event) ? {function: names.get(event)} : {}), calls: callsOf.get(event) ?? []}))
  const missing = statuses.filter((status) => status.calls.length === 0).map((status) => status.event)
  const unplannedList = [...unplanned].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([event, calls]) => ({event, calls}))
  return {
    plans,
    files: {from, scanned},
    events: statuses,
    missing,
    unplanned: unplannedList,
    dynamic,
    ok: unplannedList.length === 0 && (missing.length === 0 || options.allowMissing),
  }
}
