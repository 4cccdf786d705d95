import {watch} from 'chokidar'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log.js'
import {loadConfig, type LoadedConfig} from './load.js'
import {workspacePaths} from './workspace.js'

/**
 * Reloads cdp.json when it is saved, debounced, and hands each valid version to onChange. Never
 * throws: an invalid edit is logged with every problem and the running config stays; so does a
 * deleted file.
 */
export function watchConfig(
  dir: string,
  onChange: (loaded: LoadedConfig) => Promise<void>,
  log: Logger,
  options: {debounceMs?: number} = {},
): {ready: Promise<void>; close: () => Promise<void>} {
  const {config: file, dir: root} = workspacePaths(dir)
  const debounceMs = options.debounceMs ?? 100
  let timer: NodeJS.Timeout | undefined
  // A chain, so that a reload never overlaps the previous one.
  let applying = Promise.resolve()
  // The folder, not the file: the file may not exist yet, and editors replace it on save.
  const watcher = watch(root, {ignoreInitial: true, depth: 0, ignored: (entry) => entry !== file && entry !== root})
  watcher.on('all', (event, changed) => {
    if (changed !== file) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      applying = applying.then(async () => {
        if (event === 'unlink') {
          log.warn(`${file} was deleted; the daemon keeps running with the settings it has`)
          return
        }
        let loaded: LoadedConfig | undefined
        try {
          loaded = loadConfig(dir)
        } catch (error) {
          log.error(`${errorMessage(error)}\nThe daemon keeps running with the settings it has.`)
          return
        }
        if (!loaded) return
        try {
          await onChange(loaded)
          log.info(`${file} reloaded`)
        } catch (error) {
          log.error(`applying ${file} failed: ${errorMessage(error)}`)
        }
      })
    }, debounceMs)
  })
  watcher.on('error', (error) => log.error(`watching ${file} failed: ${errorMessage(error)}`))
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    close: async () => {
      clearTimeout(timer)
      await watcher.close()
      await applying
    },
  }
}
