import {readDaemonInfo} from '../config/daemon-info.js'
import {workspacePaths} from '../config/workspace.js'
import {ExitCode, UserError} from '../errors.js'
import {tokenHeaders} from '../stream/client.js'

/** The daemon `cdp tail` follows, and the token its /api/* wants. */
export interface DaemonTarget {
  url: string
  /** Asked again at each connection: a restarted daemon writes a new token to daemon.json. */
  token: () => string | undefined
}

function origin(url: string | undefined): string | undefined {
  try {
    return url === undefined ? undefined : new URL(url).origin
  } catch {
    return undefined
  }
}

/**
 * The daemon `cdp tail` should follow: --url, or the one the workspace's running `cdp dev` wrote
 * down, with its token (--token, or daemon.json's for the workspace's daemon). Checked at once
 * (GET /health, then a first look at /api/*), so a stopped daemon or a refused token is a clear
 * error rather than a view that keeps reconnecting.
 */
export async function resolveDaemon(dir: string, options: {url?: string; token?: string} = {}): Promise<DaemonTarget> {
  const running = readDaemonInfo(dir)
  const base = options.url ?? running?.url
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
      hint: options.url ? 'Check the address, or start the daemon with `cdp dev`.' : 'It may have stopped: start it again with `cdp dev`.',
      exitCode: ExitCode.environment,
      code: 'daemon_not_running',
    })
  }
  const url = base.replace(/\/+$/, '')
  const workspaceDaemon = running !== undefined && origin(url) === origin(running.url)
  const token = options.token !== undefined ? () => options.token : workspaceDaemon ? () => readDaemonInfo(dir)?.token : () => undefined
  await checkAccess(url, token(), {explicitUrl: !workspaceDaemon})
  return {url, token}
}

/** Asks /api/* for one event, to learn whether the daemon lets this client in (the answer is complete, so no connection is left open). */
async function checkAccess(url: string, token: string | undefined, context: {explicitUrl: boolean}): Promise<void> {
  let response: Response
  try {
    response = await fetch(`${url}/api/events?limit=1`, {headers: tokenHeaders(token), signal: AbortSignal.timeout(3000)})
  } catch {
    return // Not answering now: the stream client says so and reconnects.
  }
  if (response.status !== 401 && response.status !== 403) {
    await response.arrayBuffer().catch(() => undefined)
    return
  }
  const body = (await response.json().catch(() => ({}))) as {error?: string}
  const hint =
    response.status === 401
      ? context.explicitUrl
        ? 'Pass the "token" from .cdp/daemon.json in that daemon\'s workspace with --token (or CDP_TOKEN).'
        : 'Its token changes at each start and is kept in .cdp/daemon.json: check that this is the workspace of the running cdp dev (--dir).'
      : 'Reach the daemon by a loopback address (http://127.0.0.1:<port>), an address it listens on, or a name it was started with --allow-host.'
  throw new UserError(`cdp dev at ${url} refused to stream: ${body.error ?? `HTTP ${response.status}`}`, {hint, exitCode: ExitCode.environment, code: 'daemon_refused'})
}
