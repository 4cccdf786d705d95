import {checkEmitted} from '../functions/emitted.js'
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {UserError} from '../errors.js'
import {isPlainObject} from '../message/json-value.js'
import {loadFunction} from '../functions/runtime/load.js'
import {jsonErrorWhere} from '../functions/test-cases.js'
import {
  defaultMemoryMb,
  defaultTimeoutMs,
  FunctionLoadError,
  type ConsoleLine,
  type DestinationOutcome,
  type EmittedMessage,
  type FunctionDefinition,
  type FunctionFailure,
  type FunctionKind,
  type InsertOutcome,
  type JsonObject,
} from '../functions/types.js'
import {FnExit, problemsOf, readFunctionsWorkspace, type FunctionsWorkspace} from './fn-workspace.js'

export interface FnRunOptions {
  /** The function's file, or the name of a function cdp.json declares. */
  file: string
  /** The workspace whose cdp.json may declare the function. */
  dir: string
  /** The event file (insert, destination: JSON, one event or a list; source: the request body as is), or "-" for stdin. */
  event: string
  readStdin: () => Promise<string>
  /** A JSON object, or @FILE holding one: merged over the declared settings. */
  settings?: string
  kind?: FunctionKind
  /** Source functions: request headers, "Name: value". */
  headers?: string[]
  timeoutMs?: number
  /** Hosts fetch() may reach, beside those cdp.json allows. */
  allowHosts?: string[]
  env?: NodeJS.ProcessEnv
}

export interface FnRunResult {
  name: string
  file: string
  kind: FunctionKind
  /** Whether the definition (settings, limits, allowed hosts) came from cdp.json. */
  declared: boolean
  /** Insert and destination functions: one per input event. */
  outcomes?: InsertOutcome[] | DestinationOutcome[]
  /** Source functions: what onRequest emitted, in order. */
  messages?: EmittedMessage[]
  /** Source functions: Segment.set() and other calls not supported locally. */
  unsupported?: string[]
  console: ConsoleLine[]
  /** The call's error (source, a file that does not load), or the first event's error (insert, destination). */
  error?: FunctionFailure
  ms: number
  /** Was the input one event (not a list)? Output is shown as one event then. */
  single: boolean
  /** Things said beside the result: cdp.json's problems about this function, a kind overridden. */
  notes: string[]
}

const limitClasses = new Set(['TimeoutError', 'MemoryLimitError'])

/** The exit code of a run: 0 success (a drop included), 1 the function failed, 3 it hit a limit. */
export function runExitCode(result: FnRunResult): number {
  if (result.error === undefined) return FnExit.ok
  return limitClasses.has(result.error.errorClass) ? FnExit.limit : FnExit.failed
}

function badInput(message: string, hint?: string): UserError {
  return new UserError(message, {hint, exitCode: FnExit.badInput, code: 'bad_input'})
}

/** Runs one function once on one input, with no daemon. */
export async function runFunctionOnce(options: FnRunOptions): Promise<FnRunResult> {
  const env = options.env ?? process.env
  const notes: string[] = []
  const {definition, declared, workspace} = findFunction(options, env, notes)
  if (workspace !== undefined && declared) notes.push(...problemsOf(workspace, definition.name).map((problem) => `cdp.json ${problem}`))

  let code: string
  try {
    code = readFileSync(definition.file, 'utf8')
  } catch (error) {
    throw badInput(`Cannot read ${definition.file}: ${(error as Error).message}`)
  }
  const kind = options.kind ?? (declared ? definition.kind : inferKind(code))
  if (declared && options.kind !== undefined && options.kind !== definition.kind) notes.push(`run as a ${options.kind} function; cdp.json declares "${definition.name}" a ${definition.kind} function`)

  const settings = readSettings(options.settings)
  const run: FunctionDefinition = {
    ...definition,
    kind,
    settings: settings === undefined ? definition.settings : {...definition.settings, ...settings},
    timeoutMs: options.timeoutMs ?? definition.timeoutMs,
    allowedHosts: [...new Set([...definition.allowedHosts, ...(options.allowHosts ?? [])])],
  }
  const input = await readInput(options, kind, run.name)

  const base = {name: run.name, file: run.file, kind, declared, notes, single: input.single}
  let runtime
  try {
    runtime = await loadFunction(run, {})
  } catch (error) {
    if (!(error instanceof FunctionLoadError)) throw error
    const location = error.line === undefined ? undefined : `${error.file}:${error.line}${error.column === undefined ? '' : `:${error.column}`}`
    const message = error.message.startsWith(`${location ?? error.file}: `) ? error.message.slice((location ?? error.file).length + 2) : error.message
    return {...base, console: [], error: {errorClass: 'LoadError', message, retryable: false, ...(location === undefined ? {} : {location})}, ms: 0}
  }
  try {
    if (kind === 'source') {
      const result = await runtime.runSource(input.request!)
      // What cdp dev would refuse is an error here too, naming the call.
      const checked = result.error ? undefined : checkEmitted(result.messages, Date.now())
      const error = result.error ?? (checked?.ok === false ? {errorClass: 'ValidationError', message: `a message Segment would refuse: ${checked.problem}; cdp dev stores none of them`, retryable: false} : undefined)
      return {...base, messages: result.messages, unsupported: result.unsupported, console: result.console, ...(error ? {error} : {}), ms: Math.round(result.ms)}
    }
    if (kind === 'destination') {
      const result = await runtime.runDestination(input.events!)
      const failed = result.outcomes.find((outcome) => outcome.result === 'error')
      return {...base, outcomes: result.outcomes, console: result.console, ...(failed?.result === 'error' ? {error: failed.error} : {}), ms: Math.round(result.ms)}
    }
    const result = await runtime.runInsert(input.events!)
    const failed = result.outcomes.find((outcome) => outcome.result === 'error')
    return {...base, outcomes: result.outcomes, console: result.console, ...(failed?.result === 'error' ? {error: failed.error} : {}), ms: Math.round(result.ms)}
  } finally {
    runtime.dispose()
  }
}

