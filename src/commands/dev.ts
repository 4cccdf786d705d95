import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {dirFlag, serverFlags} from '../flags.js'
import {createLogger} from '../log.js'
import {startDev} from '../services/dev.js'
import {renderDevBanner} from '../ui/dev-banner.js'

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

export default class Dev extends BaseCommand {
  static override summary = 'Start the local ingest daemon: Segment\'s HTTP Tracking API on SQLite.'
  static override description = `Serves Segment's Tracking API (/v1/track, /v1/identify, /v1/page, /v1/screen, /v1/group, /v1/alias, /v1/batch, /v1/import and analytics.js's one-letter paths), stores every accepted event in .cdp/cdp.sqlite before answering 200, delivers them to the destinations in cdp.json (retrying failures, in order per user), and serves GET /api/events, DELETE /api/events, GET /api/deliveries, GET /api/stream (what \`cdp tail\` follows) and GET /health.
The Tracking API and the settings document answer pages of any origin (CORS). /api/* answers only requests addressed to a loopback name or address, an address cdp dev listens on, or a name given with --allow-host, and none sent by another origin's page; with --host beyond loopback it also needs the token cdp dev writes to .cdp/daemon.json (Authorization: Bearer), which \`cdp tail\` and \`cdp deliveries retry\` send themselves.
Edits to cdp.json and the tracking plan apply while it runs.
With no cdp.json it runs on defaults: one source named "default" whose write key is kept in the store.
Ctrl-C (or SIGTERM) stops accepting, finishes in-flight requests, closes the store and exits 0.`
  static override examples = [
    {description: 'Start on the default port, in the current folder', command: '<%= config.bin %> dev'},
    {description: 'Pick a free port and print a JSON line when ready', command: '<%= config.bin %> dev --port 0 --json'},
    {description: 'Serve the workspace in ./my-app to the local network', command: '<%= config.bin %> dev --dir my-app --host 0.0.0.0'},
    {description: 'Reach /api/* through a name of your own (a tunnel, a container)', command: '<%= config.bin %> dev --allow-host cdp.internal'},
  ]
  static override flags = {
    ...dirFlag,
    ...serverFlags,
    json: Flags.boolean({description: 'Print one JSON line when ready ({"url", "urls", "port", "sources", "destinations"}) instead of the banner.', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Dev)
    const log = createLogger()
    // oclif hands a multiple flag set from its environment variable (CDP_ALLOW_HOST) over as one string.
    const allowHosts = [flags['allow-host'] ?? []].flat()
    const daemon = await startDev({dir: flags.dir, port: flags.port, host: flags.host, allowHosts, log})
    const stopSignal = waitForStopSignal()
    if (flags.json) {
      process.stdout.write(JSON.stringify({event: 'ready', url: daemon.url, urls: daemon.urls, port: daemon.port, host: daemon.host, database: daemon.database, configFile: daemon.configFile ?? null, sources: daemon.sources, destinations: daemon.destinations}) + '\n')
    } else {
      this.log(renderDevBanner(daemon))
    }
    const signal = await stopSignal
    log.info(`${signal}: finishing in-flight requests and closing the store…`)
    await daemon.stop()
    log.info('cdp dev stopped.')
  }
}
