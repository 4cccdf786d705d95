import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {dirFlag} from '../flags.js'
import {createLogger} from '../log.js'
import type {ReplayInfo} from '../replay/types.js'
import {listReplays, replay, replayExitCode, type ReplaySummary} from '../services/replay.js'
import {onStopSignal} from '../stop-signals.js'
import {summaryLines} from '../ui/replay/lines.js'
import {renderReplayList} from '../ui/replay/list-table.js'

const selectionFlags = ['destination', 'since', 'until', 'event', 'type', 'source', 'user', 'valid', 'from-file', 'rate', 'strict', 'dry-run']

export default class Replay extends BaseCommand {
  static override summary = 'Send stored or archived events again to a destination (a backfill), resumable.'
  static override description = `Reads the selected events from the workspace's store (also beside a running cdp dev), or from archive files (--from-file: NDJSON, gzip NDJSON, or folders of them, as Segment and RudderStack write to object storage), and sends them through the destination's live delivery path: its filter, transformations and insert function, adapter, batching, retries and dead letters. Events keep their messageId, timestamps and context; their integrations name only the target ({"All": false, "NAME": true}). The live delivery cursor is not moved.
Every replay has an id and keeps a checkpoint in the store: Ctrl-C stops it cleanly (exit 130) and \`cdp replay --resume ID\` continues without sending again what the destination confirmed. It exits 0 when completed, 1 when the destination kept failing, 2 on bad input.
On a terminal it shows live progress; otherwise a line every few seconds on stderr. --json prints one JSON summary on stdout.`
  static override examples = [
    {description: "Backfill last week's Order Completed events into a new warehouse", command: '<%= config.bin %> replay --destination warehouse --since 7d --event "Order Completed"'},
    {description: 'What would be sent, by type and event name, without sending', command: '<%= config.bin %> replay --destination webhook --since 2024-05-01 --until 2024-06-01 --dry-run'},
    {description: "Replay Segment's S3 archive at 500 events/s", command: '<%= config.bin %> replay --destination warehouse --from-file ./segment-logs/ --rate 500'},
    {description: 'Go on after Ctrl-C', command: '<%= config.bin %> replay --resume r-2024…'},
    {description: 'Every replay with its status and counts', command: '<%= config.bin %> replay --list'},
  ]
  // oclif's own usage line draws the exclusive flags as empty alternatives; the three forms, as people use them.
  static override usage = [
    '<%= command.id %> --destination NAME [--since TIME] [--until TIME] [--event NAME]... [--type TYPE]... [--source NAME] [--user ID] [--[no-]valid] [--from-file PATH]... [--rate N] [--strict] [--dry-run] [--json] [--dir DIR]',
    '<%= command.id %> --resume ID [--json] [--dir DIR]',
    '<%= command.id %> --list [--json] [--dir DIR]',
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    destination: Flags.string({char: 'D', description: 'The destination (its name in cdp.json) to send to; a disabled one can be replayed to.', helpValue: 'NAME', exactlyOne: ['destination', 'list', 'resume']}),
    since: Flags.string({char: 's', description: 'Only events timestamped at or after this: an ISO 8601 time, or a span back from now such as 30s, 15m, 2h, 7d.', helpValue: 'TIME'}),
    until: Flags.string({description: 'Only events timestamped before this: an ISO 8601 time, or a span back from now.', helpValue: 'TIME'}),
    event: Flags.string({char: 'e', description: 'Only this track event name (or page/screen name); repeatable.', multiple: true, helpValue: 'NAME'}),
    type: Flags.string({char: 't', description: 'Only this message type: track, identify, page, screen, group or alias; repeatable.', multiple: true, helpValue: 'TYPE'}),
    source: Flags.string({description: 'Only events from this source (its name in cdp.json).'}),
    user: Flags.string({char: 'u', description: 'Only events whose userId or anonymousId is this.', helpValue: 'ID'}),
    valid: Flags.boolean({description: 'Only stored events that follow the tracking plan; --no-valid: only those that break it.', allowNo: true}),
    'from-file': Flags.string({char: 'f', description: 'Replay from this archive instead of the store: an NDJSON or gzip NDJSON file, or a folder of them; repeatable.', multiple: true, helpValue: 'PATH'}),
    rate: Flags.string({description: 'At most this many events per second.', helpValue: 'N'}),
    strict: Flags.boolean({description: 'Archives: stop at the first corrupt line instead of reporting and skipping it.'}),
    'dry-run': Flags.boolean({description: 'Count what would be sent, by type and event name; send nothing, record nothing.'}),
    resume: Flags.string({description: 'Continue the replay with this id where it stopped (its selection is kept).', helpValue: 'ID', exclusive: selectionFlags}),
    list: Flags.boolean({description: 'List the replays of this workspace: selection, status, counts and times.', exclusive: [...selectionFlags, 'resume']}),
  }

  async run(): Promise<ReplaySummary | ReplayInfo[]> {
    const {flags} = await this.parse(Replay)
    if (flags.list) {
      const replays = await listReplays({dir: flags.dir})
      if (!this.jsonEnabled()) this.log(renderReplayList(replays))
      return replays
    }

    const controller = new AbortController()
    const display = await progressDisplay()
    const disposeSignals = onStopSignal(() => controller.abort())
    let summary: ReplaySummary
    try {
      summary = await replay({
        dir: flags.dir,
        destination: flags.destination,
        since: flags.since,
        until: flags.until,
        events: flags.event,
        types: flags.type,
        source: flags.source,
        user: flags.user,
        valid: flags.valid,
        files: flags['from-file'],
        rate: flags.rate,
        strict: flags.strict,
        dryRun: flags['dry-run'],
        resume: flags.resume,
        log: createLogger(),
        onProgress: (progress) => display.update(progress),
        signal: controller.signal,
      })
    } finally {
      display.end()
      disposeSignals()
    }
    if (!this.jsonEnabled()) this.log(summaryLines(summary).join('\n'))
    process.exitCode = replayExitCode(summary)
    return summary
  }
}

/** The live view on a terminal (stderr), else a plain line every few seconds. */
async function progressDisplay() {
  const {stderr} = process
  if (stderr.isTTY === true && (stderr.columns ?? 0) > 0) {
    // ink draws only a final frame when it thinks it runs in CI; stderr is a terminal here.
    for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false'
    const {renderReplayProgress} = await import('../ui/replay/render.js')
    return renderReplayProgress(stderr)
  }
  const {plainReplayProgress} = await import('../ui/replay/render.js')
  return plainReplayProgress()
}
