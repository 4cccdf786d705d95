/**
 * One isolate with the function loaded: libraries, prelude, the user's code, its handlers
 * installed. The runtime keeps one and makes a fresh one when a limit forced it to drop the old.
 *
 * Every piece of user code runs inside a call the host made with a time limit (ivm's `timeout`):
 * the dispatch of a call, and each resume() that hands a fetch answer or a timer back. So code
 * after an await is bounded as well as the first synchronous slice.
 */
import {createRequire} from 'node:module'
import type {Isolate, Context, Reference} from 'isolated-vm'
import type {FunctionDefinition} from '../types.js'
import {FunctionLoadError} from '../types.js'
import type {Logger} from '../../log.js'
import {hostFetch, syncOperation, type FetchImplementation, type HostCall} from './host-api.js'
import {librariesSource, preludeSource} from './prelude.js'
import type {PreparedSource} from './source.js'

const require = createRequire(import.meta.url)
type IvmModule = typeof import('isolated-vm')
let ivmModule: IvmModule | undefined

/** isolated-vm, loaded on first use: commands that never run a function never load it. */
export function ivm(): IvmModule {
  if (ivmModule === undefined) {
    try {
      ivmModule = require('isolated-vm') as IvmModule
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      throw new Error(`isolated-vm could not be loaded (${message}); node must run with --no-node-snapshot`)
    }
  }
  return ivmModule
}

export const handlerNames = [
  'onTrack', 'onIdentify', 'onPage', 'onScreen', 'onGroup', 'onAlias', 'onDelete', 'onBatch', 'onRequest', 'transformEvent', 'transformBatch',
] as const

const collectorSource =
  '(function () { const h = {};' +
  handlerNames.map((n) => `try { if (typeof ${n} === 'function') h.${n} = ${n}; } catch (e) {}`).join(' ') +
  ' return h; })()'

/** Why an isolate went away, for the calls that were in it. */
export type DeathCause = 'memory' | 'disposed' | 'timeout'

export interface InstanceOptions {
  definition: FunctionDefinition
  source: PreparedSource
  fetch?: FetchImplementation
  sourceName?: string
  log?: Logger
}

export class Instance {
  readonly calls = new Map<number, HostCall>()
  /** Set once the isolate cannot take calls; the runtime replaces it. */
  dead?: DeathCause
  /** No new calls: replaced after a time-out left work pending in it; disposed when its calls end. */
  retiring = false
  handlers: string[] = []
  private dispatchRef?: Reference
  private resumeRef?: Reference

  private constructor(
    readonly isolate: Isolate,
    readonly context: Context,
    private readonly options: InstanceOptions,
  ) {}

  static async create(options: InstanceOptions): Promise<Instance> {
    const {definition} = options
    const lib = ivm()
    const isolate = new lib.Isolate({
      memoryLimit: Math.max(8, definition.memoryMb),
      onCatastrophicError: (message) => options.log?.error(`function ${definition.name}: isolated-vm: ${message}`),
    })
    try {
      const context = await isolate.createContext()
      const instance = new Instance(isolate, context, options)
      await instance.setUp()
      return instance
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose()
      throw error
    }
  }

  private async setUp(): Promise<void> {
    const {definition, source} = this.options
    const lib = ivm()
    const global = this.context.global
    await this.context.eval(librariesSource(), {filename: 'cdp:libraries'})
    await global.set('__cdp_sync', new lib.Callback(syncOperation_(this), {sync: true}))
    const api = (await this.context.eval(preludeSource, {filename: 'cdp:prelude', reference: true})) as Reference
    this.dispatchRef = (await api.get('dispatch', {reference: true})) as Reference
    this.resumeRef = (await api.get('resume', {reference: true})) as Reference
    const install = (await api.get('install', {reference: true})) as Reference
    api.release()

    const timeout = definition.timeoutMs
    let found: Reference
    try {
      let script: import('isolated-vm').Script | undefined
      if (!source.module) {
        try {
          script = await this.isolate.compileScript(source.code, {filename: source.displayName})
        } catch (error) {
          // export/import statements: the file is an ES module (RudderStack's style).
          if (!isModuleSyntaxError(error)) throw error
          source.module = true
        }
      }
      if (source.module) {
        const module = await this.isolate.compileModule(source.code, {filename: source.displayName})
        const imports = module.dependencySpecifiers
        if (imports.length > 0) {
          const at = findImport(source.original, imports[0])
          throw new FunctionLoadError(
            `import is not available in functions: import of ${JSON.stringify(imports[0])} (functions run in a sandbox with globals instead: fetch, crypto, _, Buffer, URL, console, cache)`,
            source.displayName,
            at?.line,
            at?.column,
          )
        }
        await module.instantiate(this.context, (specifier) => {
          throw new Error(`import is not available in functions: ${specifier}`)
        })
        await module.evaluate({timeout})
        found = module.namespace
      } else {
        await script!.run(this.context, {timeout, release: true})
        found = (await this.context.eval(collectorSource, {reference: true})) as Reference
      }
    } catch (error) {
      throw source.loadError(error, this.isolate.isDisposed ? definition.memoryMb : undefined, timeout)
    }
    const names = (await install.apply(undefined, [found.derefInto(), JSON.stringify(definition.settings), this.options.sourceName], {
      timeout,
    })) as string
    install.release()
    this.handlers = JSON.parse(names) as string[]
  }

