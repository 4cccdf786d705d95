import {loadConfig} from '../config/load.js'
import type {SourceConfig} from '../config/schema.js'
import {generateWriteKey, workspacePaths} from '../config/workspace.js'
import type {Logger} from '../log.js'
import {Pipeline} from '../pipeline/pipeline.js'
import {SourceRegistry} from '../server/auth.js'
import {startServer} from '../server/server.js'
import {SqliteStore} from '../store/sqlite-store.js'
import {ThreadedWriter} from '../store/threaded-writer.js'
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

/** Starts the daemon's parts (store, pipeline, server) and tears them down in reverse order. */
export async function startDev(options: DevOptions): Promise<DevDaemon> {
  const paths = workspacePaths(options.dir)
  const loaded = loadConfig(paths.dir)
  // This connection migrates the store and serves reads; the writer thread owns the inserts.
  const store = new SqliteStore(paths.database)
  let writer: ThreadedWriter | undefined
  try {
    const sources = loaded ? loaded.config.sources : defaultSources(store)
    const registry = new SourceRegistry(sources)
    writer = await ThreadedWriter.start({file: paths.database})
    const pipeline = new Pipeline(writer)
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
          await writer?.close()
          store.close()
        })()
        return stopping
      },
    }
  } catch (error) {
    await writer?.close()
    store.close()
    throw error
  }
}
