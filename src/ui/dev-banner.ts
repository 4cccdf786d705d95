import chalk from 'chalk'
import type {SourceConfig} from '../config/schema.js'

export interface DevBannerProps {
  url: string
  sources: SourceConfig[]
  configFile?: string
  database: string
  destinations: string[]
}

/** What `cdp dev` prints once it listens: where to send, with which key, and a curl to try. */
export function renderDevBanner(props: DevBannerProps): string {
  const first = props.sources[0]
  const lines = [
    `${chalk.green('cdp dev')} is listening on ${chalk.bold(props.url)}`,
    props.configFile ? `config  ${props.configFile}` : `config  none (no cdp.json here: running on defaults; \`cdp init\` makes one)`,
    `store   ${props.database}`,
    '',
    'Sources and their write keys:',
    ...props.sources.map((source) => `  ${chalk.cyan(source.name.padEnd(16))} ${source.writeKey}`),
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
