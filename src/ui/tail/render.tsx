import {render} from 'ink'
import type {StreamFeed} from '../../stream/feed.js'
import {TailApp} from './tail-app.js'

export {TailApp, type TailAppProps} from './tail-app.js'

export interface RenderTailOptions {
  violationsOnly?: boolean
  title?: string
}

// The terminal's alternate screen, as less and top use: the shell's text comes back on quit, and
// resizing never leaves stale frames in the scrollback.
const enterAlternateScreen = '\u001B[?1049h'
const leaveAlternateScreen = '\u001B[?1049l'

/**
 * Runs the `cdp tail` screen on the terminal until the user quits (q or Ctrl-C), then closes the
 * feed. Call it only when stdout is a terminal; piped output is plain text.
 */
export async function renderTail(feed: StreamFeed, options: RenderTailOptions = {}): Promise<void> {
  const {stdout} = process
  const alternate = stdout.isTTY === true
  const leave = () => {
    stdout.write(leaveAlternateScreen)
  }
  if (alternate) {
    stdout.write(enterAlternateScreen)
    // Even if the process ends another way, the user gets their screen back.
    process.once('exit', leave)
  }
  const instance = render(<TailApp feed={feed} violationsOnly={options.violationsOnly} title={options.title} />, {exitOnCtrlC: true})
  try {
    await instance.waitUntilExit()
  } finally {
    instance.unmount()
    feed.close()
    if (alternate) {
      process.off('exit', leave)
      leave()
    }
  }
}
