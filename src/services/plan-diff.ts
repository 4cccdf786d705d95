import {existsSync} from 'node:fs'
import path from 'node:path'
import {ExitCode, UserError} from '../errors.js'
import {compilePlan} from '../plan/compile.js'
import {diffPlans, type PlanChange} from '../plan/diff.js'
import {findRepository, readFolderAt, repositoryPath, resolveRevision} from '../plan/git.js'
import {isPlanFile, loadPlan, loadPlanFrom} from '../plan/load.js'
import type {PlanProblem, TrackingPlan} from '../plan/types.js'
import {planFolders} from './plan-validate.js'

export interface PlanDiffOptions {
  dir: string
  /** A git revision: the plan committed there is compared with the working tree's. */
  base: string
}

export interface PlanDiffChange extends PlanChange {
  /** The plan folder, absolute. */
  plan: string
}

export interface PlanDiffResult {
  /** The revision as given ("HEAD", "origin/main"). */
  base: string
  /** The commit it names. */
  commit: string
  /** The plan folders compared, absolute. */
  plans: string[]
  changes: PlanDiffChange[]
  breaking: number
  safe: number
}

/** Load and compile problems that stop a plan from being compared; lint warnings do not. */
function ensureLoads(plan: TrackingPlan, problems: PlanProblem[], where: string, name: (file: string) => string, hint: string): TrackingPlan {
  const errors = [...problems, ...compilePlan(plan).problems].filter((problem) => problem.severity === 'error')
  if (errors.length === 0) return plan
  const lines = errors.map((problem) => `  ${name(problem.file)}${problem.pointer ? ` ${problem.pointer}` : ''}: ${problem.message}`)
  throw new UserError(`The plan ${where} does not load:\n${lines.join('\n')}`, {hint, exitCode: ExitCode.invalidPlan, code: 'invalid_plan'})
}

/** Compares each plan folder of the workspace at a git revision with the same folder in the working tree. */
export async function diffPlanRevision(options: PlanDiffOptions): Promise<PlanDiffResult> {
  const workspace = path.resolve(options.dir)
  if (!existsSync(workspace)) throw new UserError(`${workspace} does not exist.`, {hint: 'Pass --dir the workspace folder (the one with cdp.json or plan/).', code: 'not_found'})
  const repository = await findRepository(workspace)
  const commit = await resolveRevision(repository, options.base)
  const folders = planFolders(workspace)
  const changes: PlanDiffChange[] = []
  for (const folder of folders) {
    const inRepository = repositoryPath(repository, workspace, folder)
    if (inRepository === undefined) {
      throw new UserError(`The plan folder ${folder} is outside the git repository at ${repository.root}, so git has no earlier version of it.`, {
        hint: 'Keep the plan inside the repository, or run cdp plan diff from the repository that holds it.',
        exitCode: ExitCode.notARepository,
        code: 'not_a_git_repository',
      })
    }
    const current = loadPlan(folder)
    const head = ensureLoads(current.plan, current.problems, `in ${folder}`, (file) => path.join(folder, file), 'Run `cdp plan validate` to see every problem, fix the files, then diff again.')
    const files = await readFolderAt(repository, commit, inRepository, isPlanFile)
    const committed = loadPlanFrom(files, folder)
    const base = ensureLoads(committed.plan, committed.problems, `at ${options.base}`, (file) => `${options.base}:${path.posix.join(inRepository, file)}`, 'Compare with a revision where the plan loads: cdp plan diff <revision>.')
    changes.push(...diffPlans(base, head).map((change) => ({plan: folder, ...change})))
  }
  const breaking = changes.filter((change) => change.breaking).length
  return {base: options.base, commit, plans: folders, changes, breaking, safe: changes.length - breaking}
}
