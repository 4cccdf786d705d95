/**
 * Loading a function: the file read (and transpiled when `.ts`), an isolate made with the
 * function's limits, the code compiled and its top level run once. Everything that goes wrong
 * there is a FunctionLoadError with file, line and column.
 */
import {readFile} from 'node:fs/promises'
import type {Logger} from '../../log.js'
import type {FunctionDefinition, FunctionRuntime} from '../types.js'
import {FunctionLoadError} from '../types.js'
import {IsolatedFunction} from './runtime.js'
import {prepareSource} from './source.js'

export interface LoadOptions {
  log?: Logger
  /**
   * Replaces the real network for fetch() (cdp fn test uses canned answers). Called only after
   * allowedHosts allowed the URL. Default: globalThis.fetch. `signal` ends when the call ends;
   * `redirect: 'manual'` because the runtime follows redirects itself, checking each host.
   */
  fetch?: (
    url: string,
    init: {method: string; headers: [string, string][]; body?: string | Uint8Array; signal?: AbortSignal; redirect?: 'manual'},
  ) => Promise<Response>
  /** Source-level context for RudderStack's metadata(event) and logs (optional). */
  sourceName?: string
}

export async function loadFunction(definition: FunctionDefinition, options: LoadOptions = {}): Promise<FunctionRuntime> {
  let code: string
  try {
    code = await readFile(definition.file, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (error as Error).message
    throw new FunctionLoadError(reason, definition.file)
  }
  return loadFunctionSource(definition, code, options)
}

export async function loadFunctionSource(definition: FunctionDefinition, code: string, options: LoadOptions = {}): Promise<FunctionRuntime> {
  const source = await prepareSource(definition.file, code)
  const runtime = new IsolatedFunction(definition, source, {fetch: options.fetch, sourceName: options.sourceName, log: options.log})
  await runtime.start()
  try {
    checkHandlers(definition, runtime.handlers, source.displayName)
  } catch (error) {
    runtime.dispose()
    throw error
  }
  return runtime
}

function checkHandlers(definition: FunctionDefinition, handlers: readonly string[], file: string): void {
  if (definition.kind === 'source' && !handlers.includes('onRequest')) {
    throw new FunctionLoadError('a source function defines onRequest(request, settings), and this file does not', file)
  }
  if (definition.kind !== 'source' && !handlers.some((h) => h !== 'onRequest')) {
    const expected =
      definition.kind === 'insert'
        ? 'onTrack, onIdentify, onPage, onScreen, onGroup, onAlias, onDelete, onBatch, or RudderStack\'s transformEvent/transformBatch'
        : 'onTrack, onIdentify, onPage, onScreen, onGroup, onAlias, onDelete or onBatch'
    throw new FunctionLoadError(`${definition.kind === 'insert' ? 'an' : 'a'} ${definition.kind} function defines at least one handler (${expected}), and this file defines none`, file)
  }
}
