import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {followFunctionLogs, readFunctionLogs} from '../../services/fn-logs.js'
import type {StoredFunctionRun} from '../../store/function-runs.js'
import {formatFunctionRun, renderNoFunctionRuns} from '../../ui/fn-logs.js'
import {untilStopped} from '../../stop-signals.js'

export default class FnLogs extends BaseCommand {
  static override summary = 'Print what functions logged and how they failed: console lines, errors and drops, newest last.'
  static override description = `Reads the records cdp dev keeps of function runs (whether or not it runs now): every run that wrote console lines, threw, dropped its event, or was a source function's request, the newest 10,000; each line says the function, where it ran (source, destination or request, and which), its result, the error's class and message, the event's messageId and the time it took, then its console lines. Runs that only succeeded are counted, not kept: \`cdp deliveries\` shows the counts.
A NAME with no records is not an error: it says so on stderr and exits 0 (a function that never logged nor failed has none).
--follow keeps printing new records as cdp dev writes them (within half a second) until Ctrl-C. --json prints an array of records, or with --follow one JSON object per line.`
  static override examples = [
    {description: 'The newest records of every function', command: '<%= config.bin %> fn logs'},
    {description: 'Follow one function', command: '<%= config.bin %> fn logs hash-email --follow'},
    {description: 'Errors as JSON lines, for jq', command: '<%= config.bin %> fn logs crm --follow --json | jq \'select(.result == "error")\''},
  ]
  static override enableJsonFlag = true
  static override args = {
    name: Args.string({description: 'Only this function (its name in cdp.json).'}),
  }
  static override flags = {
    ...dirFlag,
    follow: Flags.boolean({char: 'f', description: 'Keep printing new records until Ctrl-C.', default: false}),
    limit: Flags.integer({char: 'n', description: 'At most this many records first (the newest).', default: 50, min: 1, max: 10_000}),
  }

  async run(): Promise<StoredFunctionRun[] | undefined> {
    const {args, flags} = await this.parse(FnLogs)
    const json = this.jsonEnabled()
    const options = {dir: flags.dir, name: args.name, limit: flags.limit}
    const print = (records: readonly StoredFunctionRun[]) => {
      if (records.length === 0) return
      process.stdout.write(records.map((record) => (json ? JSON.stringify(record) : formatFunctionRun(record))).join('\n') + '\n')
    }
    if (!flags.follow) {
      const result = await readFunctionLogs(options)
      if (result.records.length === 0) process.stderr.write(renderNoFunctionRuns(args.name, result.counted) + '\n')
      if (json) return result.records
      print(result.records)
      return undefined
    }
    const stopped = new AbortController()
    const following = await followFunctionLogs(options, {onRecords: print, signal: stopped.signal})
    if (following.records.length === 0) process.stderr.write(renderNoFunctionRuns(args.name, following.counted) + '\n')
    print(following.records)
    await untilStopped(() => stopped.abort())
    await following.done
    return undefined
  }
}
