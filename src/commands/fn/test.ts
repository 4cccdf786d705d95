import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {runFunctionTests, testExitCode, type FnTestResult} from '../../services/fn-test.js'
import {renderFnTestReport} from '../../ui/fn-test-report.js'

export default class FnTest extends BaseCommand {
  static override summary = 'Run functions against their test cases (functions/NAME.test.json).'
  static override description = `Each case is {"name", "input", "settings"?, "fetch"?, "expect"}: input is the event (a list for a batch) or, for a source function, the request {"body", "headers"?}; settings are merged over cdp.json's; fetch lists canned answers [{"url", "method"?, "status", "body"?, "headers"?}] so no case reaches the network (a request none answers, or an answer never asked for, fails the case); expect is {"output": …} (insert: the event(s) passed on; source: the emitted messages [{"type", "payload"}]; destination: each event's outcome), {"error": "ClassName"}, {"dropped": true} (insert) or {"delivered": true} (destination).
Prints ✓ or ✗ per case, with a diff of expected and actual on a failure, and lists functions without a test file. Settings read from environment variables that are not set are left out (the cases bring their own).
Exit codes: 0 every case passed, 1 a case failed (or a test file is broken, or a function does not load), 2 bad input (no cdp.json, an unknown function), 3 the JUnit report cannot be written.`
  static override examples = [
    {description: 'Every function with tests', command: '<%= config.bin %> fn test'},
    {description: 'Two functions, with a JUnit report for CI', command: '<%= config.bin %> fn test hash-email crm --junit reports/functions.xml'},
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override args = {
    names: Args.string({description: 'Functions to test (default: every function cdp.json declares).'}),
  }
  static override flags = {
    ...dirFlag,
    junit: Flags.string({description: 'Also write a JUnit XML report to this file.', helpValue: 'FILE'}),
  }

  async run(): Promise<FnTestResult> {
    const {argv, flags} = await this.parse(FnTest)
    const result = await runFunctionTests({dir: flags.dir, names: argv as string[], junit: flags.junit})
    if (!this.jsonEnabled()) this.log(renderFnTestReport(result))
    process.exitCode = testExitCode(result)
    return result
  }
}
