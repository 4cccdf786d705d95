// Codegen time for a 300-event plan (generated here), run by bench/run.js or alone:
//
//   node bench/codegen.js [--events 300] [--repeat 3] [--language ts|js] [--baseline DIR]
//
// Times the real CLI as a user runs it (`node bin/run.js plan codegen`, then `--check`), process
// start included, and prints one JSON line with the medians in seconds. --baseline DIR times a
// built checkout of an earlier cdp too, in turn with this one on the same plan, so that before and
// after come from the same run of a shared, noisy machine (its figures under `baseline`).

import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {performance} from 'node:perf_hooks'
import {writeBenchWorkspace} from './codegen-plan.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({options: {events: {type: 'string', default: '300'}, repeat: {type: 'string', default: '3'}, language: {type: 'string', default: 'ts'}, baseline: {type: 'string'}}})
const eventCount = Number(args.events)

const dir = writeBenchWorkspace(eventCount)

function timeCli(checkout, extra) {
  const start = performance.now()
  execFileSync(process.execPath, [path.join(checkout, 'bin', 'run.js'), 'plan', 'codegen', '--dir', dir, ...extra], {stdio: 'ignore', env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  return (performance.now() - start) / 1000
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const checkouts = {current: {root, out: 'analytics', extra: args.language === 'ts' ? [] : ['--language', args.language]}}
// The baseline writes its own folder: each --check compares with what that version wrote.
if (args.baseline) checkouts.baseline = {root: path.resolve(args.baseline), out: 'analytics-baseline', extra: []}
const runs = Object.fromEntries(Object.keys(checkouts).map((name) => [name, {generate: [], check: []}]))
for (let i = 0; i < Number(args.repeat); i++) {
  for (const [name, {root: checkout, out, extra}] of Object.entries(checkouts)) {
    rmSync(path.join(dir, out), {recursive: true, force: true})
    runs[name].generate.push(timeCli(checkout, ['--out', out, ...extra]))
    runs[name].check.push(timeCli(checkout, ['--out', out, ...extra, '--check']))
  }
}
const help = median([0, 1, 2].map(() => {
  const start = performance.now()
  execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), '--version'], {stdio: 'ignore'})
  return (performance.now() - start) / 1000
}))
rmSync(dir, {recursive: true, force: true})
const summary = ({generate, check}) => ({generateSeconds: median(generate), checkSeconds: median(check), generateRuns: generate, checkRuns: check})
console.log(JSON.stringify({events: eventCount, language: args.language, ...summary(runs.current), cliStartSeconds: help, ...(runs.baseline ? {baseline: {dir: checkouts.baseline.root, ...summary(runs.baseline)}} : {})}))
