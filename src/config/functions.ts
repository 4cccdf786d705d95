import {existsSync} from 'node:fs'
import path from 'node:path'
import {defaultMemoryMb, defaultTimeoutMs, type FunctionDefinition, type FunctionKind, type JsonObject} from '../functions/types.js'
import {isPlainObject} from '../message/json-value.js'
import {escapePointer} from '../plan/schema-walk.js'
import {setOwn} from '../message/own-keys.js'
import {envNamePattern} from './functions-schema.js'
import type {FunctionConfig, WorkspaceConfig} from './schema.js'

/** Where function files live, relative to cdp.json. */
export const functionsFolder = 'functions'

const envName = new RegExp(envNamePattern)

/** A settings value written {"env": "NAME"}: read from the environment when cdp starts. */
function envReference(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === 'env' && typeof value.env === 'string' && envName.test(value.env) ? value.env : undefined
}

/**
 * A settings object with its {"env": "NAME"} values read from env. Problems name the JSON path
 * under `at`; a variable that is not set leaves its setting out.
 */
export function resolveSettings(settings: unknown, env: NodeJS.ProcessEnv, at: string, problems: string[]): JsonObject {
  const resolved: JsonObject = {}
  if (!isPlainObject(settings)) return resolved
  for (const key of Object.keys(settings)) {
    const value = settings[key]
    const variable = envReference(value)
    if (variable === undefined) {
      setOwn(resolved, key, value)
      continue
    }
    const read = env[variable]
    if (read === undefined) problems.push(`${at}/${escapePointer(key)}: environment variable ${variable} is not set; set it before starting cdp, or write the value in cdp.json`)
    else setOwn(resolved, key, read)
  }
  return resolved
}

/** The function's file: `file` when given, else functions/NAME.js, else functions/NAME.ts. */
function functionFile(entry: FunctionConfig, dir: string, at: string, problems: string[]): string {
  if (entry.file !== undefined) {
    const file = path.resolve(dir, entry.file)
    if (!/\.(m?js|ts)$/.test(file)) problems.push(`${at}/file: "${entry.file}" is neither a .js nor a .ts file`)
    else if (!existsSync(file)) problems.push(`${at}/file: ${entry.file} does not exist`)
    return file
  }
  const js = path.join(dir, functionsFolder, `${entry.name}.js`)
  const ts = path.join(dir, functionsFolder, `${entry.name}.ts`)
  const hasJs = existsSync(js)
  const hasTs = existsSync(ts)
  if (hasJs && hasTs) problems.push(`${at}: both ${functionsFolder}/${entry.name}.js and ${functionsFolder}/${entry.name}.ts exist; remove one, or name one with "file"`)
  if (!hasJs && !hasTs) problems.push(`${at}: function "${entry.name}" has no file: write ${functionsFolder}/${entry.name}.js (cdp fn new ${entry.name} --kind ${entry.kind} starts one), or name one with "file"`)
  return hasTs && !hasJs ? ts : js
}

function article(kind: FunctionKind): string {
  return kind === 'insert' ? 'an' : 'a'
}

/** The source a source function emits as: its own `source`, else the source named like it. */
export function functionSource(entry: Pick<FunctionConfig, 'name' | 'source'>): string {
  return entry.source ?? entry.name
}

/**
 * cdp.json's functions resolved for running: files found, settings' environment variables read,
 * defaults applied. Problems (files missing, variables unset, names that sources and destinations
 * use but that are not functions of the right kind) come with their JSON paths; the definitions
 * are returned whatever the problems, for commands that can still use some.
 */
export function functionDefinitions(config: WorkspaceConfig, dir: string, env: NodeJS.ProcessEnv = process.env): {definitions: FunctionDefinition[]; problems: string[]} {
  const problems: string[] = []
  const definitions: FunctionDefinition[] = []
  const byName = new Map<string, {kind: FunctionKind; index: number}>()
  ;(config.functions ?? []).forEach((entry, index) => {
    const at = `/functions/${index}`
    const earlier = byName.get(entry.name)
    if (earlier !== undefined) problems.push(`${at}/name: function "${entry.name}" has the same name as /functions/${earlier.index}; each function needs its own`)
    else byName.set(entry.name, {kind: entry.kind, index})
    if (entry.kind === 'source' && !config.sources.some((source) => source.name === functionSource(entry))) {
      const name = functionSource(entry)
      problems.push(
        entry.source === undefined
          ? `${at}: source function "${entry.name}" emits as the source of the same name, which "sources" does not define; add {"name": "${name}", "writeKey": "…"} to "sources", or name one with "source"`
          : `${at}/source: source function "${entry.name}" names source "${name}", which "sources" does not define`,
      )
    }
    if (entry.kind !== 'source' && entry.source !== undefined) problems.push(`${at}/source: only source functions emit as a source; remove "source" from ${entry.kind} function "${entry.name}"`)
    definitions.push({
      name: entry.name,
      kind: entry.kind,
      file: functionFile(entry, dir, at, problems),
      settings: resolveSettings(entry.settings, env, `${at}/settings`, problems),
      timeoutMs: entry.timeoutMs ?? defaultTimeoutMs,
      memoryMb: entry.memoryMb ?? defaultMemoryMb,
      allowedHosts: [...(entry.allowedHosts ?? [])],
      ...(entry.kind === 'source' ? {source: functionSource(entry)} : {}),
    })
  })
  const uses = (at: string, user: string, name: string, kind: FunctionKind) => {
    const found = byName.get(name)
    if (found === undefined) problems.push(`${at}: ${user} names function "${name}", which "functions" does not define`)
    else if (found.kind !== kind) problems.push(`${at}: ${user} names function "${name}", ${article(found.kind)} ${found.kind} function; it needs ${article(kind)} ${kind} function`)
  }
  config.sources.forEach((source, index) => {
    if (source.insert !== undefined) uses(`/sources/${index}/insert`, `source "${source.name}"`, source.insert, 'insert')
  })
  config.destinations?.forEach((destination, index) => {
    if (destination.insert !== undefined) uses(`/destinations/${index}/insert`, `destination "${destination.name}"`, destination.insert, 'insert')
    if (destination.type === 'function') {
      uses(`/destinations/${index}/function`, `destination "${destination.name}"`, destination.function, 'destination')
      resolveSettings(destination.settings, env, `/destinations/${index}/settings`, problems)
    }
  })
  return {definitions, problems}
}
