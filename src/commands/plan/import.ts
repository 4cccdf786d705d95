import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {importPlan, type PlanImportResult} from '../../services/plan-transfer.js'
import {renderPlanImport} from '../../ui/plan-files-report.js'

export default class PlanImport extends BaseCommand {
  static override summary = 'Import a Segment Protocols tracking plan or a Typewriter plan.json into plan files.'
  static override description = `Reads FILE, one of:
- the answer of Segment's Public API GET /tracking-plans/{id}/rules saved to a file ({"data": {"rules": [...]}}), or the bare list of rules (TRACK, IDENTIFY, GROUP, PAGE, SCREEN, COMMON);
- a Typewriter / Config API plan.json ({name, display_name, rules: {events, global, identify_traits, group_traits}}).
Writes one file per event and version in plan/events/, and identify.json, group.json, page.json, screen.json, common.json. Event versions are kept.
An event that already has a file is an error (nothing is written) unless --force.`
  static override examples = [
    {description: 'Import a Protocols export', command: '<%= config.bin %> plan import tracking-plan-rules.json'},
    {description: 'Import Typewriter\'s plan.json, replacing events that exist', command: '<%= config.bin %> plan import plan.json --force'},
  ]
  static override enableJsonFlag = true
  static override args = {file: Args.string({description: 'The export to import.', required: true})}
  static override flags = {
    ...dirFlag,
    force: Flags.boolean({char: 'f', description: 'Replace rules that already have a file.', default: false}),
  }

  async run(): Promise<PlanImportResult> {
    const {args, flags} = await this.parse(PlanImport)
    const result = importPlan({dir: flags.dir, file: args.file, force: flags.force})
    this.log(renderPlanImport(result))
    return result
  }
}
