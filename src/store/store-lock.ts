import Database from 'better-sqlite3'
import {ensurePrivateFile} from './private-files.js'

/**
 * One writer per store: the daemon holds an exclusive SQLite transaction on a small lock file for
 * its whole life. The lock is the kernel's (fcntl), so it goes with the process however it ends —
 * a crash or SIGKILL leaves nothing to clean up and the next daemon takes it over. A PID file alone
 * cannot tell a live owner from a reused PID. SQLite also sees locks held by other connections in
 * the same process, so two daemons in one process are refused too. The lock file is never deleted:
 * a daemon waiting to open it and one that recreated it would lock two different files.
 */
export class StoreLock {
  private constructor(private readonly db: Database.Database) {}

  /** Takes the lock; undefined when another daemon holds it. Errors opening the file (permissions) are thrown. */
  static tryAcquire(file: string): StoreLock | undefined {
    ensurePrivateFile(file)
    // No waiting: a held lock is held for a daemon's whole life.
    const db = new Database(file, {timeout: 0})
    try {
      // The journal lives in memory: locking writes nothing and leaves no -journal file.
      db.pragma('journal_mode = MEMORY')
      db.exec('BEGIN EXCLUSIVE')
      return new StoreLock(db)
    } catch (error) {
      db.close()
      if ((error as {code?: string}).code === 'SQLITE_BUSY') return undefined
      throw error
    }
  }

  release(): void {
    if (this.db.open) this.db.close()
  }
}
