import {Worker, type TransferListItem} from 'node:worker_threads'

/**
 * Starts one of the store's worker threads from its module next to this one ("checkpoint-thread").
 * Under the TypeScript sources (tests, bin/dev.js) the module is a .ts file: tsx is registered
 * in the thread first.
 */
export function startStoreWorker(name: string, workerData: unknown, transferList: TransferListItem[] = []): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const entry = new URL(`./${name}.ts`, import.meta.url).href
    const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`
    return new Worker(bootstrap, {eval: true, workerData, transferList})
  }
  return new Worker(new URL(`./${name}.js`, import.meta.url), {workerData, transferList})
}
