import {existsSync} from 'node:fs'
import {readDaemonInfo} from '../config/daemon-info.js'
import type {WorkspacePaths} from '../config/workspace.js'
import {ExitCode, UserError} from '../errors.js'
import {ensurePrivateDir} from './private-files.js'
import {SqliteDaemonStorage, SqliteStorage, type SqliteDaemonOptions} from './sqlite-storage.js'
import {SqliteStore} from './sqlite-store.js'
import type {DaemonStorage, Storage} from './storage.js'
import {isNotWritable, storeNotWritable} from './store-errors.js'
import {StoreLock} from './store-lock.js'

/**
 * How a process uses the store, which decides how it is opened:
 * - reader: a command reading beside a running daemon (read-only; fails if there is no store yet);
 * - writer: a command changing delivery records while no daemon runs (fails if there is no store,
 *   unless `create`), or `cdp replay` writing its records beside a running daemon or without one
 *   (WAL and busy_timeout let a second connection write between the daemon's commits);
 * - daemon: cdp dev, the single writer (takes the store's lock, guards its files, commits in groups,
 *   keeps the WAL checkpointed).
 */
export type StorageRole = {role: 'reader'} | {role: 'writer'; create?: boolean} | ({role: 'daemon'} & SqliteDaemonOptions)

/** The one way into storage: the daemon and every command open it here, from the workspace's paths. */
export async function openStorage(paths: WorkspacePaths, how: {role: 'daemon'} & SqliteDaemonOptions): Promise<DaemonStorage>
export async function openStorage(paths: WorkspacePaths, how: {role: 'reader'} | {role: 'writer'; create?: boolean}): Promise<Storage>
export async function openStorage(paths: WorkspacePaths, how: StorageRole): Promise<Storage> {
  switch (how.role) {
    case 'reader':
      return new SqliteStorage(new SqliteStore(paths.database, {readonly: true}))
    case 'writer':
      if (!how.create && !existsSync(paths.database)) {
        throw new UserError(`No event store at ${paths.database}: nothing was delivered here yet.`, {hint: 'Run `cdp dev` in this workspace (or pass --dir).', code: 'no_store'})
      }
      // A command's writes are few, and `cdp replay` reads the events through once: a small page cache.
      return new SqliteStorage(new SqliteStore(paths.database, {cacheMiB: 8}))
    case 'daemon':
      return SqliteDaemonStorage.open(paths.database, lockStore(paths), how)
  }
}

/**
 * Takes the store's lock, creating .cdp/ (0700) first, or refuses to start: two daemons on one
 * store would each deliver every event. A lock left by a daemon that crashed was released by the
 * operating system with it.
 */
function lockStore(paths: WorkspacePaths): StoreLock {
  let lock: StoreLock | undefined
  try {
    ensurePrivateDir(paths.stateDir)
    lock = StoreLock.tryAcquire(paths.lockFile)
  } catch (error) {
    throw isNotWritable(error) ? storeNotWritable(paths.database, error) : error
  }
  if (lock) return lock
  const running = readDaemonInfo(paths.dir)
  const hint = `Use the running one (\`cdp tail\` follows its events), stop it first${running ? ` (kill ${running.pid})` : ''}, or start this one on another workspace with --dir.`
  if (!running) {
    throw new UserError(`Another cdp dev holds the event store in ${paths.dir} (it is still starting, or ${paths.daemonFile} is missing).`, {
      hint,
      exitCode: ExitCode.environment,
      code: 'daemon_running',
    })
  }
  throw new UserError(`cdp dev is already running in ${paths.dir} (pid ${running.pid}, ${running.url}); one daemon per store, or every event would be delivered twice.`, {
    hint,
    exitCode: ExitCode.environment,
    code: 'daemon_running',
  })
}
