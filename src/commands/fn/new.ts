import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {functionKinds, type FunctionKind} from '../../functions/types.js'
import {newFunction, type FnNewResult} from '../../services/fn-new.js'
import {renderFnNewReport} from '../../ui/fn-new-report.js'

export default class FnNew extends BaseCommand {
  static override summary = 'Start a function: functions/NAME.js from a template, its test cases, and its cdp.json entry.'
  static override description = `Writes functions/NAME.js (a commented starter of its kind, or a template of the library with --from), functions/NAME.test.json (cases that pass as written: run them with \`cdp fn test NAME\`), and adds {"name", "kind", "settings", "allowedHosts"} to cdp.json's "functions" (the rest of the file is kept). Secrets in a template's settings are read from environment variables ({"env": "NAME"}).
Templates: stripe-webhook and github-webhook (source), hash-email and drop-internal-traffic (insert), slack-webhook and json-api (destination).
Refuses to overwrite a file or a function cdp.json already declares. Exit codes: 0 written, 1 the name is taken, 2 bad input (an unknown template, no cdp.json, a bad name), 3 the files cannot be written.`
  static override examples = [
    {description: 'An insert function to start from', command: '<%= config.bin %> fn new rename-events --kind insert'},
    {description: 'A Stripe webhook source from the library', command: '<%= config.bin %> fn new stripe --from stripe-webhook'},
    {description: 'A destination posting to Slack', command: '<%= config.bin %> fn new alerts --from slack-webhook'},
  ]
  static override enableJsonFlag = true
  static override args = {
    name: Args.string({description: 'The function\'s name (letters, digits, dots, dashes, underscores; up to 64).', required: true}),
  }
  static override flags = {
    ...dirFlag,
    kind: Flags.string({char: 'k', description: 'source (onRequest, behind a webhook URL), insert (changes or drops events) or destination (sends them on).', options: [...functionKinds]}),
    from: Flags.string({description: 'A template of the library; it sets the kind.', helpValue: 'TEMPLATE'}),
  }

  async run(): Promise<FnNewResult> {
    const {args, flags} = await this.parse(FnNew)
    const result = newFunction({dir: flags.dir, name: args.name, kind: flags.kind as FunctionKind | undefined, from: flags.from})
    if (!this.jsonEnabled()) this.log(renderFnNewReport(result, {dir: flags.dir}))
    return result
  }
}
