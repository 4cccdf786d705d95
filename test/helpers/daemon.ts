import {afterEach} from 'vitest'
import {cpSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {createLogger, silentLogger, type Logger} from '../../src/log.js'
import {startDev, type DevDaemon} from '../../src/services/dev.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {DaemonStorage} from '../../src/store/storage.js'
import type {StoredEvent} from '../../src/store/types.js'
import {tempDir, testSources, writeConfig} from './workspace.js'

export interface TestDaemon {
  daemon: DevDaemon
  dir: string
  url: string
  /** Stored messages, read through a second (read-only) connection as `cdp events` does. */
  storedMessages: () => Record<string, any>[]
  /** Stored events with their validity. */
  storedEvents: () => StoredEvent[]
  close: () => Promise<void>
}

function readEvents(database: string): StoredEvent[] {
  const reader = new SqliteStore(database, {readonly: true})
  try {
    return reader.queryEvents({limit: 100_000})
  } finally {
    reader.close()
  }
}

/** A real daemon in this process on an ephemeral port, over a real SQLite file in a temp workspace. */
export async function startTestDaemon(
  options: {config?: unknown; bodyTimeoutMs?: number; fixture?: string; log?: Logger; dir?: string; deliveryPollMs?: number; storage?: DaemonStorage} = {},
): Promise<TestDaemon> {
  const {dir, cleanup} = options.dir ? {dir: options.dir, cleanup: () => undefined} : tempDir()
  if (options.fixture) cpSync(fixturePath(options.fixture), dir, {recursive: true})
  // A config given with a fixture replaces the fixture's cdp.json.
  if (options.config !== undefined && options.config !== null) writeConfig(dir, options.config)
  else if (!options.fixture && options.config !== null) writeConfig(dir, {sources: testSources})
  const daemon = await startDev({dir, port: 0, host: '127.0.0.1', log: options.log ?? silentLogger, bodyTimeoutMs: options.bodyTimeoutMs, deliveryPollMs: options.deliveryPollMs ?? 100, storage: options.storage})
  return {
    daemon,
    dir,
    url: daemon.url,
    storedMessages: () => readEvents(daemon.database).map((e) => e.message),
    storedEvents: () => readEvents(daemon.database),
    close: async () => {
      await daemon.stop()
      cleanup()
    },
  }
}

/** A folder under test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
}

/** A logger that keeps its lines, for asserting on what the daemon logged. */
export function memoryLogger(): Logger & {lines: string[]} {
  const lines: string[] = []
  return Object.assign(createLogger({level: 'info', write: (line) => lines.push(line)}), {lines})
}

/** Things to undo after each test of the file, last first (daemons, sockets, folders). */
export function cleanupsAfterEach(): (() => Promise<void> | void)[] {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return cleanups
}
