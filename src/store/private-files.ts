import {chmodSync, closeSync, fchmodSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import path from 'node:path'

/**
 * The workspace's state (.cdp/: the event store, its WAL, daemon.json with its token, the lock)
 * holds every event and the daemon's secrets: it is its owner's alone, whatever the umask. Modes
 * are set explicitly after creating, because the umask can only take bits away, and a umask of
 * 0277 would leave a folder the daemon cannot write.
 */
export const privateDirMode = 0o700
export const privateFileMode = 0o600

function isMine(uid: number): boolean {
  // No uids (Windows): modes mean little there, and there is nothing to compare.
  const mine = process.getuid?.()
  return mine === undefined || mine === uid
}

/** Takes group and other bits off a file or folder we own; answers whether it changed. Others' files are left alone. */
export function tightenMode(file: string): boolean {
  let stats
  try {
    stats = statSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
  const mode = stats.mode & 0o7777
  if ((mode & 0o077) === 0 || !isMine(stats.uid)) return false
  chmodSync(file, mode & ~0o077)
  return true
}

/** Creates the folder with mode 0700 (its parents as usual); an existing one is tightened when it is ours. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(path.dirname(dir), {recursive: true})
  try {
    mkdirSync(dir, {mode: privateDirMode})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    tightenMode(dir)
    return
  }
  chmodSync(dir, privateDirMode)
}

/**
 * Creates an empty file with mode 0600 when absent; an existing one is tightened when it is ours.
 * An existing file is never opened here: closing a descriptor would drop the locks SQLite holds on
 * it in this process (POSIX locks belong to the process, not the descriptor).
 */
export function ensurePrivateFile(file: string): void {
  let fd: number
  try {
    fd = openSync(file, 'wx', privateFileMode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    tightenMode(file)
    return
  }
  try {
    fchmodSync(fd, privateFileMode)
  } finally {
    closeSync(fd)
  }
}

/** Replaces the file's content at once (write aside, rename): readers never see half of it, nor anyone else a moment of a looser mode. */
export function writePrivateFile(file: string, text: string): void {
  const aside = `${file}.${process.pid}.tmp`
  const fd = openSync(aside, 'w', privateFileMode)
  try {
    fchmodSync(fd, privateFileMode)
    writeSync(fd, text)
  } catch (error) {
    closeSync(fd)
    rmSync(aside, {force: true})
    throw error
  }
  closeSync(fd)
  try {
    renameSync(aside, file)
  } catch (error) {
    rmSync(aside, {force: true})
    throw error
  }
}
