import {cpSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {fixturePath} from '../helpers/daemon.js'
import {tempDir} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({dir, cleanup} = tempDir())
  cpSync(fixturePath('ecommerce'), dir, {recursive: true})
})
afterEach(() => cleanup())

function writePlanFile(relative: string, content: unknown) {
  const file = path.join(dir, 'plan', relative)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return file
}

describe('cdp plan validate', () => {
  it('passes the E-commerce plan', async () => {
    const result = await runCli(['plan', 'validate', '--dir', dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe(`${path.join(dir, 'plan')}: 7 event rules\nvalid: 0 errors, 0 warnings`)
  })

  it.each([
    ['invalid JSON', 'events/broken.json', '{"name": "Broken",', /events\/broken\.json: not valid JSON: /],
    ['invalid JSON Schema', 'events/bad-type.json', {name: 'Bad Type', description: 'd', properties: {type: 'object', properties: {price: {type: 'numbr'}}}}, /events\/bad-type\.json \/properties\/properties\/price\/type: invalid JSON Schema: \/properties\/properties\/price\/type must be equal to one of the allowed values/],
    ['an unresolved $ref', 'events/bad-ref.json', {name: 'Bad Ref', description: 'd', properties: {type: 'object', properties: {p: {$ref: '../definitions.json#/definitions/nothing'}}}}, /events\/bad-ref\.json: unresolved \$ref \.\.\/definitions\.json#\/definitions\/nothing/],
    ['two files for one event', 'events/order-completed-copy.json', {name: 'Order Completed', description: 'd', properties: {type: 'object'}}, /events\/order-completed(-copy)?\.json \/name: "Order Completed" version 1 is also defined in events\/order-completed(-copy)?\.json/],
    ['minimum above maximum', 'events/contradiction.json', {name: 'Contradiction Found', description: 'd', properties: {type: 'object', properties: {n: {type: 'number', minimum: 5, maximum: 1}}}}, /events\/contradiction\.json \/properties\/properties\/n: minimum 5 is above maximum 1: no value can pass/],
    ['an unknown format', 'events/format.json', {name: 'Format Checked', description: 'd', properties: {type: 'object', properties: {mail: {type: 'string', format: 'emial'}}}}, /events\/format\.json \/properties\/properties\/mail\/format: unknown format "emial"/],
    ['an event file without a name', 'events/nameless.json', {properties: {type: 'object'}}, /events\/nameless\.json \/name: missing "name"/],
  ])('%s is an error that names the file; exit 1', async (_label, file, content, expected) => {
    writePlanFile(file, content)
    const result = await runCli(['plan', 'validate', '--dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/^ {2}error {3}/m)
    expect(result.stdout).toMatch(expected)
    expect(result.stdout).toContain(file)
  })

  it('warns about a property with no type, a missing description and naming conventions; --strict fails on them', async () => {
    writePlanFile('events/signed-up.json', {name: 'signed_up', properties: {type: 'object', properties: {Plan: {}}}})
    const result = await runCli(['plan', 'validate', '--dir', dir])
    expect(result.exitCode).toBe(0)
    const file = path.join(dir, 'plan', 'events', 'signed-up.json')
    expect(result.stdout).toContain(`warning ${file} /description: event "signed_up" has no description`)
    expect(result.stdout).toContain(`warning ${file} /name: event name "signed_up" is not Object Action, the convention in cdp.json`)
    expect(result.stdout).toContain(`warning ${file} /properties/properties/Plan: property "Plan" has no type: any value passes`)
    expect(result.stdout).toContain(`warning ${file} /properties/properties/Plan: property "Plan" is not snake_case, the convention in cdp.json`)
    expect(result.stdout).toMatch(/0 errors, 4 warnings$/)
    const strict = await runCli(['plan', 'validate', '--dir', dir, '--strict'])
    expect(strict.exitCode).toBe(1)
  })

  it('--json reports every problem with its file and severity', async () => {
    writePlanFile('events/broken.json', '{')
    const result = await runCli(['plan', 'validate', '--dir', dir, '--json'])
    expect(result.exitCode).toBe(1)
    const [report] = JSON.parse(result.stdout)
    expect(report).toMatchObject({plan: path.join(dir, 'plan'), events: 7, errors: 1, warnings: 0, ok: false})
    expect(report.problems[0]).toMatchObject({severity: 'error', file: 'events/broken.json', path: path.join(dir, 'plan', 'events', 'broken.json')})
  })
})
