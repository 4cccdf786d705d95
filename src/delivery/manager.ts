import type {DestinationConfig} from '../config/schema.js'
import {errorMessage, ExitCode, UserError} from '../errors.js'
import type {Logger} from '../log.js'
import type {DeliveryStore, NewEvent} from '../store/types.js'
import {createAdapter} from './adapters.js'
import type {AdapterContext, DeliveryResult, DestinationAdapter} from './types.js'
import {DestinationWorker} from './worker.js'

export interface DeliveryManagerOptions {
  store: DeliveryStore
  /** The workspace folder, for relative paths in settings. */
  dir: string
  log: Logger
  onResults?: (results: DeliveryResult[]) => void
  wantResults?: () => boolean
  pollMs?: number
  /** Loaded functions, for destination functions and insert functions, and where their records go. */
  functions?: AdapterContext['functions']
}

interface Running {
  /** The settings it runs with, as JSON: a reload restarts only destinations whose settings changed. */
  settings: string
  worker: DestinationWorker
}

/** The delivery workers of the enabled destinations; started, replaced on reload, and stopped here. */
export class DeliveryManager {
  private readonly running = new Map<string, Running>()
  /** Set when the store is gone: nothing delivers again, whatever cdp.json says. */
  private halted = false

  constructor(private readonly options: DeliveryManagerOptions) {}

  get destinations(): string[] {
    return [...this.running.keys()]
  }

  /** Starts every enabled destination, or fails naming the first one that cannot start. */
  async start(configs: readonly DestinationConfig[]): Promise<void> {
    try {
      for (const config of configs) {
        if (config.enabled === false) continue
        this.running.set(config.name, {settings: JSON.stringify(config), worker: await this.startWorker(config, await this.openAdapter(config))})
      }
    } catch (error) {
      // The daemon does not start: the destinations started before this one stop with it.
      await this.stop()
      throw error
    }
  }

  /**
   * Applies edited destinations while the daemon runs: new ones start, removed or disabled ones
   * stop, changed ones restart. One that cannot start is logged and, if it ran before, keeps its
   * previous settings.
   */
  async apply(configs: readonly DestinationConfig[]): Promise<void> {
    if (this.halted) return
    const wanted = new Map(configs.filter((config) => config.enabled !== false).map((config) => [config.name, config]))
    for (const [name, running] of this.running) {
      if (!wanted.has(name)) {
        this.running.delete(name)
        await running.worker.stop()
        this.options.log.info(`destination "${name}" stopped`)
      }
    }
    for (const [name, config] of wanted) {
      const settings = JSON.stringify(config)
      const current = this.running.get(name)
      if (current?.settings === settings) continue
      let adapter: DestinationAdapter
      try {
        adapter = await this.openAdapter(config)
      } catch (error) {
        this.options.log.error(`${errorMessage(error)}${current ? '; it keeps its previous settings' : ''}`)
        continue
      }
      // The old worker stops (and saves its cursor) before the new one reads it: two workers of
      // one destination at once would send the same events twice.
      if (current) await current.worker.stop()
      if (this.halted) {
        await adapter.close()
        return
      }
      const worker = await this.startWorker(config, adapter)
      // Halted while the worker read its state: it stops with the others.
      if (this.halted) {
        await worker.stop()
        return
      }
      this.running.set(name, {settings, worker})
      this.options.log.info(`destination "${name}" (${config.type}) ${current ? 'restarted with new settings' : 'started'}`)
    }
  }

  /** The destination's adapter, opened: fails with a clear error when the destination cannot be reached. */
  private async openAdapter(config: DestinationConfig): Promise<DestinationAdapter> {
    const adapter = createAdapter(config, {dir: this.options.dir, log: this.options.log, functions: this.options.functions})
    try {
      await adapter.open?.()
    } catch (error) {
      await adapter.close().catch(() => undefined)
      if (error instanceof UserError) throw error
      throw new UserError(`destination "${config.name}" (${config.type}) cannot start: ${errorMessage(error)}`, {
        hint: 'Fix its settings in cdp.json, or set "enabled": false to start without it.',
        exitCode: ExitCode.environment,
        code: 'destination_unavailable',
      })
    }
    return adapter
  }

  /** A worker started once it has read its state from the store; failing (and closing its adapter) when it cannot. */
  private async startWorker(config: DestinationConfig, adapter: DestinationAdapter): Promise<DestinationWorker> {
    const worker = new DestinationWorker({config, adapter, store: this.options.store, log: this.options.log, onResults: this.options.onResults, wantResults: this.options.wantResults, pollMs: this.options.pollMs})
    worker.wake()
    try {
      await worker.opened
    } catch (error) {
      await worker.stop().catch(() => undefined)
      throw error
    }
    return worker
  }

  /** Events were committed: every destination takes its share. */
  offer(rows: readonly NewEvent[], seqs: readonly number[]): void {
    for (const {worker} of this.running.values()) worker.offer(rows, seqs)
  }

  /** The store's events were deleted: every destination starts again from the first new event. */
  restart(): void {
    for (const {worker} of this.running.values()) worker.restart()
  }

  /** Delivery records changed outside the workers (dead-lettered events queued again). */
  refresh(): void {
    for (const {worker} of this.running.values()) worker.refresh()
  }

  async stop(): Promise<void> {
    const workers = [...this.running.values()]
    this.running.clear()
    await Promise.all(workers.map(({worker}) => worker.stop()))
  }

  /** The store can no longer be written (its file was deleted): every destination stops for good. */
  async halt(): Promise<void> {
    this.halted = true
    await this.stop()
  }
}
