import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {inferPlan, type InferResult} from '../../services/schema.js'
import {renderPlanInfer} from '../../ui/plan-files-report.js'

export default class PlanInfer extends BaseCommand {
  static override summary = 'Write plan files from observed events, to start a plan from real traffic.'
  static override description = `For each stored track event (and identify and group traits) writes a plan file: JSON types as observed, required = present in every observed event, an enum for strings with few distinct values seen often. Events that already have a file are skipped unless --force. Review the files before committing them.`
  static override examples = [
    {description: 'Infer files for everything observed', command: '<%= config.bin %> plan infer'},
    {description: 'Just one event', command: '<%= config.bin %> plan infer --event "Order Completed"'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    event: Flags.string({char: 'e', description: 'Only this track event (or "identify", "group").'}),
    force: Flags.boolean({char: 'f', description: 'Replace files of events that are already planned.', default: false}),
  }

  async run(): Promise<InferResult> {
    const {flags} = await this.parse(PlanInfer)
    const result = await inferPlan({dir: flags.dir, event: flags.event, force: flags.force})
    // No file, no line (not an empty one).
    if (result.files.length > 0) this.log(renderPlanInfer(result))
    return result
  }
}
