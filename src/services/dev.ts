import {randomBytes} from 'node:crypto'
import {readDaemonInfo, removeDaemonInfo, writeDaemonInfo} from '../config/daemon-info.js'
import {loadConfig} from '../config/load.js'
import {sourcePlanFolders} from '../config/plan-folders.js'
import {watchConfig} from '../config/watch.js'
import {DeliveryManager} from '../delivery/manager.js'
import {errorMessage, ExitCode, UserError} from '../errors.js'
import {historyEvents} from '../stream/history.js'
import {StreamHub} from '../stream/hub.js'
import type {SourceConfig} from '../config/schema.js'
import {generateWriteKey, workspacePaths, type WorkspacePaths} from '../config/workspace.js'
import type {Logger} from '../log.js'
import {Pipeline} from '../pipeline/pipeline.js'
import {PlanRegistry} from '../plan/registry.js'
import {describeReload, watchPlans} from '../plan/watch.js'
import {parseAllowedHosts} from '../server/access.js'
import {SourceRegistry} from '../server/auth.js'
import {startServer} from '../server/server.js'
import {SqliteStore} from '../store/sqlite-store.js'
import {Checkpointer} from '../store/checkpointer.js'
import {GroupCommitter} from '../store/group-commit.js'
import {ensurePrivateDir} from '../store/private-files.js'
import {isNotWritable, storeNotWritable} from '../store/store-errors.js'
import {StoreLock} from '../store/store-lock.js'
import {cdpVersion} from '../version.js'

export interface DevOptions {
  dir: string
  port: number
  host: string
  /** Host names /api/* accepts beside loopback ones and the bound addresses (--allow-host). */
  allowHosts?: string[]
  log: Logger
  /** How long a request body may take to arrive. */
  bodyTimeoutMs?: number
  /** How often delivery workers look for retries asked for from outside (tests shorten it). */
  deliveryPollMs?: number
}

