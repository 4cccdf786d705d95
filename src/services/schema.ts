import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {ExitCode, UserError} from '../errors.js'
import {violationUserId} from '../pipeline/policy.js'
import {declaredPaths} from '../plan/declared.js'
import {inferRule} from '../plan/infer.js'
import {loadPlan} from '../plan/load.js'
import {SchemaObserver, type ObservedEvent, type ObservedField} from '../plan/observe.js'
import {eventFile} from '../plan/file-names.js'
import type {TrackingPlan} from '../plan/types.js'
import {planFolders} from './plan-validate.js'
import {withReader} from './events.js'

export interface ObservedProperty {
  path: string
  types: Record<string, number>
  /** Events in which it was present. */
  count: number
  planned: boolean
}

export interface ObservedEventReport {
  name: string
  type: 'track' | 'identify' | 'group'
  count: number
  firstSeen: string
  lastSeen: string
  planned: boolean
  properties: ObservedProperty[]
}

async function observeStore(dir: string, event?: string): Promise<ObservedEvent[]> {
  const observer = new SchemaObserver()
  await withReader(dir, async ({events}) => {
    for await (const message of events.iterateMessages(['track', 'identify', 'group'])) {
      // Violation Generated events are cdp's own, not the app's.
      if (message.type === 'track' && message.userId === violationUserId) continue
      if (event === undefined || (message.type === 'track' ? message.event === event : message.type === event)) observer.add(message)
    }
  })
  return [...observer.events.values()]
}

function flatten(field: ObservedField, out: ObservedField[] = []): ObservedField[] {
  for (const child of field.children.values()) {
    out.push(child)
    flatten(child, out)
  }
  if (field.items) flatten(field.items, out)
  return out
}

/** The rule of an observed event in a plan, and the paths it declares; undefined when unplanned. */
function plannedPaths(plan: TrackingPlan, event: ObservedEvent): Set<string> | undefined {
  if (event.type === 'track') {
    const versions = plan.events.get(event.name)
    if (!versions) return undefined
    const paths = new Set<string>()
    for (const rule of versions.values()) for (const p of declaredPaths(plan, rule.properties, 'properties')) paths.add(p)
    return paths
  }
  const rule = event.type === 'identify' ? plan.identify : plan.group
  return rule ? declaredPaths(plan, rule.traits, 'traits') : undefined
}

/** What was actually observed in the store, compared with the workspace's plan. */
export async function exploreSchema(options: {dir: string; event?: string}): Promise<ObservedEventReport[]> {
  const plans = planFolders(options.dir).map((folder) => loadPlan(folder).plan)
  return (await observeStore(options.dir, options.event))
    .map((event) => {
      const declared = plans.map((plan) => plannedPaths(plan, event)).filter((paths) => paths !== undefined) as Set<string>[]
      return {
        name: event.name,
        type: event.type,
        count: event.count,
        firstSeen: event.firstSeen,
        lastSeen: event.lastSeen,
        planned: declared.length > 0,
        properties: flatten(event.root).map((field) => ({
          path: field.path,
          types: field.types,
          count: field.count,
          planned: declared.some((paths) => paths.has(field.path)),
        })),
      }
    })
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
}

export interface InferResult {
  plan: string
  files: {path: string; event: string; action: 'created' | 'overwritten' | 'skipped'; reason?: string}[]
}

/** Writes plan files for observed events: one per track event, identify.json and group.json. */
export async function inferPlan(options: {dir: string; event?: string; force: boolean}): Promise<InferResult> {
  const folders = planFolders(options.dir)
  if (folders.length > 1) throw new UserError(`This workspace has ${folders.length} plan folders.`, {hint: 'Run plan infer in a workspace with one plan folder.'})
  const folder = folders[0]
  const observed = await observeStore(options.dir, options.event)
  if (observed.length === 0) {
    throw new UserError(options.event ? `No stored track, identify or group event named "${options.event}".` : 'No stored track, identify or group events to infer from.', {
      hint: 'Send some events to cdp dev first (cdp events lists what is stored).',
      code: 'nothing_observed',
    })
  }
  const {plan} = loadPlan(folder)
  const result: InferResult = {plan: folder, files: []}
  for (const event of observed) {
    const existing = event.type === 'track' ? plan.events.get(event.name)?.values().next().value?.file : event.type === 'identify' ? plan.identify?.file : plan.group?.file
    const file = existing ?? (event.type === 'track' ? eventFile(event.name) : `${event.type}.json`)
    const absolute = path.join(folder, file)
    const exists = existsSync(absolute)
    if (exists && !options.force) {
      result.files.push({path: absolute, event: event.name, action: 'skipped', reason: 'already planned (use --force to replace)'})
      continue
    }
    try {
      mkdirSync(path.dirname(absolute), {recursive: true})
      writeFileSync(absolute, JSON.stringify(inferRule(event), null, 2) + '\n')
    } catch (error) {
      throw new UserError(`Cannot write ${absolute}: ${(error as Error).message}`, {exitCode: ExitCode.environment, code: 'not_writable'})
    }
    result.files.push({path: absolute, event: event.name, action: exists ? 'overwritten' : 'created'})
  }
  return result
}
