import {loadFunctionSource, type LoadOptions} from '../../../src/functions/runtime/load.js'
import type {FunctionDefinition, FunctionRuntime} from '../../../src/functions/types.js'

export function definition(name: string, overrides: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return {
    name,
    kind: 'insert',
    file: `/workspace/functions/${name}.js`,
    settings: {},
    timeoutMs: 1000,
    memoryMb: 32,
    allowedHosts: [],
    ...overrides,
  }
}

const loaded: FunctionRuntime[] = []

/** Loads code as functions/NAME.js; disposed by disposeAll() after each test. */
export async function load(
  code: string,
  overrides: Partial<FunctionDefinition> = {},
  options: LoadOptions = {},
): Promise<FunctionRuntime> {
  const runtime = await loadFunctionSource(definition(overrides.name ?? 'fn', overrides), code, options)
  loaded.push(runtime)
  return runtime
}

export function disposeAll(): void {
  for (const runtime of loaded.splice(0)) runtime.dispose()
}

export function track(properties: Record<string, unknown> = {}, messageId = 'm-1') {
  return {type: 'track', event: 'Order Completed', messageId, userId: 'u-1', properties}
}
