import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {messageRuleFiles, type EventRule, type JsonSchema, type MessageRule, type MessageRuleKind, type PlanProblem, type TrackingPlan, type TraitsRule} from './types.js'
import {resolvePlanRefs} from './resolve.js'
import {isPlainObject} from '../message/json-value.js'

/** A plan's files: path relative to the plan folder ("events/order-completed.json") → text. */
export type PlanFiles = ReadonlyMap<string, string>

function readJson(files: PlanFiles, file: string, problems: PlanProblem[]): unknown {
  try {
    return JSON.parse(files.get(file) as string)
  } catch (error) {
    problems.push({severity: 'error', file, message: `not valid JSON: ${(error as Error).message}`})
    return undefined
  }
}

function optionalSchema(document: Record<string, unknown>, field: string, file: string, problems: PlanProblem[]): JsonSchema | undefined {
  const value = document[field]
  if (value === undefined) return undefined
  if (!isPlainObject(value)) {
    problems.push({severity: 'error', file, pointer: `/${field}`, message: `"${field}" must be a JSON Schema object`})
    return undefined
  }
  return value
}

function readEvent(files: PlanFiles, file: string, problems: PlanProblem[]): EventRule | undefined {
  const document = readJson(files, file, problems)
  if (document === undefined) return undefined
  if (!isPlainObject(document)) {
    problems.push({severity: 'error', file, message: 'an event file must hold a JSON object with "name" and "properties"'})
    return undefined
  }
  const {name, version = 1, description} = document
  if (typeof name !== 'string' || name.trim() === '') {
    problems.push({severity: 'error', file, pointer: '/name', message: 'missing "name": the event name as the SDK sends it, such as "Order Completed"'})
    return undefined
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    problems.push({severity: 'error', file, pointer: '/version', message: '"version" must be a whole number from 1'})
    return undefined
  }
  if (description !== undefined && typeof description !== 'string') {
    problems.push({severity: 'error', file, pointer: '/description', message: '"description" must be a string'})
  }
  const properties = optionalSchema(document, 'properties', file, problems) ?? {type: 'object'}
  return {
    name,
    version,
    description: typeof description === 'string' ? description : undefined,
    properties,
    context: optionalSchema(document, 'context', file, problems),
    traits: optionalSchema(document, 'traits', file, problems),
    definitions: optionalSchema(document, 'definitions', file, problems) as EventRule['definitions'],
    file,
  }
}

function readTraits(files: PlanFiles, file: string, problems: PlanProblem[]): TraitsRule | undefined {
  if (!files.has(file)) return undefined
  const document = readJson(files, file, problems)
  if (document === undefined) return undefined
  if (!isPlainObject(document)) {
    problems.push({severity: 'error', file, message: 'must hold a JSON object with "traits"'})
    return undefined
  }
  const traits = optionalSchema(document, 'traits', file, problems)
  if (!traits) {
    if (document.traits === undefined) problems.push({severity: 'error', file, pointer: '/traits', message: 'missing "traits": the JSON Schema of the traits'})
    return undefined
  }
  return {
    description: typeof document.description === 'string' ? document.description : undefined,
    traits,
    context: optionalSchema(document, 'context', file, problems),
    definitions: optionalSchema(document, 'definitions', file, problems) as TraitsRule['definitions'],
    file,
  }
}

function readMessageRule(files: PlanFiles, file: string, problems: PlanProblem[]): MessageRule | undefined {
  if (!files.has(file)) return undefined
  const document = readJson(files, file, problems)
  if (document === undefined) return undefined
  if (!isPlainObject(document)) {
    problems.push({severity: 'error', file, message: 'must hold a JSON object with "properties", "context" or "traits"'})
    return undefined
  }
  const version = document.version ?? 1
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    problems.push({severity: 'error', file, pointer: '/version', message: '"version" must be a whole number from 1'})
    return undefined
  }
  return {
    name: typeof document.name === 'string' ? document.name : undefined,
    description: typeof document.description === 'string' ? document.description : undefined,
    version,
    properties: optionalSchema(document, 'properties', file, problems),
    context: optionalSchema(document, 'context', file, problems),
    traits: optionalSchema(document, 'traits', file, problems),
    definitions: optionalSchema(document, 'definitions', file, problems) as MessageRule['definitions'],
    file,
  }
}

