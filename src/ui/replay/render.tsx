import {render, type Instance} from 'ink'
import type {ReplayProgress} from '../../replay/runner.js'
import {progressLine} from './lines.js'
import {ReplayView} from './ReplayView.js'

export {ReplayView, type ReplayViewProps} from './ReplayView.js'

/** Shows a replay's progress as it goes; end() leaves the last frame (or line) and stops. */
export interface ProgressDisplay {
  update(progress: ReplayProgress): void
  end(): void
}

/**
 * The live view on a terminal (stderr, so stdout stays for --json). It is drawn with ink, and
 * takes no keys: Ctrl-C reaches the process as SIGINT and the runner stops cleanly.
 */
export function renderReplayProgress(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  let instance: Instance | undefined
  const columns = () => stream.columns ?? 80
  return {
    update(progress) {
      const view = <ReplayView progress={progress} columns={columns()} />
      if (instance) instance.rerender(view)
      else instance = render(view, {stdout: stream, exitOnCtrlC: false, patchConsole: false})
    },
    end() {
      instance?.unmount()
      instance = undefined
    },
  }
}

/** Not on a terminal: a plain line every `everyMs` (the first at once), on stderr. */
export function plainReplayProgress(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`), everyMs = 2000): ProgressDisplay {
  let last = 0
  let latest: ReplayProgress | undefined
  let printed: ReplayProgress | undefined
  return {
    update(progress) {
      latest = progress
      const now = Date.now()
      if (now - last < everyMs) return
      last = now
      printed = progress
      write(progressLine(progress))
    },
    end() {
      // The last state is in the summary that follows; a line for it only if none was printed for a while.
      if (latest && latest !== printed && Date.now() - last >= everyMs) write(progressLine(latest))
    },
  }
}
