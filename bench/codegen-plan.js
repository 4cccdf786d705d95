// The benchmark workspace of bench/codegen.js and bench/codegen-printers.js: a cdp.json and a plan
// of N events (9 properties each: strings, integers, numbers, a pattern, an enum, a date-time,
// arrays, a shared $ref'd item, a nested object), in a new temporary folder.

import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const objects = ['Product', 'Order', 'Cart', 'Coupon', 'Video', 'Article', 'Account', 'Invite', 'Report', 'Payment']
const actions = ['Viewed', 'Added', 'Removed', 'Shared', 'Completed', 'Started', 'Updated', 'Deleted', 'Played', 'Searched']

/** Writes the workspace and returns its folder (the plan is in plan/). */
export function writeBenchWorkspace(eventCount) {
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
  return dir
}
