// Codegen time for a 300-event plan (generated here), run by bench/run.js or alone:
//
//   node bench/codegen.js [--events 300] [--repeat 3]
//
// Times the real CLI as a user runs it (`node bin/run.js plan codegen`, then `--check`), process
// start included, and prints one JSON line with the medians in seconds.

import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {performance} from 'node:perf_hooks'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({options: {events: {type: 'string', default: '300'}, repeat: {type: 'string', default: '3'}}})
const eventCount = Number(args.events)

const objects = ['Product', 'Order', 'Cart', 'Coupon', 'Video', 'Article', 'Account', 'Invite', 'Report', 'Payment']
const actions = ['Viewed', 'Added', 'Removed', 'Shared', 'Completed', 'Started', 'Updated', 'Deleted', 'Played', 'Searched']

const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-codegen-'))
mkdirSync(path.join(dir, 'plan', 'events'), {recursive: true})
writeFileSync(path.join(dir, 'cdp.json'), JSON.stringify({sources: [{name: 'bench', writeKey: 'bench-write-key'}]}))
writeFileSync(path.join(dir, 'plan', 'definitions.json'), JSON.stringify({definitions: {
  item: {type: 'object', properties: {item_id: {type: 'string'}, price: {type: 'number', minimum: 0}, quantity: {type: 'integer', minimum: 1}}, required: ['item_id']},
}}))
for (let i = 0; i < eventCount; i++) {
  const name = `${objects[i % 10]} ${actions[Math.floor(i / 10) % 10]} ${Math.floor(i / 100) + 1}`
  writeFileSync(path.join(dir, 'plan', 'events', `event-${i}.json`), JSON.stringify({
    name,
    description: `Benchmark event ${i}.`,
    properties: {
      type: 'object',
      properties: {
        id: {type: 'string', description: 'Id of the thing'},
        count: {type: 'integer', minimum: 0},
        amount: {type: 'number'},
        currency: {type: 'string', pattern: '^[A-Z]{3}$'},
        channel: {type: 'string', enum: ['web', 'ios', 'android']},
        at: {type: 'string', format: 'date-time'},
        flags: {type: 'array', items: {type: 'string'}},
        items: {type: 'array', items: {$ref: '../definitions.json#/definitions/item'}},
        meta: {type: 'object', properties: {source: {type: 'string'}, campaign: {type: 'string'}}},
      },
      required: ['id', 'channel'],
    },
  }))
}

function timeCli(extra) {
  const start = performance.now()
  execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'plan', 'codegen', '--dir', dir, ...extra], {stdio: 'ignore', env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  return (performance.now() - start) / 1000
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const generate = []
const check = []
for (let i = 0; i < Number(args.repeat); i++) {
  rmSync(path.join(dir, 'analytics'), {recursive: true, force: true})
  generate.push(timeCli([]))
  check.push(timeCli(['--check']))
}
const help = median([0, 1, 2].map(() => {
  const start = performance.now()
  execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), '--version'], {stdio: 'ignore'})
  return (performance.now() - start) / 1000
}))
rmSync(dir, {recursive: true, force: true})
console.log(JSON.stringify({events: eventCount, generateSeconds: median(generate), checkSeconds: median(check), cliStartSeconds: help, generateRuns: generate, checkRuns: check}))
