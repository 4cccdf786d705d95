import path from 'node:path'
import chalk from 'chalk'
import type {SourceConfig} from '../config/schema.js'
import {formatTable, type TableColumn} from './table.js'

const sourceColumns: TableColumn<SourceConfig>[] = [{width: 16, cell: (source) => ({text: source.name, style: chalk.cyan})}, {cell: (source) => source.writeKey}]

export interface DevBannerProps {
  url: string
  /** Every URL it listens at (each interface's for --host 0.0.0.0). */
  urls: string[]
  sources: SourceConfig[]
  configFile?: string
  database: string
  destinations: string[]
  /** Listening beyond loopback: the Tracking API is open to the network and /api/* needs the token. */
  tokenRequired: boolean
  daemonFile: string
}

/** What `cdp dev` prints once it listens: where to send, with which key, and a curl to try. */
export function renderDevBanner(props: DevBannerProps): string {
  const first = props.sources[0]
  const urls = props.urls.length > 0 ? props.urls : [props.url]
  const relative = path.relative(process.cwd(), props.daemonFile)
  const daemonFile = relative && !relative.startsWith('..') ? relative : props.daemonFile
  const lines = [
    `${chalk.green('cdp dev')} is listening on ${chalk.bold(urls[0])}`,
    ...urls.slice(1).map((url) => `                        ${chalk.bold(url)}`),
    ...(props.tokenRequired
      ? [
          chalk.yellow(`Warning: the Tracking API (/v1/*) is open to the network: anyone who reaches ${urls.length > 1 ? 'these addresses' : 'this address'} can send events with a write key below.`),
          chalk.yellow(`         /api/* (stored events, deliveries, the live stream) needs the token in ${daemonFile}: Authorization: Bearer <token>.`),
          chalk.yellow(`         \`cdp tail\` and \`cdp deliveries retry\` send it themselves. Use --host 127.0.0.1 to keep cdp dev to this machine.`),
        ]
      : []),
    props.configFile ? `config  ${props.configFile}` : `config  none (no cdp.json here: running on defaults; \`cdp init\` makes one)`,
    `store   ${props.database}`,
    '',
    'Sources and their write keys:',
    ...formatTable(sourceColumns, props.sources, {indent: '  '}),
    '',
    props.destinations.length > 0 ? `Delivering to: ${props.destinations.map((name) => chalk.cyan(name)).join(', ')}  (see ${chalk.bold('cdp deliveries')})` : 'Delivering to: no destinations (add them to cdp.json; edits apply while running)',
    '',
    'Send an event:',
    `  curl -u '${first.writeKey}:' ${props.url}/v1/track \\`,
    `    -H 'Content-Type: application/json' \\`,
    `    -d '{"userId":"user-1","event":"Signed Up","properties":{"plan":"pro"}}'`,
    '',
    `See what arrived: ${chalk.bold('cdp events')}   Watch live: ${chalk.bold('cdp tail')}   Stop: Ctrl-C`,
  ]
  return lines.join('\n')
}
