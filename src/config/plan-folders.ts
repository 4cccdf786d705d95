import path from 'node:path'
import type {WorkspacePaths} from './workspace.js'

/**
 * Each source's plan folder, by source name: its "plan" in cdp.json, relative to the workspace,
 * or the workspace's plan/. The daemon checks a source's events against it; plan validate,
 * codegen, diff, import and export and schema work on the set of them.
 */
export function sourcePlanFolders(paths: WorkspacePaths, sources: readonly {name: string; plan?: string}[]): Map<string, string> {
  return new Map(sources.map((source) => [source.name, source.plan ? path.resolve(paths.dir, source.plan) : paths.planDir]))
}
