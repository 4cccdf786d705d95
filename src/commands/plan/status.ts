import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {dirFlag} from '../../flags.js'
import {planStatus, type PlanStatusResult} from '../../services/plan-status.js'
import {renderPlanStatus} from '../../ui/plan-status-report.js'

export default class PlanStatus extends BaseCommand {
  static override summary = 'Find where the code sends each planned event, and planned events no code sends (CI).'
  static override description = `Scans the source for tracking calls, parsed with the TypeScript compiler (a call in a comment or a string is no call):
- calls of the typed client's functions (the names cdp plan codegen gives each event: tracker.orderCompleted(…)). In a file that imports the generated module (--out) every call of such a name counts; elsewhere only calls on a receiver named like a tracker (tracker, analytics, typewriter, ampli, segment, rudderanalytics, …);
- raw SDK track calls with a literal event name (or a choice between literals, ok ? 'Order Completed' : 'Order Failed'): analytics.track('Order Completed', …), client.track({event: 'Order Completed', …}) (analytics-node), rudderanalytics.track(…), Analytics.track(…);
- track calls whose event name is computed (analytics.track(name)): reported with file:line, never guessed.
The files: by default what git lists in the workspace (tracked, and untracked files it does not ignore; outside a git repository every file below the workspace), *.ts, *.tsx, *.js, *.jsx, *.mjs and *.cjs, without node_modules and the codegen output folder; --src globs replace that set. Files that start with cdp codegen's header are skipped either way.
Exit codes: 0 every planned event has a call site and no unplanned event is called; 1 a planned event has no call site (unless --allow-missing) or an event the plan does not have is called.`
  static override examples = [
    {description: 'Every planned event and where it is sent', command: '<%= config.bin %> plan status'},
    {description: 'Only the app\'s source', command: "<%= config.bin %> plan status --src 'src/**/*.{ts,tsx}' --src 'server/**/*.js'"},
    {description: 'In CI while events are still being added: fail only on unplanned events', command: '<%= config.bin %> plan status --allow-missing'},
    {description: 'As JSON, for tools', command: '<%= config.bin %> plan status --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    src: Flags.string({
      description: 'Scan the files matching this glob, relative to the workspace (repeatable; **, *, ?, {a,b}, [abc]). Replaces the default set.',
      multiple: true,
      helpValue: 'GLOB',
    }),
    out: Flags.string({char: 'o', description: 'The codegen output folder, relative to the workspace: skipped, and imports of it mark a file as using the client.', default: 'analytics', helpValue: 'DIR'}),
    'allow-missing': Flags.boolean({description: 'Exit 0 even when a planned event has no call site.', env: 'CDP_ALLOW_MISSING', default: false}),
  }

  async run(): Promise<PlanStatusResult> {
    const {flags} = await this.parse(PlanStatus)
    const result = await planStatus({dir: flags.dir, src: flags.src ?? [], out: flags.out, allowMissing: flags['allow-missing']})
    if (!this.jsonEnabled()) this.log(renderPlanStatus(result, {allowMissing: flags['allow-missing']}))
    // The report is the output either way (--json prints it); the exit code carries the verdict.
    if (!result.ok) process.exitCode = ExitCode.check
    return result
  }
}
