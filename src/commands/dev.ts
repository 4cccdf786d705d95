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
Edits to cdp.json and the tracking plan apply while it runs.
With no cdp.json it runs on defaults: one source named "default" whose write key is kept in the store.
Ctrl-C (or SIGTERM) stops accepting, finishes in-flight requests, closes the store and exits 0.`
  static override examples = [
    {description: 'Start on the default port, in the current folder', command: '<%= config.bin %> dev'},
    {description: 'Pick a free port and print a JSON line when ready', command: '<%= config.bin %> dev --port 0 --json'},
    {description: 'Serve the workspace in ./my-app to the local network', command: '<%= config.bin %> dev --dir my-app --host 0.0.0.0'},
  ]
  static override flags = {
    ...dirFlag,
    ...serverFlags,
    json: Flags.boolean({description: 'Print one JSON line when ready ({"url", "port", "sources", "destinations"}) instead of the banner.', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Dev)
    const log = createLogger()
    const daemon = await startDev({dir: flags.dir, port: flags.port, host: flags.host, log})
    const stopSignal = waitForStopSignal()
    if (flags.json) {
      process.stdout.write(JSON.stringify({event: 'ready', url: daemon.url, port: daemon.port, host: daemon.host, database: daemon.database, configFile: daemon.configFile ?? null, sources: daemon.sources, destinations: daemon.destinations}) + '\n')
    } else {
      this.log(renderDevBanner(daemon))
    }
    const signal = await stopSignal
    log.info(`${signal}: finishing in-flight requests and closing the store…`)
    await daemon.stop()
    log.info('cdp dev stopped.')
  }
}
