import {writeFileSync} from 'node:fs'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {ExitCode, UserError} from '../../errors.js'
import {dirFlag} from '../../flags.js'
import {exportPlan} from '../../services/plan-transfer.js'

export default class PlanExport extends BaseCommand {
  static override summary = 'Export the plan as Segment Public API tracking-plan rules.'
  static override description = `Writes {"data": {"rules": [...]}}, the shape of Segment's GET /tracking-plans/{id}/rules, to stdout or to --out. Importing the result gives back the same plan.`
  static override examples = [
    {description: 'Print the rules', command: '<%= config.bin %> plan export --format segment'},
    {description: 'Write them to a file', command: '<%= config.bin %> plan export --format segment --out rules.json'},
  ]
  static override flags = {
    ...dirFlag,
    format: Flags.string({description: 'The export format.', options: ['segment'], default: 'segment'}),
    out: Flags.string({char: 'o', description: 'Write to this file instead of stdout.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(PlanExport)
    const text = JSON.stringify(exportPlan({dir: flags.dir}), null, 2) + '\n'
    if (!flags.out) {
      process.stdout.write(text)
      return
    }
    try {
      writeFileSync(flags.out, text)
    } catch (error) {
      throw new UserError(`Cannot write ${flags.out}: ${(error as Error).message}`, {exitCode: ExitCode.environment, code: 'not_writable'})
    }
    process.stderr.write(`Wrote ${flags.out}\n`)
  }
}