export interface DevDaemon {
  url: string
  /** Every URL it listens at (each interface's for --host 0.0.0.0). */
  urls: string[]
  port: number
  host: string
  sources: SourceConfig[]
  /** The destinations delivering at start. */
  destinations: string[]
  /** cdp.json, or undefined when the daemon runs on its defaults. */
  configFile?: string
  database: string
  /** Listening beyond loopback: /api/* needs the token kept in daemonFile. */
  tokenRequired: boolean
  daemonFile: string
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

/**
 * Starts the daemon's parts and tears them down in reverse order:
 * store lock → store → group commit → plans (+ watcher) → checkpoint thread → delivery workers →
 * pipeline → server → cdp.json watcher. Commits wake the delivery workers; a cdp.json edit updates
 * the sources (keys, plans, policies) and restarts changed destinations; a store whose file is
 * deleted under it halts delivery and answers 503 to ingest.
 */
export async function startDev(options: DevOptions): Promise<DevDaemon> {
  const paths = workspacePaths(options.dir)
  const allowHosts = parseAllowedHosts(options.allowHosts ?? [])
  // A new token at every start: one read from an old daemon.json stops working when the daemon restarts.
  const token = randomBytes(32).toString('base64url')
  const loaded = loadConfig(paths.dir)
  const lock = lockStore(paths)
  let store: SqliteStore
  try {
    // One connection writes and reads; the checkpoint thread has its own.
    store = new SqliteStore(paths.database, {
      autoCheckpoint: false,
      guardFiles: true,
      onUnavailable: (error) => {
        options.log.error(`${error.message} Ingest answers 503 and delivery has stopped. ${error.hint}`)
        void deliveries.halt()
      },
    })
  } catch (error) {
    lock.release()
    throw error
  }
  const hub = new StreamHub()
  const deliveries = new DeliveryManager({
    store: store.deliveries,
    dir: paths.dir,
    log: options.log,
    pollMs: options.deliveryPollMs,
    onResults: (results) => hub.publishDeliveries(results),
    wantResults: () => hub.readerCount > 0,
  })
  const writer = new GroupCommitter(store, (events, result) => {
    try {
      if (result.seqs) deliveries.offer(events, result.seqs)
      hub.publishEvents(events, result)
    } catch (error) {
      options.log.error(`after a commit: ${errorMessage(error)}`)
    }
  })
  const closers: (() => Promise<void>)[] = []
  try {
    const sources = loaded ? loaded.config.sources : defaultSources(store)
    const registry = new SourceRegistry(sources)
    const plans = new PlanRegistry()
    let settingsBySource = new Map(sources.map((source) => [source.name, source]))
    let planWatcher = await startPlans(plans, sourcePlanFolders(paths, sources), options.log)
    closers.push(() => planWatcher.close())
    const checkpointer = Checkpointer.start(paths.database)
    closers.push(() => checkpointer.close())
    await deliveries.start(loaded?.config.destinations ?? [])
    closers.push(() => deliveries.stop())
    let destinations = loaded?.config.destinations ?? []
    const pipeline = new Pipeline(writer, plans, (source) => settingsBySource.get(source))
    const server = await startServer(
      {
        sources: registry,
        pipeline,
        store,
        log: options.log,
        version: cdpVersion,
        bodyTimeoutMs: options.bodyTimeoutMs,
        deliveries: {store: store.deliveries, destinations: () => destinations, retried: () => deliveries.refresh(), eventsDeleted: () => deliveries.restart()},
        stream: {hub, history: (filter, range) => historyEvents(store, store.deliveries, destinations, filter, range)},
        access: {allowHosts, token},
      },
      {port: options.port, host: options.host},
    )
    closers.unshift(() => writer.close())
    closers.unshift(() => server.close())
    closers.unshift(async () => hub.close())
    const configWatcher = watchConfig(
      paths.dir,
      async ({config}) => {
        registry.replace(config.sources)
        settingsBySource = new Map(config.sources.map((source) => [source.name, source]))
        const folders = sourcePlanFolders(paths, config.sources)
        if (!sameFolders(plans.folders, [...new Set(folders.values())])) {
          await planWatcher.close()
          planWatcher = await startPlans(plans, folders, options.log)
        } else {
          plans.setSources(folders)
        }
        destinations = config.destinations ?? []
        await deliveries.apply(destinations)
      },
      options.log,
    )
    await configWatcher.ready
    closers.unshift(() => configWatcher.close())
    writeDaemonInfo(paths.dir, {url: server.url, pid: process.pid, startedAt: new Date().toISOString(), token: server.tokenRequired ? token : undefined})
    let stopping: Promise<void> | undefined
    return {
      url: server.url,
      urls: server.urls,
      port: server.port,
      host: server.host,
      sources,
      destinations: deliveries.destinations,
      configFile: loaded?.file,
      database: paths.database,
      tokenRequired: server.tokenRequired,
      daemonFile: paths.daemonFile,
      stop() {
        stopping ??= (async () => {
          // Shutting down goes on whatever fails on the way: the store is closed and the lock released.
          try {
            removeDaemonInfo(paths.dir)
          } catch (error) {
            options.log.warn(`could not remove ${paths.daemonFile} (${errorMessage(error)}); other commands check whether its pid still runs.`)
          }
          for (const close of closers) {
            try {
              await close()
            } catch (error) {
              options.log.error(`while stopping: ${errorMessage(error)}`)
            }
          }
          store.close()
          lock.release()
        })()
        return stopping
      },
    }
  } catch (error) {
    await writer.close()
    for (const close of closers) await close()
    store.close()
    lock.release()
    throw error
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

function sameFolders(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((folder) => b.includes(folder))
}

/** Loads each source's plan folder and watches them for edits. */
async function startPlans(plans: PlanRegistry, folders: Map<string, string>, log: Logger): Promise<{close: () => Promise<void>}> {
  plans.setSources(folders)
  for (const folder of plans.folders) {
    const result = plans.reload(folder)
    if (result.applied) log.info(describeReload(result))
    else log.error(describeReload(result))
  }
  const watcher = watchPlans(plans, log)
  await watcher.ready
  return watcher
}
