import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {dirFlag} from '../../flags.js'
import {diffPlanRevision, type PlanDiffResult} from '../../services/plan-diff.js'
import {renderPlanDiff} from '../../ui/plan-diff-report.js'

export default class PlanDiff extends BaseCommand {
  static override summary = 'Compare the plan with a git revision and flag breaking changes.'
  static override description = `Compares each plan folder as committed at BASE (default HEAD) with the working tree, and classifies every change:
breaking — an event or event version removed, a property removed, a property made required (or added as required), a type narrowed, an enum value removed or an enum added, additionalProperties closed, a constraint tightened (minimum raised, pattern changed, …), identify.json, group.json, page.json, screen.json or common.json removed, and any change cdp cannot classify (not, if/then, a different number of anyOf branches);
safe — an event or version added (or identify.json, group.json, … added), an optional property added, a description changed, a type widened, an enum value added, a required property made optional, additionalProperties opened, a constraint loosened.
$refs to definitions are followed, so a change to a shared definition shows at every property that uses it.
Exit codes: 0 no breaking change (or --allow-breaking); 1 breaking changes; 3 git is not installed or failed; 4 not in a git repository; 5 unknown revision; 6 the plan at BASE or in the working tree does not load.`
  static override examples = [
    {description: 'What changed since the last commit', command: '<%= config.bin %> plan diff'},
    {description: 'In CI, against the main branch', command: '<%= config.bin %> plan diff origin/main'},
    {description: 'Report breaking changes without failing', command: '<%= config.bin %> plan diff origin/main --allow-breaking'},
    {description: 'As JSON, for tools', command: '<%= config.bin %> plan diff HEAD~1 --json'},
  ]
  static override enableJsonFlag = true
  static override args = {
    base: Args.string({description: 'The git revision to compare with: a commit, branch or tag.', default: 'HEAD'}),
  }
  static override flags = {
    ...dirFlag,
    'allow-breaking': Flags.boolean({description: 'Exit 0 even when there are breaking changes.', env: 'CDP_ALLOW_BREAKING', default: false}),
  }

  async run(): Promise<PlanDiffResult> {
    const {args, flags} = await this.parse(PlanDiff)
    const result = await diffPlanRevision({dir: flags.dir, base: args.base})
    if (!this.jsonEnabled()) this.log(renderPlanDiff(result, {allowBreaking: flags['allow-breaking']}))
    // The report is the output either way (--json prints it); the exit code carries the verdict.
    if (result.breaking > 0 && !flags['allow-breaking']) process.exitCode = ExitCode.check
    return result
  }
}
