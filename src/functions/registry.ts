import {statSync} from 'node:fs'
import path from 'node:path'
import {watch, type FSWatcher} from 'chokidar'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log.js'
import {loadFunction} from './runtime/load.js'
import type {FunctionDefinition, FunctionRuntime} from './types.js'

interface Entry {
  definition: FunctionDefinition
  /** The definition as JSON with the file's modification time: what a reload compares. */
  version: string
  /** The last version that loaded; undefined when none ever did (calls fail with loadError). */
  runtime?: FunctionRuntime
  /** Why the newest version did not load, while an older one (or none) stays in force. */
  loadError?: string
}

function versionOf(definition: FunctionDefinition): string {
  let modified = 0
  try {
    modified = statSync(definition.file).mtimeMs
  } catch {
    // A missing file: loading it says so.
  }
  return JSON.stringify([definition, modified])
}

/**
 * The daemon's loaded functions by name. cdp.json's list is applied with apply(); files are
 * watched, and a saved file is loaded again within a second (debounced). A file that does not
 * load is logged with its file and line and the last good version stays in force. Callers look a
 * function up at each call (get), so a reload applies to the next event.
 */
export class FunctionRegistry {
  private readonly entries = new Map<string, Entry>()
  private watcher?: FSWatcher
  private watching: Promise<void> = Promise.resolve()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  /** Reloads run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve()
  private closed = false

  constructor(private readonly options: {log: Logger; debounceMs?: number; load?: (definition: FunctionDefinition) => Promise<FunctionRuntime>}) {}

  /** The function's runtime in force, or undefined when it is not declared or never loaded. */
  get(name: string): FunctionRuntime | undefined {
    return this.entries.get(name)?.runtime
  }

  /** Why the function cannot run: not declared, or no version of it has loaded. */
  unavailable(name: string): string {
    const entry = this.entries.get(name)
    if (!entry) return `function "${name}" is not declared in cdp.json's "functions"`
    return `function "${name}" has not loaded: ${entry.loadError ?? 'loading'}`
  }

  /** The function as cdp.json declares it now. */
  definition(name: string): FunctionDefinition | undefined {
    return this.entries.get(name)?.definition
  }

  get names(): string[] {
    return [...this.entries.keys()]
  }

  /** Applies cdp.json's functions: new and changed ones load, removed ones are disposed. Resolves when done. */
  apply(definitions: readonly FunctionDefinition[]): Promise<void> {
    return this.enqueue(async () => {
      const wanted = new Map(definitions.map((definition) => [definition.name, definition]))
      for (const [name, entry] of this.entries) {
        if (wanted.has(name)) continue
        this.entries.delete(name)
        entry.runtime?.dispose()
        this.options.log.info(`function "${name}" removed`)
      }
      for (const definition of wanted.values()) await this.loadIfChanged(definition)
      this.watchFiles()
    })
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work, work)
    this.chain = next.catch(() => undefined)
    return next
  }

  private async loadIfChanged(definition: FunctionDefinition): Promise<void> {
    if (this.closed) return
    const current = this.entries.get(definition.name)
    const version = versionOf(definition)
    if (current?.version === version) return
    const entry: Entry = current ?? {definition, version}
    entry.definition = definition
    entry.version = version
    this.entries.set(definition.name, entry)
    const relative = path.relative(process.cwd(), definition.file) || definition.file
    try {
      const runtime = await (this.options.load ?? loadFunction)(definition)
      if (this.closed || this.entries.get(definition.name) !== entry) {
        runtime.dispose()
        return
      }
      const previous = entry.runtime
      entry.runtime = runtime
      entry.loadError = undefined
      previous?.dispose()
      this.options.log.info(`function "${definition.name}" (${definition.kind}) ${previous ? 'reloaded' : 'loaded'} from ${relative}`)
    } catch (error) {
      entry.loadError = errorMessage(error)
      this.options.log.error(`function "${definition.name}" did not load: ${entry.loadError}${entry.runtime ? '\nThe last good version stays in force.' : ''}`)
    }
  }

  /** Watches each function's file; an edit reloads that function. */
  private watchFiles(): void {
    const files = [...this.entries.values()].map((entry) => entry.definition.file)
    if (!this.watcher) {
      if (files.length === 0) return
      const watcher = watch(files, {ignoreInitial: true})
      this.watcher = watcher
      this.watching = new Promise((resolve) => watcher.once('ready', () => resolve()))
      this.watcher.on('all', (_event, file) => this.fileChanged(path.resolve(file)))
      this.watcher.on('error', (error) => this.options.log.error(`watching function files failed: ${errorMessage(error)}`))
      return
    }
    const watched = new Set(Object.entries(this.watcher.getWatched()).flatMap(([folder, names]) => names.map((name) => path.join(folder, name))))
    const added = files.filter((file) => !watched.has(file))
    if (added.length > 0) this.watcher.add(added)
  }

  private fileChanged(file: string): void {
    for (const entry of this.entries.values()) {
      if (entry.definition.file !== file) continue
      const name = entry.definition.name
      clearTimeout(this.timers.get(name))
      this.timers.set(
        name,
        setTimeout(() => {
          this.timers.delete(name)
          void this.enqueue(async () => {
            const current = this.entries.get(name)
            if (current) await this.loadIfChanged(current.definition)
          })
        }, this.options.debounceMs ?? 50),
      )
    }
  }

  /** Resolves once the watcher is watching (tests edit files only then). */
  async ready(): Promise<void> {
    await this.chain
    await this.watching
  }

  async close(): Promise<void> {
    this.closed = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    await this.watcher?.close()
    await this.chain
    for (const entry of this.entries.values()) entry.runtime?.dispose()
    this.entries.clear()
  }
}
