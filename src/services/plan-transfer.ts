import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {ExitCode, UserError} from '../errors.js'
import {loadPlan} from '../plan/load.js'
import {planToRules, readSegmentRules, rulesToFiles, type PlanFile, type SegmentRule} from '../plan/segment-rules.js'
import {planFolders} from './plan-validate.js'

export interface PlanImportOptions {
  dir: string
  file: string
  /** Replace events (and identify, group, page, screen, common rules) that already have a file. */
  force: boolean
}

export interface PlanImportResult {
  plan: string
  rules: number
  files: {path: string; action: 'created' | 'overwritten'}[]
}

function readJsonFile(file: string): unknown {
  if (!existsSync(file)) throw new UserError(`${file} does not exist.`, {hint: 'Pass the path of a saved tracking plan export.', code: 'not_found'})
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${(error as Error).message}`, {code: 'invalid_import'})
  }
}

function onlyPlanFolder(dir: string): string {
  const folders = planFolders(dir)
  if (folders.length > 1) {
    throw new UserError(`This workspace has ${folders.length} plan folders (${folders.join(', ')}).`, {hint: 'Run the command with --dir in a workspace with one plan, or import into each source\'s folder by hand.'})
  }
  return folders[0]
}

/** Imports a Segment Protocols export or a Typewriter plan.json into the plan folder's files. */
export function importPlan(options: PlanImportOptions): PlanImportResult {
  const folder = onlyPlanFolder(options.dir)
  const rules = readSegmentRules(readJsonFile(options.file), options.file)
  const files = rulesToFiles(rules, options.file)
  const {plan} = loadPlan(folder)

  // An event already planned keeps its file's path, wherever it is.
  const existingPaths = new Map<string, string>()
  for (const [name, versions] of plan.events) for (const [version, rule] of versions) existingPaths.set(`${name}\u0000${version}`, rule.file)
  const targets: PlanFile[] = files.map((file) => {
    const name = file.content.name
    const key = typeof name === 'string' && file.file.startsWith('events/') ? `${name}\u0000${(file.content.version as number | undefined) ?? 1}` : undefined
    const existing = key ? existingPaths.get(key) : undefined
    return existing ? {...file, file: existing} : file
  })
  const taken = targets.filter((target) => existsSync(path.join(folder, target.file)))
  if (taken.length > 0 && !options.force) {
    throw new UserError(`${taken.length} rule${taken.length === 1 ? '' : 's'} already ha${taken.length === 1 ? 's a file' : 've files'}: ${taken.map((t) => path.join(folder, t.file)).join(', ')}. Nothing was written.`, {
      hint: 'Run again with --force to replace them.',
      code: 'exists',
    })
  }
  const written: PlanImportResult['files'] = []
  for (const target of targets) {
    const absolute = path.join(folder, target.file)
    const existed = existsSync(absolute)
    try {
      mkdirSync(path.dirname(absolute), {recursive: true})
      writeFileSync(absolute, JSON.stringify(target.content, null, 2) + '\n')
    } catch (error) {
      throw new UserError(`Cannot write ${absolute}: ${(error as Error).message}`, {exitCode: ExitCode.environment, code: 'not_writable'})
    }
    written.push({path: absolute, action: existed ? 'overwritten' : 'created'})
  }
  return {plan: folder, rules: rules.length, files: written}
}

export interface PlanExportOptions {
  dir: string
}

/** The plan folder as Segment Public API rules, in the shape GET /tracking-plans/{id}/rules answers. */
export function exportPlan(options: PlanExportOptions): {data: {rules: SegmentRule[]}} {
  const folder = onlyPlanFolder(options.dir)
  const {plan, problems} = loadPlan(folder)
  const errors = problems.filter((p) => p.severity === 'error')
  if (errors.length > 0) {
    throw new UserError(`The plan in ${folder} has ${errors.length} error${errors.length === 1 ? '' : 's'}, first: ${path.join(folder, errors[0].file)}: ${errors[0].message}`, {
      hint: 'Run `cdp plan validate` and fix the files first.',
      code: 'invalid_plan',
    })
  }
  return {data: {rules: planToRules(plan)}}
}
