import path from 'node:path'
import {watch} from 'chokidar'
import type {Logger} from '../log.js'
import type {PlanRegistry, ReloadResult} from './registry.js'

export function describeReload(result: ReloadResult): string {
  if (result.applied) return `plan ${result.folder}: ${result.events} event rule${result.events === 1 ? '' : 's'} in force`
  const errors = result.problems.filter((p) => p.severity === 'error')
  return [
    `plan ${result.folder} has ${errors.length} error${errors.length === 1 ? '' : 's'}; the last good plan stays in force:`,
    ...errors.map((p) => `  ${path.join(result.folder, p.file)}${p.pointer ? ` ${p.pointer}` : ''}: ${p.message}`),
  ].join('\n')
}

/**
 * Reloads a plan folder when its files change (add, edit, delete), debounced so that a burst of
 * saves is one reload. Never throws: a broken edit is logged with its file and the last good
 * plan stays.
 */
export function watchPlans(registry: PlanRegistry, log: Logger, options: {debounceMs?: number} = {}): {ready: Promise<void>; close: () => Promise<void>} {
  const debounceMs = options.debounceMs ?? 100
  const timers = new Map<string, NodeJS.Timeout>()
  const folders = registry.folders
  const watcher = watch(folders, {ignoreInitial: true, awaitWriteFinish: false})
  const folderOf = (file: string) => folders.find((folder) => file === folder || file.startsWith(folder + path.sep))
  watcher.on('all', (_event, file) => {
    const folder = folderOf(file)
    if (!folder) return
    clearTimeout(timers.get(folder))
    timers.set(
      folder,
      setTimeout(() => {
        timers.delete(folder)
        try {
          const result = registry.reload(folder)
          if (result.applied) log.info(describeReload(result))
          else log.error(describeReload(result))
        } catch (error) {
          log.error(`plan ${folder} could not be reloaded: ${(error as Error).message}`)
        }
      }, debounceMs),
    )
  })
  watcher.on('error', (error) => log.error(`watching the plan failed: ${(error as Error).message}`))
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    close: async () => {
      for (const timer of timers.values()) clearTimeout(timer)
      await watcher.close()
    },
  }
}
