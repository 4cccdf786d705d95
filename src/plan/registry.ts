import {compilePlan, type CompiledPlan} from './compile.js'
import {lintPlan} from './lint.js'
import {loadPlan} from './load.js'
import type {PlanProblem} from './types.js'

export interface ReloadResult {
  folder: string
  /** False when the folder has errors: the last good plan stays in force. */
  applied: boolean
  events: number
  problems: PlanProblem[]
}

/**
 * The compiled plan of each plan folder, and which folder each source uses. A reload that finds
 * errors keeps the last good plan; the first load of a broken folder leaves that source unchecked.
 */
export class PlanRegistry {
  private readonly compiled = new Map<string, CompiledPlan>()
  private sourceFolders = new Map<string, string>()

  setSources(sourceFolders: Map<string, string>): void {
    this.sourceFolders = sourceFolders
  }

  get folders(): string[] {
    return [...new Set(this.sourceFolders.values())]
  }

  forSource(source: string): CompiledPlan | undefined {
    const folder = this.sourceFolders.get(source)
    const compiled = folder === undefined ? undefined : this.compiled.get(folder)
    return compiled?.active ? compiled : undefined
  }

  reload(folder: string): ReloadResult {
    const {plan, problems} = loadPlan(folder)
    const {compiled, problems: compileProblems} = compilePlan(plan)
    const all = [...problems, ...compileProblems, ...lintPlan(plan).filter((p) => p.severity === 'error')]
    let events = 0
    for (const versions of plan.events.values()) events += versions.size
    const applied = all.every((p) => p.severity !== 'error')
    if (applied) this.compiled.set(folder, compiled)
    return {folder, applied, events, problems: all}
  }
}
