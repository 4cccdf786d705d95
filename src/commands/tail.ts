import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {dirFlag} from '../flags.js'
import {messageTypes} from '../message/types.js'
import {resolveDaemon} from '../services/tail.js'
import {connectStream} from '../stream/client.js'
import type {StreamFeed} from '../stream/feed.js'
import {maxStreamHistory} from '../stream/limits.js'
import type {StreamFilter} from '../stream/types.js'
import {formatConnectionLine, formatTailLine} from '../ui/tail-lines.js'
import {untilStopped} from '../stop-signals.js'

export default class Tail extends BaseCommand {
  static override summary = 'Watch events arrive live: validation, violations and deliveries, as Segment\'s Debugger shows them.'
  static override description = `Follows the workspace's running \`cdp dev\` (or --url). It first shows the newest stored events (--history), then each event as it is stored, with its plan result, violations, each destination's delivery outcome, and what each user function did to it (its result, error and console lines; live only: \`cdp fn logs\` has the stored ones).
On a terminal it is an interactive list: ↑/↓ move, Enter opens an event (payload, violations, deliveries), / filters by text, v shows only violations, space pauses, c clears, q quits.
Not on a terminal, or with --json, it prints one line per item (NDJSON with --json), so \`cdp tail --violations --json | jq\` works. When the daemon stops, it says so and reconnects when it is back.`
  static override examples = [
    {description: 'The live debugger', command: '<%= config.bin %> tail'},
    {description: 'Only violations, as JSON lines for jq', command: '<%= config.bin %> tail --violations --json | jq .violations'},
    {description: 'One event, from a daemon elsewhere', command: '<%= config.bin %> tail --url http://127.0.0.1:8237 --event "Order Completed"'},
  ]
  static override flags = {
    ...dirFlag,
    url: Flags.string({char: 'u', description: 'The daemon to follow (default: the one running in the workspace).'}),
    token: Flags.string({description: 'The token of a daemon listening beyond loopback (the "token" in its .cdp/daemon.json); the workspace\'s own daemon\'s is read from there.', env: 'CDP_TOKEN'}),
    violations: Flags.boolean({char: 'v', description: 'Only events that break the tracking plan.', default: false}),
    event: Flags.string({char: 'e', description: 'Only this track event (or page/screen name).'}),
    type: Flags.string({char: 't', description: 'Only this message type.', options: [...messageTypes]}),
    source: Flags.string({description: 'Only events from this source.'}),
    user: Flags.string({description: 'Only events of this userId or anonymousId.'}),
    history: Flags.integer({char: 'n', description: 'Stored events to show first.', default: 50, min: 0, max: maxStreamHistory}),
    json: Flags.boolean({description: 'One JSON object per line (events, deliveries, function records, skipped notices), not the interactive view.', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Tail)
    const {url, token} = await resolveDaemon(flags.dir, {url: flags.url, token: flags.token})
    const filter: StreamFilter = {event: flags.event, type: flags.type, source: flags.source, user: flags.user}
    const interactive = !flags.json && process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 && process.stdin.isTTY === true
    if (interactive) {
      // The view toggles violations itself (v), so it takes every event and starts filtered.
      const feed = connectStream({url, filter, history: flags.history, token})
      // ink draws only a final frame when it thinks it runs in CI (CI=true, read once when ink
      // loads); here stdin and stdout are a terminal, so the person at it gets the live view.
      for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false'
      const {renderTail} = await import('../ui/tail/render.js')
      await renderTail(feed, {violationsOnly: flags.violations, title: 'cdp tail'})
      return
    }
    const feed = connectStream({url, filter: {...filter, violations: flags.violations}, history: flags.history, token})
    await printLines(feed, flags.json)
  }
}

/** Prints items until SIGINT/SIGTERM, or until the reader of stdout goes away (`| head`). */
function printLines(feed: StreamFeed, json: boolean): Promise<void> {
  feed.onConnection((state) => {
    const line = formatConnectionLine(state)
    if (line !== undefined) process.stderr.write(`${line}\n`)
  })
  feed.onItems((items) => {
    const text = items.map((item) => (json ? JSON.stringify(item) : formatTailLine(item))).join('\n') + '\n'
    process.stdout.write(text)
  })
  return untilStopped(() => feed.close())
}
