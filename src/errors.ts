/**
 * The error taxonomy. A UserError is something the user can fix: it carries a message, a hint
 * ("try this") and its own exit code. A BugError marks a broken invariant. AbortSilent ends a
 * command quietly (Ctrl-C). Only the top-level handler turns these into an exit.
 */
export const ExitCode = {
  /** A user-fixable problem: bad input, bad config. */
  user: 1,
  /** Usage errors are oclif's own (exit 2). */
  usage: 2,
  /** The environment refused: port in use, file not writable. */
  environment: 3,
  /** A check that CI runs found a difference (stale output, breaking change). */
  check: 1,
  /** `cdp plan diff`: the workspace is not in a git repository. */
  notARepository: 4,
  /** `cdp plan diff`: git knows no commit by the name given. */
  unknownRevision: 5,
  /** A plan that must load for the command to mean anything does not (`cdp plan diff`). */
  invalidPlan: 6,
  /** An invariant was broken: a bug in cdp. */
  bug: 70,
} as const

export class UserError extends Error {
  readonly hint?: string
  readonly exitCode: number
  readonly code: string

  constructor(message: string, options: {hint?: string; exitCode?: number; code?: string; cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.name = 'UserError'
    this.hint = options.hint
    this.exitCode = options.exitCode ?? ExitCode.user
    this.code = options.code ?? 'user_error'
  }
}

export class BugError extends Error {
  constructor(message: string, options: {cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.name = 'BugError'
  }
}

export class AbortSilent extends Error {
  constructor() {
    super('aborted')
    this.name = 'AbortSilent'
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
