import path from 'node:path'
import {ExitCode, UserError} from '../errors.js'

/**
 * The store can take nothing more while the daemon runs (its file was deleted or replaced): what
 * is sent now would be acknowledged and lost. The HTTP API answers it with 503, so SDKs keep
 * their events and send them again.
 */
export class StoreUnavailableError extends UserError {
  constructor(message: string, hint: string) {
    super(message, {hint, exitCode: ExitCode.environment, code: 'store_unavailable'})
    this.name = 'StoreUnavailableError'
  }
}

/** Codes of a store (or its folder) that refuses writes: permissions, a read-only file system or file. */
const notWritableCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_AUTH'])

export function isNotWritable(error: unknown): boolean {
  const code = (error as {code?: unknown} | undefined)?.code
  return typeof code === 'string' && (notWritableCodes.has(code) || code.startsWith('SQLITE_READONLY'))
}

/** The error for a store file (or the folder holding it) that cannot be written: exit 3, naming it. */
export function storeNotWritable(file: string, cause: unknown): UserError {
  const folder = path.dirname(file)
  const reason = (cause as Error | undefined)?.message ?? String(cause)
  return new UserError(`Cannot write the event store ${file}: ${reason}.`, {
    hint: `Make ${folder} and the files in it writable by you (see \`ls -la ${folder}\`), or use a workspace in a folder you can write (--dir).`,
    exitCode: ExitCode.environment,
    code: 'store_not_writable',
    cause,
  })
}
