import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {codegenLanguages, type CodegenLanguage, type CodegenTarget} from '../../codegen/generate.js'
import {ExitCode} from '../../errors.js'
import {dirFlag} from '../../flags.js'
import {runCodegen, type CodegenResult} from '../../services/codegen.js'
import {renderCodegenReport} from '../../ui/codegen-report.js'

export default class PlanCodegen extends BaseCommand {
  static override summary = 'Generate a typed tracking client (TypeScript, or JavaScript with JSDoc types) from the plan (--check in CI).'
  static override description = `Writes <out>/index.ts (or <out>/index.js with --language js): createTracker(analytics) returns one function per event (camelCase of its name) taking its typed properties, plus identify() and group() with typed traits, with JSDoc from the plan's descriptions. Required properties are required, enums are unions, $refs resolve. Target node wraps an @segment/analytics-node instance, browser an @segment/analytics-next one. Calls add context.cdp (generator version, plan hash).
With --language js the client is plain JavaScript (ESM) for apps without a TypeScript build: the same types as JSDoc typedefs, so an editor or tsc --checkJs reports the same errors as with the TypeScript client.
With --validate the client also checks every call at run time (ajv, with the plan's patterns matched in linear time by re2js, as cdp dev does) and hands violations to onViolation (default: warn; throw under NODE_ENV=test); without it the client needs nothing beyond the analytics library.
The output is byte-identical for the same plan. Only files that start with cdp's header are overwritten. --check writes nothing: it exits 1 and names stale or missing files.`
  static override examples = [
    {description: 'Generate the node client into ./analytics', command: '<%= config.bin %> plan codegen'},
    {description: 'A browser client with run-time checks', command: '<%= config.bin %> plan codegen --target browser --validate --out src/analytics'},
    {description: 'A plain JavaScript client (ESM, JSDoc types)', command: '<%= config.bin %> plan codegen --language js'},
    {description: 'In CI: fail when the client is not current', command: '<%= config.bin %> plan codegen --check'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    out: Flags.string({char: 'o', description: 'Output folder, relative to the workspace.', default: 'analytics'}),
    target: Flags.string({description: 'The analytics library the client wraps.', options: ['node', 'browser'], default: 'node'}),
    language: Flags.string({description: 'The language of the client: ts (TypeScript) or js (JavaScript with JSDoc types).', options: [...codegenLanguages], default: 'ts'}),
    validate: Flags.boolean({description: 'Also check every call against the plan at run time (needs ajv, ajv-formats and re2js).', default: false}),
    check: Flags.boolean({description: 'Write nothing; exit 1 if the generated files are stale or missing.', default: false}),
  }

  async run(): Promise<CodegenResult> {
    const {flags} = await this.parse(PlanCodegen)
    const result = await runCodegen({dir: flags.dir, out: flags.out, target: flags.target as CodegenTarget, language: flags.language as CodegenLanguage, validate: flags.validate, check: flags.check})
    if (!this.jsonEnabled()) this.log(renderCodegenReport(result, {check: flags.check}))
    if (!result.upToDate) process.exitCode = ExitCode.check
    return result
  }
}
