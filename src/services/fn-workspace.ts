import {existsSync, readFileSync} from 'node:fs'
import {functionDefinitions} from '../config/functions.js'
import {configProblems} from '../config/load.js'
import type {WorkspaceConfig} from '../config/schema.js'
import {configFileName, workspacePaths} from '../config/workspace.js'
import {UserError} from '../errors.js'
import type {FunctionDefinition} from '../functions/types.js'
import {jsonErrorWhere} from '../functions/test-cases.js'

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
  const paths = workspacePaths(dir)
  const file = paths.config
  if (!existsSync(file)) return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UserError(`Cannot read ${file}: ${(error as Error).message}`, {hint: "Check the file's permissions.", exitCode: FnExit.badInput})
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${jsonErrorWhere(text, error)}`, {hint: `Fix the JSON syntax in ${configFileName}.`, exitCode: FnExit.badInput, code: 'invalid_config'})
  }
  const problems = configProblems(parsed)
  if (problems.length > 0) {
    throw new UserError(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: `Fix these fields in ${configFileName}; the README's "The workspace" section describes it.`,
      exitCode: FnExit.badInput,
      code: 'invalid_config',
    })
  }
  const config = parsed as WorkspaceConfig
  const resolved = functionDefinitions(config, paths.dir, env)
  return {file, config, definitions: resolved.definitions, problems: resolved.problems}
}

/** The problems that concern one function (its entry's path), for showing beside it. */
export function problemsOf(workspace: FunctionsWorkspace, name: string): string[] {
  const index = (workspace.config.functions ?? []).findIndex((entry) => entry.name === name)
  if (index === -1) return []
  const at = `/functions/${index}`
  return workspace.problems.filter((problem) => problem.startsWith(`${at}:`) || problem.startsWith(`${at}/`))
}
