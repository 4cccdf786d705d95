import {silentLogger} from '../../src/log.js'
import {startDev, type DevDaemon} from '../../src/services/dev.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import {tempDir, testSources, writeConfig} from './workspace.js'

export interface TestDaemon {
  daemon: DevDaemon
  dir: string
  url: string
  /** Stored messages, read through a second (read-only) connection as `cdp events` does. */
  storedMessages: () => Record<string, any>[]
  close: () => Promise<void>
}

/** A real daemon in this process on an ephemeral port, over a real SQLite file in a temp workspace. */
export async function startTestDaemon(options: {config?: unknown; bodyTimeoutMs?: number} = {}): Promise<TestDaemon> {
  const {dir, cleanup} = tempDir()
  if (options.config !== null) writeConfig(dir, options.config ?? {sources: testSources})
  const daemon = await startDev({dir, port: 0, host: '127.0.0.1', log: silentLogger, bodyTimeoutMs: options.bodyTimeoutMs})
  return {
    daemon,
    dir,
    url: daemon.url,
    storedMessages: () => {
      const reader = new SqliteStore(daemon.database, {readonly: true})
      try {
        return reader.queryEvents({limit: 100_000}).map((e) => e.message)
      } finally {
        reader.close()
      }
    },
    close: async () => {
      await daemon.stop()
      cleanup()
    },
  }
}
