import {loadConfig} from '../config/load.js'
import type {SourceConfig} from '../config/schema.js'
import {generateWriteKey, workspacePaths, type WorkspacePaths} from '../config/workspace.js'
import path from 'node:path'
import type {Logger} from '../log.js'
import {Pipeline} from '../pipeline/pipeline.js'
import {PlanRegistry} from '../plan/registry.js'
import {describeReload, watchPlans} from '../plan/watch.js'
import {SourceRegistry} from '../server/auth.js'
import {startServer} from '../server/server.js'
import {SqliteStore} from '../store/sqlite-store.js'
import {Checkpointer} from '../store/checkpointer.js'
import {GroupCommitter} from '../store/group-commit.js'
import {cdpVersion} from '../version.js'

export interface DevOptions {
  dir: string
  port: number
  host: string
  log: Logger
  /** How long a request body may take to arrive. */
  bodyTimeoutMs?: number
}

export interface DevDaemon {
  url: string
  port: number
  host: string
  sources: SourceConfig[]
  /** cdp.json, or undefined when the daemon runs on its defaults. */
  configFile?: string
  database: string
  stop(): Promise<void>
}

const defaultSourceName = 'default'
const defaultKeyMeta = 'default_source_write_key'

/**
 * With no cdp.json the daemon serves one source whose key is made once and kept in the store, so
 * the key an app was given keeps working across restarts.
 */
function defaultSources(store: SqliteStore): SourceConfig[] {
  let writeKey = store.getMeta(defaultKeyMeta)
  if (!writeKey) {
    writeKey = generateWriteKey()
    store.setMeta(defaultKeyMeta, writeKey)
  }
  return [{name: defaultSourceName, writeKey}]
}

/** Each source's plan folder: its "plan" in cdp.json, or the workspace's plan/. */
function sourcePlanFolders(paths: WorkspacePaths, sources: readonly SourceConfig[]): Map<string, string> {
  return new Map(sources.map((source) => [source.name, source.plan ? path.resolve(paths.dir, source.plan) : paths.planDir]))
}

/** Starts the daemon's parts (store, pipeline, server) and tears them down in reverse order. */
export async function startDev(options: DevOptions): Promise<DevDaemon> {
  const paths = workspacePaths(options.dir)
  const loaded = loadConfig(paths.dir)
  // One connection writes and reads; the checkpoint thread has its own.
  const store = new SqliteStore(paths.database, {autoCheckpoint: false})
  const writer = new GroupCommitter(store)
  const closers: (() => Promise<void>)[] = []
  try {
    const sources = loaded ? loaded.config.sources : defaultSources(store)
    const registry = new SourceRegistry(sources)
    const plans = new PlanRegistry()
    plans.setSources(sourcePlanFolders(paths, sources))
    for (const folder of plans.folders) {
      const result = plans.reload(folder)
      if (result.applied) options.log.info(describeReload(result))
      else options.log.error(describeReload(result))
    }
    const planWatcher = watchPlans(plans, options.log)
    await planWatcher.ready
    closers.push(planWatcher.close)
    const checkpointer = Checkpointer.start(paths.database)
    closers.push(() => checkpointer.close())
    const settingsBySource = new Map(sources.map((source) => [source.name, source]))
    const pipeline = new Pipeline(writer, plans, (source) => settingsBySource.get(source))
    const server = await startServer(
      {sources: registry, pipeline, store, log: options.log, version: cdpVersion, bodyTimeoutMs: options.bodyTimeoutMs},
      {port: options.port, host: options.host},
    )
    let stopping: Promise<void> | undefined
    return {
      url: server.url,
      port: server.port,
      host: server.host,
      sources,
      configFile: loaded?.file,
      database: paths.database,
      stop() {
        stopping ??= (async () => {
          await server.close()
          await writer.close()
          for (const close of closers) await close()
          store.close()
        })()
        return stopping
      },
    }
  } catch (error) {
    await writer.close()
    for (const close of closers) await close()
    store.close()
    throw error
  }
}