/** JSON files under a folder, recursively, as paths relative to `root`, sorted. */
function jsonFiles(root: string, folder: string): string[] {
  const absolute = path.join(root, folder)
  if (!existsSync(absolute)) return []
  const files: string[] = []
  for (const entry of readdirSync(absolute).sort()) {
    const relative = path.join(folder, entry)
    if (statSync(path.join(root, relative)).isDirectory()) files.push(...jsonFiles(root, relative))
    else if (entry.endsWith('.json')) files.push(relative.split(path.sep).join('/'))
  }
  return files
}

/** The top-level files of a plan folder; everything else it reads is under events/. */
const topLevelFiles = ['identify.json', 'group.json', ...Object.values(messageRuleFiles), 'definitions.json']

/** Whether a path relative to the plan folder is one the plan is read from. */
export function isPlanFile(relative: string): boolean {
  return (relative.startsWith('events/') && relative.endsWith('.json')) || topLevelFiles.includes(relative)
}

/** Folder by folder, entries sorted within each: the order jsonFiles walks the disk in. */
function compareTreeOrder(a: string, b: string): number {
  const left = a.split('/')
  const right = b.split('/')
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return left[i] < right[i] ? -1 : 1
  }
  return left.length - right.length
}

/**
 * Reads a plan folder: events/**\/*.json (one event each), identify.json, group.json, page.json,
 * screen.json, common.json and definitions.json. Never throws for a bad file: every problem is returned with its file.
 */
export function loadPlan(dir: string): {plan: TrackingPlan; problems: PlanProblem[]} {
  const {files, unreadable} = readPlanFiles(dir)
  const {plan, problems} = loadPlanFrom(files, dir)
  return {plan, problems: [...unreadable, ...problems]}
}

/** The plan files of a folder, by relative path, as text; those that cannot be read, as problems. */
export function readPlanFiles(dir: string): {files: Map<string, string>; unreadable: PlanProblem[]} {
  const files = new Map<string, string>()
  const unreadable: PlanProblem[] = []
  if (existsSync(dir)) {
    for (const file of [...jsonFiles(dir, 'events'), ...topLevelFiles.filter((name) => existsSync(path.join(dir, name)))]) {
      try {
        files.set(file, readFileSync(path.join(dir, file), 'utf8'))
      } catch (error) {
        unreadable.push({severity: 'error', file, message: `cannot be read: ${(error as Error).message}`})
      }
    }
  }
  return {files, unreadable}
}

/**
 * The same rules as loadPlan, over files already in memory (a plan read from a git revision, say).
 * `dir` is only recorded as the plan's folder. Files that are not plan files are ignored.
 */
export function loadPlanFrom(files: PlanFiles, dir: string): {plan: TrackingPlan; problems: PlanProblem[]} {
  const problems: PlanProblem[] = []
  const plan: TrackingPlan = {dir, events: new Map(), rules: {}, refs: {target: () => undefined, unresolvedIn: new Set()}}
  const eventFiles = [...files.keys()].filter((file) => file.startsWith('events/') && file.endsWith('.json')).sort(compareTreeOrder)
  for (const file of eventFiles) {
    const rule = readEvent(files, file, problems)
    if (!rule) continue
    let versions = plan.events.get(rule.name)
    if (!versions) plan.events.set(rule.name, (versions = new Map()))
    const earlier = versions.get(rule.version)
    if (earlier) {
      problems.push({severity: 'error', file, pointer: '/name', message: `"${rule.name}" version ${rule.version} is also defined in ${earlier.file}; keep one file per event and version`})
      continue
    }
    versions.set(rule.version, rule)
  }
  plan.identify = readTraits(files, 'identify.json', problems)
  plan.group = readTraits(files, 'group.json', problems)
  for (const [kind, file] of Object.entries(messageRuleFiles) as [MessageRuleKind, string][]) {
    const rule = readMessageRule(files, file, problems)
    if (rule) plan.rules[kind] = rule
  }
  if (files.has('definitions.json')) {
    const document = readJson(files, 'definitions.json', problems)
    if (isPlainObject(document)) plan.definitions = {file: 'definitions.json', document}
    else if (document !== undefined) problems.push({severity: 'error', file: 'definitions.json', message: 'must hold a JSON object'})
  }
  // Once, here: validation, declared paths, diff, export and codegen all follow the same answers.
  const {refs, problems: refProblems} = resolvePlanRefs(plan)
  plan.refs = refs
  problems.push(...refProblems)
  return {plan, problems}
}
