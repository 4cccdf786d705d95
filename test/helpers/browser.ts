import {existsSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {chromium, type Browser} from 'playwright-core'

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** CI installs Chromium (.ci/run); elsewhere the browser tests say why they did not run. */
export const canRunBrowser = existsSync(chromiumPath) || process.env.CI === 'true'

/** Headless Chromium without its own background traffic (updates, sync, QUIC probes). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  })
}

/**
 * A web server for test pages on 127.0.0.1, addressed as `localhost`: a different origin from the
 * daemon's (127.0.0.1), so the SDKs' requests to it exercise CORS.
 */
export async function servePages(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{server: Server; origin: string}> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, origin: `http://localhost:${(server.address() as AddressInfo).port}`}
}
