import {readDaemonInfo} from '../config/daemon-info.js'
import {workspacePaths} from '../config/workspace.js'
import {ExitCode, UserError} from '../errors.js'

/**
 * The URL of the daemon `cdp tail` should follow: --url, or the one the workspace's running
 * `cdp dev` wrote down. Checked with GET /health, so a stopped daemon is a clear error at once.
 */
export async function resolveDaemonUrl(dir: string, url?: string): Promise<string> {
  const base = url ?? readDaemonInfo(dir)?.url
  if (!base) {
    throw new UserError(`No cdp dev is running in ${workspacePaths(dir).dir}.`, {
      hint: 'Start it with `cdp dev` in that folder (or pass --dir), or give the address of a running daemon with --url.',
      exitCode: ExitCode.environment,
      code: 'daemon_not_running',
    })
  }
  let parsed: URL
  try {
    parsed = new URL(base)
  } catch {
    throw new UserError(`--url "${base}" is not a URL.`, {hint: 'Pass the address cdp dev prints, such as http://127.0.0.1:8237.', code: 'invalid_url'})
  }
  const health = await fetch(new URL('/health', parsed), {signal: AbortSignal.timeout(3000)}).then(
    (response) => response.ok,
    () => false,
  )
  if (!health) {
    throw new UserError(`cdp dev at ${base} is not answering.`, {
      hint: url ? 'Check the address, or start the daemon with `cdp dev`.' : 'It may have stopped: start it again with `cdp dev`.',
      exitCode: ExitCode.environment,
      code: 'daemon_not_running',
    })
  }
  return base.replace(/\/+$/, '')
}
