// Validations per second with the compiled E-commerce plan (test/fixtures/ecommerce), in its own
// process, run by bench/run.js:
//
//   node bench/validation.js [--duration 2]
//
// Prints one JSON line: checks/s of a valid "Product Added", of one with two violations, and of
// an unplanned event, each through CompiledPlan.check as the pipeline calls it.

import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {performance} from 'node:perf_hooks'
import {compilePlan} from '../dist/plan/compile.js'
import {loadPlan} from '../dist/plan/load.js'
import {productAdded} from './payload.js'

const {values: args} = parseArgs({options: {duration: {type: 'string', default: '2'}}})
const durationMs = Number(args.duration) * 1000

const {plan, problems} = loadPlan(fileURLToPath(new URL('../test/fixtures/ecommerce/plan', import.meta.url)))
if (problems.length > 0) throw new Error(`the benchmark plan has problems: ${JSON.stringify(problems)}`)
const {compiled} = compilePlan(plan)

const valid = {...productAdded('m-1'), context: {}, integrations: {}, receivedAt: new Date().toISOString()}
valid.properties = {...valid.properties, cart_id: 'c-1'}
const invalid = {...valid, properties: {...valid.properties, price: '18.99', quantity: 0}}
const unplanned = {...valid, event: 'Product Teleported'}

function rate(message, expectedViolations) {
  const found = compiled.check(message).length
  if (found !== expectedViolations) throw new Error(`expected ${expectedViolations} violations, found ${found}`)
  for (let i = 0; i < 20_000; i++) compiled.check(message)
  let n = 0
  const start = performance.now()
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 1000; i++) compiled.check(message)
    n += 1000
  }
  return n / ((performance.now() - start) / 1000)
}

console.log(JSON.stringify({validPerSec: rate(valid, 0), invalidPerSec: rate(invalid, 2), unplannedPerSec: rate(unplanned, 1)}))
