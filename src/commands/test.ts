import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {ExitCode, UserError} from '../errors.js'
import {dirFlag} from '../flags.js'
import {createLogger, parseLogLevel} from '../log.js'
import {runCiTest, type CiTestResult} from '../services/ci-test.js'
import {githubAnnotations, renderCiTestReport} from '../ui/ci-test-report.js'

export default class Test extends BaseCommand {
  static override summary = 'Run a command against a throwaway daemon and fail when its tracking breaks the plan.'
  static override description = `Starts a daemon on a temporary store with the workspace's sources, plans and functions (no destinations unless --destinations), on a free port unless --port, and runs CMD (everything after --) with its output streamed through and these environment variables set to reach it: CDP_URL, SEGMENT_HOST, SEGMENT_API_HOST and RUDDERSTACK_DATA_PLANE_URL hold the daemon's URL (http://127.0.0.1:PORT); CDP_WRITE_KEY, SEGMENT_WRITE_KEY and RUDDERSTACK_WRITE_KEY the write key of the first source in cdp.json (or --source's; with no cdp.json, the "default" source's, new at each run).
When CMD ends it waits --settle ms for SDKs that flush on exit, stops the daemon and reports: events received per type and name, each violation (event, path, expected, actual), unplanned events, planned events never received, --expect'ed events missing. The workspace's own store and running cdp dev are left alone.
Exit codes: CMD's own when it fails (128 + N when signal N ended it); otherwise 1 on a violation (unless --allow-violations), an unplanned event (unless --allow-unplanned) or a missing --expect; 0 when all is well. 127 CMD not found, 126 CMD cannot be run, 2 bad usage, 3 the JUnit file cannot be written, 6 the plan does not load, 130 interrupted (Ctrl-C stops CMD and the daemon).
On GitHub Actions (GITHUB_ACTIONS=true) it also prints ::error annotations for what fails.`
  static override usage = ['test [--dir DIR] [--port N] [--source NAME] [--allow-violations] [--allow-unplanned] [--expect EVENT]... [--destinations] [--settle MS] [--junit FILE] [--json] -- CMD [ARGS...]']
  static override examples = [
    {description: 'Run the test suite against the plan', command: '<%= config.bin %> test -- npm test'},
    {description: 'Require two events and write a JUnit report for CI', command: '<%= config.bin %> test --expect "Order Completed" --expect "Signed Up" --junit reports/tracking.xml -- npm run e2e'},
    {description: 'Report only: violations and unplanned events do not fail', command: '<%= config.bin %> test --allow-violations --allow-unplanned -- node scripts/smoke.js'},
    {description: 'The report as JSON (CMD\'s output goes to stderr)', command: '<%= config.bin %> test --json -- node scripts/smoke.js'},
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    port: Flags.integer({char: 'p', description: 'Port of the throwaway daemon; 0 (the default) picks a free one.', default: 0, helpValue: 'N', min: 0, max: 65535}),
    source: Flags.string({description: 'The source whose write key CMD gets (default: the first in cdp.json).', helpValue: 'NAME'}),
    'allow-violations': Flags.boolean({description: 'Report plan violations without failing.', default: false}),
    'allow-unplanned': Flags.boolean({description: 'Report events the plan does not have without failing.', default: false}),
    expect: Flags.string({description: 'An event (track event, page or screen name) that must be received; repeatable.', multiple: true, helpValue: 'EVENT'}),
    destinations: Flags.boolean({description: 'Also deliver to the destinations in cdp.json (off by default: tests send no data out).', default: false}),
    settle: Flags.integer({description: 'Milliseconds to keep receiving after CMD ends, for SDKs that flush on exit.', default: 500, min: 0, helpValue: 'MS'}),
    junit: Flags.string({description: 'Also write a JUnit XML report to this file.', helpValue: 'FILE'}),
  }

  async run(): Promise<CiTestResult> {
    const {argv, flags} = await this.parse(Test)
    const [command, ...args] = argv as string[]
    if (command === undefined) {
      throw new UserError('No command to run.', {hint: 'Put it after --, e.g. `cdp test -- npm test`.', exitCode: ExitCode.usage, code: 'no_command'})
    }
    const json = this.jsonEnabled()
    // The daemon's chatter (plan loaded, each request) is not the report: warnings and errors only, unless CDP_LOG says.
    const log = createLogger({level: parseLogLevel(process.env.CDP_LOG, 'warn')})
    const result = await runCiTest({
      dir: flags.dir,
      command,
      args,
      port: flags.port,
      source: flags.source,
      allowViolations: flags['allow-violations'],
      allowUnplanned: flags['allow-unplanned'],
      expect: flags.expect ?? [],
      destinations: flags.destinations,
      settleMs: flags.settle,
      junit: flags.junit,
      commandStdout: json ? 'stderr' : 'inherit',
      log,
    })
    if (!json) this.log(renderCiTestReport(result))
    if (process.env.GITHUB_ACTIONS === 'true') for (const line of githubAnnotations(result)) process.stderr.write(line + '\n')
    process.exitCode = result.exitCode
    return result
  }
}
