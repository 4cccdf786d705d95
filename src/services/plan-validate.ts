import path from 'node:path'
import {loadConfig} from '../config/load.js'
import {sourcePlanFolders} from '../config/plan-folders.js'
import {workspacePaths} from '../config/workspace.js'
import {compilePlan} from '../plan/compile.js'
import {lintPlan} from '../plan/lint.js'
import {loadPlan} from '../plan/load.js'
import type {PlanProblem} from '../plan/types.js'

export interface PlanValidateOptions {
  dir: string
  /** Warnings fail too. */
  strict: boolean
}

export interface PlanReport {
  /** The plan folder, absolute. */
  plan: string
  events: number
  problems: (PlanProblem & {path: string})[]
  errors: number
  warnings: number
  ok: boolean
}

/** The plan folders a workspace uses: each source's "plan", or plan/. */
export function planFolders(dir: string): string[] {
  const paths = workspacePaths(dir)
  const loaded = loadConfig(dir)
  const folders = new Set(sourcePlanFolders(paths, loaded?.config.sources ?? []).values())
  if (folders.size === 0) folders.add(paths.planDir)
  return [...folders]
}

/** Loads, compiles and lints every plan folder of the workspace; reports every problem with its file. */
export function validatePlans(options: PlanValidateOptions): PlanReport[] {
  const conventions = loadConfig(options.dir)?.config.conventions ?? {}
  return planFolders(options.dir).map((folder) => {
    const {plan, problems} = loadPlan(folder)
    const all = [...problems, ...compilePlan(plan).problems, ...lintPlan(plan, conventions)]
    const errors = all.filter((p) => p.severity === 'error').length
    const warnings = all.length - errors
    let events = 0
    for (const versions of plan.events.values()) events += versions.size
    return {
      plan: folder,
      events,
      problems: all.map((problem) => ({...problem, path: path.join(folder, problem.file)})),
      errors,
      warnings,
      ok: errors === 0 && (!options.strict || warnings === 0),
    }
  })
}
