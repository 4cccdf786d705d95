// How the generated client's types could be made and laid out, on the 300-event plan of
// bench/codegen.js, each in a fresh node process (its imports included, as the CLI pays them):
//
//   node bench/codegen-printers.js [--events 300] [--repeat 3]      (after `tsc -p tsconfig.build.json`)
//
//   model            cdp's own type model and printer (src/codegen/type-model.ts, print-types.ts): the whole client
//   jstt             json-schema-to-typescript over the combined schema, format off (cdp before issue 16: members at column 0)
//   jstt+prettier    the same with its format option on (prettier)
//   jstt+ts-printer  jstt's output parsed and printed again by the TypeScript compiler's printer (four-space indentation)
//
// Prints one JSON line: per variant the median seconds to import what it needs and to make the types.

import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {performance} from 'node:perf_hooks'
import {writeBenchWorkspace} from './codegen-plan.js'

const here = fileURLToPath(import.meta.url)
const dist = new URL('../dist/', import.meta.url)
const {values: args} = parseArgs({options: {events: {type: 'string', default: '300'}, repeat: {type: 'string', default: '3'}, variant: {type: 'string'}, dir: {type: 'string'}}})
const variants = ['model', 'jstt', 'jstt+prettier', 'jstt+ts-printer']

/** The one schema cdp gave json-schema-to-typescript before issue 16: every call's part, definitions declared once. */
async function combinedSchema(plan) {
  const {selfContained} = await import(new URL('plan/self-contained.js', dist))
  const {pascalCase} = await import(new URL('codegen/names.js', dist))
  const definitions = {}
  const properties = {}
  for (const [name, versions] of [...plan.events].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rule = versions.get(Math.max(...versions.keys()))
    const contained = selfContained(plan, rule)
    Object.assign(definitions, contained.definitions ?? {})
    properties[name] = {...(contained.properties ?? {type: 'object'}), title: `${pascalCase(name)}Properties`}
  }
  return {title: 'TrackingPlanCalls', type: 'object', additionalProperties: false, properties, required: Object.keys(properties), definitions}
}

async function runVariant(variant, dir) {
  const {loadPlan} = await import(new URL('plan/load.js', dist))
  const {plan} = loadPlan(path.join(dir, 'plan'))
  const start = performance.now()
  if (variant === 'model') {
    const {generateClient} = await import(new URL('codegen/generate.js', dist))
    await generateClient(plan, {target: 'node', validate: false, version: '0.0.0', planHash: 'bench'})
    return performance.now() - start
  }
  const {compile} = await import('json-schema-to-typescript')
  const schema = await combinedSchema(plan)
  const types = await compile(schema, 'TrackingPlanCalls', {bannerComment: '', format: variant === 'jstt+prettier', unreachableDefinitions: false, declareExternallyReferenced: true})
  if (variant === 'jstt+ts-printer') {
    const {default: ts} = await import('typescript')
    const source = ts.createSourceFile('index.ts', types, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
    ts.createPrinter({newLine: ts.NewLineKind.LineFeed}).printFile(source)
  }
  return performance.now() - start
}

if (args.variant) {
  console.log(JSON.stringify({seconds: (await runVariant(args.variant, args.dir)) / 1000}))
} else {
  const dir = writeBenchWorkspace(Number(args.events))
  const runs = Object.fromEntries(variants.map((variant) => [variant, []]))
  for (let i = 0; i < Number(args.repeat); i++) {
    for (const variant of variants) {
      const out = execFileSync(process.execPath, [here, '--variant', variant, '--dir', dir], {encoding: 'utf8'})
      runs[variant].push(JSON.parse(out).seconds)
    }
  }
  rmSync(dir, {recursive: true, force: true})
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  console.log(JSON.stringify({events: Number(args.events), ...Object.fromEntries(variants.map((variant) => [variant, {seconds: median(runs[variant]), runs: runs[variant]}]))}))
}
