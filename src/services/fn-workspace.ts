import {functionDefinitions} from '../config/functions.js'
import {readConfig} from '../config/load.js'
import type {WorkspaceConfig} from '../config/schema.js'
import {workspacePaths} from '../config/workspace.js'
import type {FunctionDefinition} from '../functions/types.js'

/** Exit codes of `cdp fn run` and `cdp fn test`. */
export const FnExit = {
  ok: 0,
  /** The function failed (threw, does not load), or a test case failed. */
  failed: 1,
  /** Bad input: a missing file, JSON that does not parse, an unknown function. */
  badInput: 2,
  /** `cdp fn run`: the call hit its time or memory limit. */
  limit: 3,
} as const

export interface FunctionsWorkspace {
  file: string
  config: WorkspaceConfig
  definitions: FunctionDefinition[]
  /**
   * What stops functions from running under cdp dev but not here: an environment variable not set
   * (its setting is left out), a source function's source missing. Each with its JSON path.
   */
  problems: string[]
}

/**
 * cdp.json read for `cdp fn`: its shape must hold, but unlike loading it for cdp dev, an unset
 * environment variable or a source function without its source is a note, not a refusal: tests and
 * one-off runs bring their own settings. Undefined when the workspace has no cdp.json.
 */
export function readFunctionsWorkspace(dir: string, env: NodeJS.ProcessEnv = process.env): FunctionsWorkspace | undefined {
  const read = readConfig(dir, {exitCode: FnExit.badInput})
  if (!read) return undefined
  const {file, config} = read
  const resolved = functionDefinitions(config, workspacePaths(dir).dir, env)
  return {file, config, definitions: resolved.definitions, problems: resolved.problems}
}

/** The problems that concern one function (its entry's path), for showing beside it. */
export function problemsOf(workspace: FunctionsWorkspace, name: string): string[] {
  const index = (workspace.config.functions ?? []).findIndex((entry) => entry.name === name)
  if (index === -1) return []
  const at = `/functions/${index}`
  return workspace.problems.filter((problem) => problem.startsWith(`${at}:`) || problem.startsWith(`${at}/`))
}
