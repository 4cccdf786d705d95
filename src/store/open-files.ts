import {statSync} from 'node:fs'

interface Identity {
  dev: bigint
  ino: bigint
}

function identityOf(file: string): Identity | undefined {
  const stats = statSync(file, {bigint: true, throwIfNoEntry: false})
  return stats && {dev: stats.dev, ino: stats.ino}
}

/**
 * Remembers which files (device and inode) sit at the store's paths when it opens them, and tells
 * when a path no longer leads to the file held open: deleted (an open file lives on, unlinked, and
 * whatever is written to it is lost at close) or replaced. A stat per path: a few microseconds.
 */
export class OpenFiles {
  private readonly known = new Map<string, Identity | undefined>()

  constructor(files: readonly string[]) {
    for (const file of files) this.known.set(file, identityOf(file))
  }

  /** The first of these paths (all known ones by default) whose file is not the one opened; undefined when all are. */
  changed(files: Iterable<string> = this.known.keys()): string | undefined {
    for (const file of files) {
      const opened = this.known.get(file)
      const now = identityOf(file)
      if (!opened) {
        // Not there when the store opened (SQLite makes -wal and -shm on first use): remember it now.
        if (now) this.known.set(file, now)
        continue
      }
      if (!now || now.ino !== opened.ino || now.dev !== opened.dev) return file
    }
    return undefined
  }
}
