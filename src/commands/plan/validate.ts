import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {dirFlag} from '../../flags.js'
import {validatePlans, type PlanReport} from '../../services/plan-validate.js'
import {renderPlanReport} from '../../ui/plan-report.js'

export default class PlanValidate extends BaseCommand {
  static override summary = 'Check the tracking plan files: JSON, JSON Schema, $refs, contradictions, naming.'
  static override description = `Loads every plan folder of the workspace (plan/, or each source's "plan" in cdp.json) and reports every problem with its file:
errors — invalid JSON, invalid JSON Schema, an unresolved $ref, two files for one event and version, contradictory constraints (minimum above maximum, …), unknown formats, a pattern that cannot be matched in linear time (lookaround, backreferences);
warnings — a property with no type, an event with no description, names that break the conventions set in cdp.json.
Exits 1 on any error; warnings fail only with --strict.`
  static override examples = [
    {description: 'Check the plan', command: '<%= config.bin %> plan validate'},
    {description: 'In CI, failing on warnings too', command: '<%= config.bin %> plan validate --strict'},
    {description: 'As JSON, for tools', command: '<%= config.bin %> plan validate --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    strict: Flags.boolean({description: 'Fail on warnings as well as errors.', default: false}),
  }

  async run(): Promise<PlanReport[]> {
    const {flags} = await this.parse(PlanValidate)
    const reports = validatePlans({dir: flags.dir, strict: flags.strict})
    if (!this.jsonEnabled()) this.log(reports.map(renderPlanReport).join('\n\n'))
    // The report is the output either way (--json prints it); the exit code carries the verdict.
    if (!reports.every((r) => r.ok)) process.exitCode = ExitCode.check
    return reports
  }
}
