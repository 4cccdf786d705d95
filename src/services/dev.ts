import {randomBytes} from 'node:crypto'
import {daemonPid, removeDaemonInfo, writeDaemonInfo} from '../config/daemon-info.js'
import {loadConfig} from '../config/load.js'
import {sourcePlanFolders} from '../config/plan-folders.js'
import {watchConfig} from '../config/watch.js'
import {DeliveryManager} from '../delivery/manager.js'
import {errorMessage} from '../errors.js'
import {historyEvents} from '../stream/history.js'
import {StreamHub} from '../stream/hub.js'
import {followReplays} from '../stream/replay-progress.js'
import type {SourceConfig} from '../config/schema.js'
import {generateWriteKey, workspacePaths, type WorkspacePaths} from '../config/workspace.js'
import type {Logger} from '../log.js'
import {Pipeline} from '../pipeline/pipeline.js'
import {FunctionRegistry} from '../functions/registry.js'
import {createFunctionRunLog} from '../functions/run-log.js'
import {PlanRegistry} from '../plan/registry.js'
import {describeReload, watchPlans} from '../plan/watch.js'
import {parseAllowedHosts} from '../server/access.js'
import {SourceRegistry} from '../server/auth.js'
import {startServer} from '../server/server.js'
import {openStorage} from '../store/open-storage.js'
import type {DaemonStorage, MetaStore} from '../store/storage.js'
import {cdpVersion} from '../version.js'
import {Shutdown} from './shutdown.js'

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
  /**
   * The store to run on, opened for the daemon (openStorage with role 'daemon'); by default the
   * workspace's. The daemon owns it from here: stop() closes it, as does a failed start.
   */
  storage?: DaemonStorage
  /**
   * False: no delivery workers, whatever cdp.json (or an edit of it) lists; events are stored only.
   * `cdp test` runs its throwaway daemon so unless --destinations.
   */
  destinations?: boolean
  /**
   * False: writes no .cdp/daemon.json. A throwaway daemon on a store of its own (`cdp test`) is not
   * the workspace's daemon, which other commands find through that file.
   */
  daemonFile?: boolean
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
  /** Where the events are kept (the SQLite file). */
  database: string
  /** Listening beyond loopback: /api/* needs the token kept in daemonFile. */
  tokenRequired: boolean
  daemonFile: string
  /**
   * Stops every part, the last started first, whatever fails on the way (the store is closed and
   * its lock released last); rejects with an AggregateError naming each part that failed to close.
   */
  stop(): Promise<void>
}

const defaultSourceName = 'default'
const defaultKeyMeta = 'default_source_write_key'

/**
 * With no cdp.json the daemon serves one source whose key is made once and kept in the store, so
 * the key an app was given keeps working across restarts.
 */
async function defaultSources(meta: MetaStore): Promise<SourceConfig[]> {
  let writeKey = await meta.get(defaultKeyMeta)
  if (!writeKey) {
    writeKey = generateWriteKey()
    await meta.set(defaultKeyMeta, writeKey)
  }
  return [{name: defaultSourceName, writeKey}]
}

/**
 * Starts the daemon's parts and tears them down in reverse order:
 * storage (store lock → store → group commit → checkpoint thread) → plans (+ watcher) → delivery
 * workers → pipeline → server and live stream → cdp.json watcher. Commits wake the delivery
 * workers; a cdp.json edit updates the sources (keys, plans, policies) and restarts changed
 * destinations; a store whose file is deleted under it halts delivery and answers 503 to ingest.
 */
