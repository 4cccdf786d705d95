import {existsSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = tempDir()))
afterEach(() => cleanup())

const source = {name: 'app', writeKey: 'app-write-key-0001'}
const library = ['stripe-webhook', 'github-webhook', 'hash-email', 'drop-internal-traffic', 'slack-webhook', 'json-api']

function readConfig(): {functions: unknown[]} {
  return JSON.parse(readFileSync(path.join(dir, 'cdp.json'), 'utf8'))
}

describe('cdp fn new', () => {
  it('writes an insert starter, its cases and its cdp.json entry, and says how to go on', async () => {
    // Given a workspace
    writeConfig(dir, {sources: [source], destinations: []})
    // When
    const result = await runCli(['fn', 'new', 'rename', '--kind', 'insert', '--dir', dir])
    // Then
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe(
      [
        `created     ${path.join(dir, 'functions', 'rename.js')}`,
        `created     ${path.join(dir, 'functions', 'rename.test.json')}`,
        `updated     ${path.join(dir, 'cdp.json')}`,
        '',
        'rename: an insert function from the insert template.',
        '',
        'Next:',
        `  cdp fn test rename --dir ${dir}  runs its cases (functions/rename.test.json)`,
        '  attach it in cdp.json with "insert": "rename" on a source (before validation and storage) or a destination (before delivery)',
        '  cdp fn run functions/rename.js --event EVENT.json  runs it once on your own input',
      ].join('\n'),
    )
    expect(readConfig()).toEqual({sources: [source], destinations: [], functions: [{name: 'rename', kind: 'insert'}]})
    const code = readFileSync(path.join(dir, 'functions', 'rename.js'), 'utf8')
    expect(code).toContain('// rename: an insert function')
    expect(code).not.toContain('{{name}}')
    expect(code).toContain('async function onTrack(event, settings)')
  })

  it('every template and starter passes `cdp fn test` as written', async () => {
    writeConfig(dir, {sources: [source]})
    for (const template of library) {
      const made = await runCli(['fn', 'new', `my-${template}`, '--from', template, '--dir', dir, '--json'])
      expect(made.exitCode, made.stderr).toBe(0)
      expect(JSON.parse(made.stdout).entry.name).toBe(`my-${template}`)
    }
    for (const kind of ['source', 'insert', 'destination']) {
      const made = await runCli(['fn', 'new', `starter-${kind}`, '--kind', kind, '--dir', dir])
      expect(made.exitCode, made.stderr).toBe(0)
    }
    // The environment variables the templates read are not set: the cases bring their own settings.
    const tested = await runCli(['fn', 'test', '--dir', dir, '--json'])
    const result = JSON.parse(tested.stdout)
    const failed = result.functions.flatMap((fn: {name: string; cases: {name: string; passed: boolean; message?: string}[]; problems: string[]; loadError?: string}) => [
      ...fn.problems.map((problem) => `${fn.name}: ${problem}`),
      ...(fn.loadError ? [`${fn.name}: ${fn.loadError}`] : []),
      ...fn.cases.filter((c) => !c.passed).map((c) => `${fn.name} / ${c.name}: ${c.message}`),
    ])
    expect(failed).toEqual([])
    expect(tested.exitCode).toBe(0)
    expect(result.functions.map((fn: {name: string; status: string}) => [fn.name, fn.status])).toEqual([...library.map((t) => [`my-${t}`, 'passed']), ['starter-source', 'passed'], ['starter-insert', 'passed'], ['starter-destination', 'passed']])
    expect(result.passed).toBeGreaterThanOrEqual(30)
  })

  it('writes a template\'s settings with secrets from the environment, and a source function\'s source', async () => {
    writeFileSync(path.join(dir, 'cdp.json'), '{\n    "sources": [{"name": "web", "writeKey": "web-write-key-0001"}],\n    "destinations": []\n}\n')
    const result = await runCli(['fn', 'new', 'stripe', '--from', 'stripe-webhook', '--dir', dir, '--json'])
    expect(result.exitCode).toBe(0)
    const entry = {name: 'stripe', kind: 'source', source: 'web', settings: {signingSecret: {env: 'STRIPE_WEBHOOK_SECRET'}, toleranceSeconds: 300}}
    expect(JSON.parse(result.stdout)).toEqual({
      name: 'stripe',
      kind: 'source',
      template: 'stripe-webhook',
      files: [
        {path: path.join(dir, 'functions', 'stripe.js'), action: 'created'},
        {path: path.join(dir, 'functions', 'stripe.test.json'), action: 'created'},
        {path: path.join(dir, 'cdp.json'), action: 'updated'},
      ],
      entry,
      notes: [
        'signingSecret is the endpoint\'s signing secret (whsec_…) in Stripe\'s dashboard; to accept unsigned requests instead, write "signingSecret": "" in cdp.json.',
        'Its messages enter as source "web" (its plan, insert function and destinations apply); change "source" in cdp.json to use another.',
        'settings.signingSecret is read from the environment variable STRIPE_WEBHOOK_SECRET: set it before `cdp dev` (the cases of `cdp fn test` bring their own).',
      ],
    })
    // The file keeps its indentation and every other field.
    const text = readFileSync(path.join(dir, 'cdp.json'), 'utf8')
    expect(text).toBe(
      JSON.stringify({sources: [{name: 'web', writeKey: 'web-write-key-0001'}], destinations: [], functions: [entry]}, null, 4) + '\n',
    )
  })

  it('refuses to overwrite a file or a function cdp.json declares', async () => {
    writeConfig(dir, {sources: [source], functions: [{name: 'taken', kind: 'insert'}]})
    const declared = await runCli(['fn', 'new', 'taken', '--kind', 'insert', '--dir', dir])
    expect(declared.exitCode).toBe(1)
    expect(declared.stderr).toBe('Error: cdp.json already declares a function named "taken" (/functions/0).\nTry: Choose another name, or edit that function.')
    mkdirSync(path.join(dir, 'functions'))
    writeFileSync(path.join(dir, 'functions', 'mine.js'), '// mine\n')
    const file = await runCli(['fn', 'new', 'mine', '--kind', 'insert', '--dir', dir])
    expect(file.exitCode).toBe(1)
    expect(file.stderr).toBe(`Error: ${path.join(dir, 'functions', 'mine.js')} already exists; cdp fn new will not overwrite it.\nTry: Choose another name, or move the file.`)
    expect(readFileSync(path.join(dir, 'functions', 'mine.js'), 'utf8')).toBe('// mine\n')
    expect(existsSync(path.join(dir, 'functions', 'mine.test.json'))).toBe(false)
    expect(readConfig().functions).toEqual([{name: 'taken', kind: 'insert'}])
  })

  it('says what is wrong with its input (exit 2)', async () => {
    writeConfig(dir, {sources: [source]})
    const cases: [string[], string][] = [
      [['x', '--from', 'nope'], 'Error: There is no function template named "nope".\nTry: Templates: stripe-webhook (source), github-webhook (source), hash-email (insert), drop-internal-traffic (insert), slack-webhook (destination), json-api (destination).'],
      [['x', '--from', 'hash-email', '--kind', 'source'], 'Error: Template hash-email makes an insert function, not a source one.\nTry: Leave out --kind (the template sets it), or choose a source template.'],
      [['x'], 'Error: Say what kind of function to write.\nTry: Pass --kind source|insert|destination, or --from TEMPLATE.'],
      [['bad name', '--kind', 'insert'], 'Error: Cannot use "bad name" as a function name.\nTry: Use up to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit.'],
    ]
    for (const [args, stderr] of cases) {
      const result = await runCli(['fn', 'new', ...args, '--dir', dir])
      expect(result.stderr).toBe(stderr)
      expect(result.exitCode).toBe(2)
    }
    expect(existsSync(path.join(dir, 'functions'))).toBe(false)
  })

  it('needs cdp init first', async () => {
    const result = await runCli(['fn', 'new', 'x', '--kind', 'insert'], {cwd: dir})
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toBe(`Error: There is no cdp.json in ${dir} to declare the function in.\nTry: Run \`cdp init\` first, or pass --dir with the workspace.`)
    const json = await runCli(['fn', 'new', 'x', '--kind', 'insert', '--json'], {cwd: dir})
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 'no_config', message: `There is no cdp.json in ${dir} to declare the function in.`, hint: 'Run `cdp init` first, or pass --dir with the workspace.'}})
  })
})
