import {workspacePaths} from '../../src/config/workspace.js'
import {startDaemonProcess, type DaemonProcess} from '../helpers/cli.js'
import {tempDir, testSources, writeConfig} from '../helpers/workspace.js'
import type {FuzzSource} from './mutator.js'

export interface FuzzDaemon {
  url: string
  database: string
  sources: readonly FuzzSource[]
  dir: string
  /** Why the process is gone (exit code or signal), or undefined while it runs. */
  gone: () => string | undefined
  /** What the daemon logged at error level (it logs each 500), one line each. */
  errorLines: () => string[]
  stop: () => Promise<void>
}

/**
 * A real `cdp dev` in a child process over a fresh workspace with two sources. A child process,
 * not a daemon in the fuzzer's process: its death is seen as an exit (an uncaught exception or a
 * crash of the native SQLite binding would otherwise take the fuzzer down with it), and a stalled
 * event loop in the daemon cannot stall the fuzzer's own timers, so a hang is measured as one.
 */
export async function startFuzzDaemon(options: {keep?: boolean} = {}): Promise<FuzzDaemon> {
  const {dir, cleanup} = tempDir('cdp-fuzz-')
  writeConfig(dir, {sources: testSources})
  let daemon: DaemonProcess
  try {
    daemon = await startDaemonProcess(dir, [], {CDP_LOG: 'error'})
  } catch (error) {
    cleanup()
    throw error
  }
  const child = daemon.child
  return {
    url: daemon.url,
    database: workspacePaths(dir).database,
    sources: testSources,
    dir,
    gone: () => (child.exitCode !== null ? `exited with code ${child.exitCode}` : child.signalCode ? `killed by ${child.signalCode}` : undefined),
    errorLines: () => daemon.stderr().split('\n').filter((line) => line.trim() !== ''),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) await daemon.stop()
      if (!options.keep) cleanup()
    },
  }
}