  /** Runs one call's dispatch (args: the call's id, its mode, its texts); resolves with the prelude's JSON answer. */
  dispatch(call: HostCall, args: unknown[]): Promise<string> {
    this.calls.set(call.id, call)
    return this.dispatchRef!.apply(undefined, args, {result: {promise: true}, timeout: this.remaining(call)}) as Promise<string>
  }

  remaining(call: HostCall): number {
    return Math.max(1, call.deadline - Date.now())
  }

  /** The call is over: its timers stop, its fetches are aborted, nothing more resumes it. */
  end(call: HostCall): void {
    call.ended = true
    if (call.timers !== undefined) for (const timer of call.timers) clearTimeout(timer)
    call.timers = undefined
    call.abort?.abort()
    this.calls.delete(call.id)
    if (this.retiring && this.calls.size === 0) this.dispose('disposed')
  }

  dispose(cause: DeathCause): void {
    if (this.dead === undefined) this.dead = cause
    if (!this.isolate.isDisposed) this.isolate.dispose()
  }

  /** Starts fetch or a timer for the call named; returns a refusal text, or undefined once started. */
  startAsync(op: unknown, callId: unknown, token: unknown, arg: unknown): string | undefined {
    if (typeof token !== 'number' || !Number.isInteger(token)) return 'bad token'
    const call = typeof callId === 'number' ? this.calls.get(callId) : undefined
    if (call === undefined || call.ended) return `${op === 'fetch' ? 'fetch()' : 'setTimeout()'} is only available while a handler runs`
    if (op === 'sleep') {
      if (typeof arg !== 'number' || !(arg >= 0)) return 'setTimeout(): bad delay'
      const timer = setTimeout(() => {
        call.timers?.delete(timer)
        this.resume(call, token, true)
      }, Math.min(arg, 2_147_483_647))
      ;(call.timers ??= new Set()).add(timer)
      return undefined
    }
    if (op === 'fetch') {
      void hostFetch(arg, call, this.options.definition, this.options.fetch).then((answer) => this.resume(call, token, answer))
      return undefined
    }
    return 'unknown operation'
  }

  private resume(call: HostCall, token: number, value: unknown): void {
    if (call.ended || this.dead !== undefined || this.isolate.isDisposed) return
    this.resumeRef!.apply(undefined, [token, value], {arguments: {copy: true}, timeout: this.remaining(call)}).catch(
      (error: unknown) => {
        if (call.ended) return
        const message = error instanceof Error ? error.message : String(error)
        if (/timed out/i.test(message)) call.timeOut?.()
        else if (/memory limit/i.test(message)) this.dispose('memory')
      },
    )
  }
}

function syncOperation_(instance: Instance) {
  return (op: unknown, a: unknown, b: unknown, c: unknown, d: unknown): unknown => {
    if (op === 'start') return instance.startAsync(a, b, c, d)
    return syncOperation(op, a, b, c)
  }
}

function isModuleSyntaxError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : ''
  return /Unexpected token 'export'|Cannot use import statement|import\.meta|await is only valid/.test(message)
}

function findImport(code: string, specifier: string): {line: number; column: number} | undefined {
  const lines = code.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (/\bimport\b/.test(line) && (line.includes(`'${specifier}'`) || line.includes(`"${specifier}"`))) {
      return {line: i + 1, column: line.search(/\bimport\b/) + 1}
    }
  }
  return undefined
}
