import {createInterface} from 'node:readline/promises'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {initWorkspace, type InitResult} from '../services/init.js'
import {renderInitReport, sourceNameQuestion} from '../ui/init-report.js'

async function askSourceName(fallback: string): Promise<string> {
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = (await rl.question(sourceNameQuestion(fallback))).trim()
    return answer === '' ? fallback : answer
  } finally {
    rl.close()
  }
}

export default class Init extends BaseCommand {
  static override summary = 'Create a cdp workspace: cdp.json, an example tracking plan in plan/, and a .gitignore.'
  static override description = `Writes cdp.json with one source and a freshly generated write key, a small example tracking plan in plan/ (left alone if plan/ exists), and a .gitignore entry that keeps .cdp/ (the local event store) out of git.
Refuses to overwrite an existing cdp.json unless --force. Asks for the source name on a terminal unless --yes.`
  static override examples = [
    {description: 'Create a workspace in the current folder, accepting the defaults', command: '<%= config.bin %> init --yes'},
    {description: 'Create one in ./my-app with a source named web', command: '<%= config.bin %> init my-app --source web --yes'},
    {description: 'Replace an existing cdp.json', command: '<%= config.bin %> init --force --yes'},
  ]
  static override enableJsonFlag = true
  static override args = {
    dir: Args.string({description: 'Folder to create the workspace in (created if missing).', default: '.'}),
  }
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Accept the defaults without asking.', default: false}),
    force: Flags.boolean({char: 'f', description: 'Overwrite an existing cdp.json.', default: false}),
    source: Flags.string({description: 'Name of the first source.', default: 'app'}),
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(Init)
    const interactive = !flags.yes && !this.jsonEnabled() && process.stdin.isTTY === true
    const sourceName = interactive ? await askSourceName(flags.source) : flags.source
    const result = initWorkspace({dir: args.dir, force: flags.force, sourceName})
    this.log(renderInitReport(result, {dir: args.dir}))
    return result
  }
}