export async function startDev(options: DevOptions): Promise<DevDaemon> {
  const paths = workspacePaths(options.dir)
  const allowHosts = parseAllowedHosts(options.allowHosts ?? [])
  // A new token at every start: one read from an old daemon.json stops working when the daemon restarts.
  const token = randomBytes(32).toString('base64url')
  const loaded = loadConfig(paths.dir)
  const storage = options.storage ?? (await openStorage(paths, {role: 'daemon', log: options.log}))
  const shutdown = new Shutdown()
  shutdown.add('event store', () => storage.close())
  const hub = new StreamHub()
  // Closed after delivery and the server (added before them): nothing calls a function after this.
  const functionRegistry = new FunctionRegistry({log: options.log})
  shutdown.add('functions', () => functionRegistry.close())
  // Closed before the store (added after it): what the functions did is written before it closes.
  const functionRuns = createFunctionRunLog({store: storage.functionRuns, publish: (records) => hub.publishFunctionRuns(records), log: options.log})
  shutdown.add('function records', () => functionRuns.close())
  const functions = {lookup: functionRegistry, sink: functionRuns}
  const deliveries = new DeliveryManager({
    functions,
    store: storage.deliveries,
    dir: paths.dir,
    log: options.log,
    pollMs: options.deliveryPollMs,
    onResults: (results) => hub.publishDeliveries(results),
    wantResults: () => hub.readerCount > 0,
  })
  storage.listen({
    committed: (events, result) => {
      try {
        if (result.seqs) deliveries.offer(events, result.seqs)
        hub.publishEvents(events, result)
      } catch (error) {
        options.log.error(`after a commit: ${errorMessage(error)}`)
      }
    },
    unavailable: (error) => {
      options.log.error(`${error.message} Ingest answers 503 and delivery has stopped. ${error.hint}`)
      void deliveries.halt()
    },
  })
  try {
    const sources = loaded ? loaded.config.sources : await defaultSources(storage.meta)
    const registry = new SourceRegistry(sources)
    const plans = new PlanRegistry()
    let settingsBySource = new Map(sources.map((source) => [source.name, source]))
    let planWatcher = await startPlans(plans, sourcePlanFolders(paths, sources), options.log)
    await functionRegistry.apply(loaded?.functions ?? [])
    shutdown.add('plan watcher', () => planWatcher.close())
    const delivering = options.destinations !== false
    await deliveries.start(delivering ? (loaded?.config.destinations ?? []) : [])
    shutdown.add('delivery workers', () => deliveries.stop())
    let destinations = delivering ? (loaded?.config.destinations ?? []) : []
    const pipeline = new Pipeline(storage.writer, plans, (source) => settingsBySource.get(source), functions)
    // Closed after the server: what requests still submitted is committed before delivery stops.
    shutdown.add('group commit', () => storage.writer.close())
    const {events, deliveries: deliveryStore} = storage
    const server = await startServer(
      {
        sources: registry,
        pipeline,
        store: events,
        health: () => storage.health(),
        log: options.log,
        version: cdpVersion,
        bodyTimeoutMs: options.bodyTimeoutMs,
        deliveries: {store: deliveryStore, destinations: () => destinations, retried: () => deliveries.refresh(), eventsDeleted: () => deliveries.restart(), functionRuns: storage.functionRuns},
        stream: {hub, history: (filter, range) => historyEvents(events, deliveryStore, destinations, filter, range)},
        access: {allowHosts, token},
        functions: {
          get: (name) => functionRegistry.get(name),
          unavailable: (name) => functionRegistry.unavailable(name),
          definition: (name) => functionRegistry.definition(name),
          sink: functionRuns,
        },
      },
      {port: options.port, host: options.host},
    )
    shutdown.add('server', () => server.close())
    // cdp replay runs in its own process: its progress, read from the store, goes to the live stream.
    const replayProgress = followReplays({list: () => storage.replays.list(), publish: (replays) => hub.publishReplays(replays), wanted: () => hub.readerCount > 0, log: options.log})
    shutdown.add('replay progress', () => replayProgress.close())
    // Live stream readers are open requests: they end first, or the server would wait for them.
    shutdown.add('live stream', () => hub.close())
    const configWatcher = watchConfig(
      paths.dir,
      async ({config, functions: definitions}) => {
        // Functions first: sources and destinations may name a function the same edit added.
        await functionRegistry.apply(definitions)
        registry.replace(config.sources)
        settingsBySource = new Map(config.sources.map((source) => [source.name, source]))
        const folders = sourcePlanFolders(paths, config.sources)
        if (!sameFolders(plans.folders, [...new Set(folders.values())])) {
          await planWatcher.close()
          planWatcher = await startPlans(plans, folders, options.log)
        } else {
          plans.setSources(folders)
        }
        destinations = delivering ? (config.destinations ?? []) : []
        await deliveries.apply(destinations)
      },
      options.log,
    )
    await configWatcher.ready
    shutdown.add('cdp.json watcher', () => configWatcher.close())
    if (options.daemonFile !== false) writeDaemonInfo(paths.dir, {url: server.url, pid: daemonPid(), startedAt: new Date().toISOString(), token: server.tokenRequired ? token : undefined})
    let stopping: Promise<void> | undefined
    return {
      url: server.url,
      urls: server.urls,
      port: server.port,
      host: server.host,
      sources,
      destinations: deliveries.destinations,
      configFile: loaded?.file,
      database: storage.location,
      tokenRequired: server.tokenRequired,
      daemonFile: paths.daemonFile,
      stop() {
        stopping ??= (async () => {
          try {
            if (options.daemonFile !== false) removeDaemonInfo(paths.dir)
          } catch (error) {
            options.log.warn(`could not remove ${paths.daemonFile} (${errorMessage(error)}); other commands check whether its pid still runs.`)
          }
          await shutdown.run(options.log)
        })()
        return stopping
      },
    }
  } catch (error) {
    // The start failed: what did start closes (each failure logged), and the start's error is the one told.
    await shutdown.run(options.log).catch(() => undefined)
    throw error
  }
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
