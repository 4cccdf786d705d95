import {text} from 'node:stream/consumers'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {functionKinds, type FunctionKind} from '../../functions/types.js'
import {runExitCode, runFunctionOnce, type FnRunResult} from '../../services/fn-run.js'
import {renderFnRun} from '../../ui/fn-run-report.js'

export default class FnRun extends BaseCommand {
  static override summary = 'Run a function once on one input, locally: no daemon, no cdp.json needed.'
  static override description = `Insert functions print the event(s) they pass on as JSON, or "dropped: reason"; destination functions print "delivered" (or their error); source functions get --event as the request body (headers from --header) and print the messages they emit. Console lines, notes and errors go to stderr.
When FILE (or NAME) is a function cdp.json declares, its kind, settings, limits and allowed hosts apply; --settings is merged over its settings and the other flags override. Otherwise the kind comes from the handlers: onRequest makes a source function, anything else an insert function unless --kind destination. fetch() reaches the network, only the hosts cdp.json or --allow-host allow.
Exit codes: 0 success (a drop too), 1 the function failed (an error it threw, a file that does not load), 2 bad input (a missing file, JSON that does not parse, with line and column), 3 the call hit its time or memory limit.
--json prints {name, file, kind, declared, outcomes | messages, console, error?, ms, notes}.`
  static override examples = [
    {description: 'An insert function on one event', command: '<%= config.bin %> fn run functions/hash-email.js --event event.json'},
    {description: 'A source function on a webhook body, with a header', command: '<%= config.bin %> fn run functions/github.js --event push.json --header "X-GitHub-Event: push"'},
    {description: 'A destination with settings, the event from stdin', command: 'cat event.json | <%= config.bin %> fn run functions/crm.js --kind destination --settings \'{"apiKey": "test"}\' --event -'},
  ]
  static override enableJsonFlag = true
  static override args = {
    file: Args.string({description: 'The function\'s file, or the name of a function cdp.json declares.', required: true}),
  }
  static override flags = {
    ...dirFlag,
    event: Flags.string({char: 'e', description: 'The input: a JSON event (or a list of events, a batch); for a source function the request body. - reads stdin.', required: true, helpValue: 'FILE'}),
    settings: Flags.string({char: 's', description: 'Settings as a JSON object, or @FILE; merged over those in cdp.json.', helpValue: 'JSON'}),
    kind: Flags.string({char: 'k', description: 'Run it as this kind of function.', options: [...functionKinds]}),
    header: Flags.string({char: 'H', description: 'A request header for a source function, "Name: value" (repeatable).', multiple: true, helpValue: 'NAME:VALUE'}),
    timeout: Flags.integer({description: 'Time limit of the call, in ms (default: cdp.json\'s, else 5000).', min: 1, helpValue: 'MS'}),
    'allow-host': Flags.string({description: 'A host fetch() may reach beside those cdp.json allows (repeatable).', multiple: true, helpValue: 'HOST'}),
  }

  async run(): Promise<FnRunResult> {
    const {args, flags} = await this.parse(FnRun)
    const result = await runFunctionOnce({
      file: args.file,
      dir: flags.dir,
      event: flags.event,
      readStdin: () => text(process.stdin),
      settings: flags.settings,
      kind: flags.kind as FunctionKind | undefined,
      headers: flags.header,
      timeoutMs: flags.timeout,
      allowHosts: flags['allow-host'],
    })
    if (!this.jsonEnabled()) {
      const {stdout, stderr} = renderFnRun(result)
      for (const line of stderr) process.stderr.write(line + '\n')
      for (const line of stdout) this.log(line)
    }
    process.exitCode = runExitCode(result)
    return result
  }
}