/** onRequest makes a source function; anything else runs as an insert function unless told. */
export function inferKind(code: string): FunctionKind {
  return /\bonRequest\b/.test(code) ? 'source' : 'insert'
}

function findFunction(options: FnRunOptions, env: NodeJS.ProcessEnv, notes: string[]): {definition: FunctionDefinition; declared: boolean; workspace?: FunctionsWorkspace} {
  const file = path.resolve(options.file)
  const isFile = existsSync(file) && statSync(file).isFile()
  let workspace: FunctionsWorkspace | undefined
  try {
    workspace = readFunctionsWorkspace(options.dir, env)
  } catch (error) {
    // A one-off run of a file needs no cdp.json; a broken one is only said.
    if (!isFile || !(error instanceof UserError)) throw error
    notes.push(`cdp.json not used: ${error.message.split('\n')[0]}`)
  }
  if (isFile) {
    const declared = workspace?.definitions.find((definition) => definition.file === file)
    if (declared !== undefined) return {definition: declared, declared: true, workspace}
    const name = path.basename(file).replace(/\.(m?js|ts)$/, '')
    return {
      definition: {name, kind: 'insert', file, settings: {}, timeoutMs: defaultTimeoutMs, memoryMb: defaultMemoryMb, allowedHosts: []},
      declared: false,
      workspace,
    }
  }
  const byName = workspace?.definitions.find((definition) => definition.name === options.file)
  if (byName !== undefined) return {definition: byName, declared: true, workspace}
  const known = workspace?.definitions.map((definition) => definition.name) ?? []
  throw badInput(
    `${options.file} is neither a file nor a function cdp.json declares.`,
    known.length > 0 ? `Give a function's file, or one of: ${known.join(', ')}.` : 'Give the path of a function file, such as functions/NAME.js.',
  )
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (error) {
    throw badInput(`${what} is not valid JSON: ${jsonErrorWhere(text, error)}`)
  }
}

function readSettings(settings: string | undefined): JsonObject | undefined {
  if (settings === undefined) return undefined
  let text = settings
  let what = '--settings'
  if (settings.startsWith('@')) {
    const file = path.resolve(settings.slice(1))
    what = file
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw badInput(`Cannot read the settings file ${file}: ${(error as Error).message}`)
    }
  }
  const value = parseJson(text, what)
  if (!isPlainObject(value)) throw badInput(`${what} must be a JSON object of settings, such as {"apiKey": "…"}.`)
  return value
}

async function readInput(
  options: FnRunOptions,
  kind: FunctionKind,
  name: string,
): Promise<{single: boolean; events?: JsonObject[]; request?: {body: string; headers: {[name: string]: string}; url: string}}> {
  let text: string
  const what = options.event === '-' ? 'The event on stdin' : path.resolve(options.event)
  if (options.event === '-') text = await options.readStdin()
  else {
    try {
      text = readFileSync(what, 'utf8')
    } catch (error) {
      throw badInput(`Cannot read the event file ${what}: ${(error as Error).message}`)
    }
  }
  if (kind === 'source') {
    const headers: {[name: string]: string} = {}
    for (const header of options.headers ?? []) {
      const colon = header.indexOf(':')
      const key = colon === -1 ? '' : header.slice(0, colon).trim()
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw badInput(`--header ${header} is not "Name: value".`, 'Write headers as --header "X-Signature: abc".')
      headers[key.toLowerCase()] = header.slice(colon + 1).trim()
    }
    headers['content-type'] ??= 'application/json'
    return {single: true, request: {body: text, headers, url: `http://localhost:8237/v1/functions/${encodeURIComponent(name)}`}}
  }
  if ((options.headers ?? []).length > 0) throw badInput(`--header applies to source functions only; this runs as ${kind === 'insert' ? 'an' : 'a'} ${kind} function.`)
  const value = parseJson(text, what)
  if (isPlainObject(value)) return {single: true, events: [value]}
  if (Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) return {single: false, events: value as JsonObject[]}
  throw badInput(`${what} must hold an event (a JSON object) or a non-empty list of events.`)
}
