import {mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {tempDir, writeConfig} from '../helpers/workspace.js'
import {orderCompleted, writeBasePlan} from './base-plan.js'

type Json = Record<string, any>

/** A real git repository in a temporary folder, with a plan in it. */
class Repo {
  readonly dir: string
  readonly cleanup: () => void

  constructor() {
    ;({dir: this.dir, cleanup: this.cleanup} = tempDir('cdp-diff-'))
  }

  async init(): Promise<this> {
    await this.git('init', '-q', '-b', 'main')
    await this.git('config', 'user.name', 'Test')
    await this.git('config', 'user.email', 'test@example.com')
    await this.git('config', 'commit.gpgsign', 'false')
    return this
  }

  async git(...args: string[]): Promise<string> {
    return (await execa('git', args, {cwd: this.dir, env: {LC_ALL: 'C'}})).stdout
  }

  async commit(message: string): Promise<string> {
    await this.git('add', '-A')
    await this.git('commit', '-q', '-m', message)
    return this.git('rev-parse', 'HEAD')
  }

  path(relative: string, root = 'plan'): string {
    return path.join(this.dir, root, relative)
  }

  write(relative: string, content: unknown, root = 'plan'): void {
    const file = this.path(relative, root)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }

  edit(relative: string, edit: (document: Json) => void, root = 'plan'): void {
    const document = JSON.parse(readFileSync(this.path(relative, root), 'utf8'))
    edit(document)
    this.write(relative, document, root)
  }

  remove(relative: string): void {
    rmSync(this.path(relative), {recursive: true})
  }

  diff(...args: string[]) {
    return runCli(['plan', 'diff', '--dir', this.dir, ...args])
  }
}

const repos: Repo[] = []
afterAll(() => {
  for (const repo of repos) repo.cleanup()
})

/** A new repository, without a commit. */
async function emptyRepo(): Promise<Repo> {
  const repo = new Repo()
  repos.push(repo)
  return repo.init()
}

/** Writes and commits a plan: one event, shared definitions, identify and group traits. */
async function commitPlan(repo: Repo): Promise<Repo> {
  writeBasePlan((relative, json) => repo.write(relative, json))
  await repo.commit('plan')
  return repo
}

/** A repository with the plan committed. */
const plannedRepo = async () => commitPlan(await emptyRepo())

/** The line the report prints for a change. */
const line = (kind: string, message: string) => `  ${kind.padEnd(28)} ${message}`

type Edit = (repo: Repo) => void | Promise<void>

// Each kind of change is a table test on the pure diffPlans (diff-table.test.ts). These few go
// through git and the CLI: a base plan read from a commit, shared definitions at that commit, and
// the line and exit code each verdict gives. Each case has its own repository, so they run two at
// a time: most of the time is the CLI starting.
describe.concurrent('cdp plan diff: a change through git and the CLI', () => {
  const breaking: [string, string, Edit, string][] = [
    [
      'event_version_removed',
      'an event version removed',
      async (r) => {
        r.write('events/order-completed-v2.json', {...orderCompleted(), version: 2})
        await r.commit('version 2')
        r.remove('events/order-completed-v2.json')
      },
      'Version 2 of "Order Completed" was removed; messages that ask for it are checked against the oldest version left.',
    ],
    [
      'constraint_changed',
      'a pattern changed in a shared definition',
      (r) => r.edit('definitions.json', (d) => (d.definitions.currency.pattern = '^[A-Z]{3,4}$')),
      'The pattern of properties.currency in "Order Completed" changed from "^[A-Z]{3}$" to "^[A-Z]{3,4}$"; cdp cannot tell whether it accepts more or fewer values, so it counts as breaking.',
    ],
    ['rule_removed', 'group.json removed', (r) => r.remove('group.json'), 'group.json was removed: group calls are no longer checked.'],
  ]

  it.each(breaking)('%s: %s is breaking; exit 1', async (kind, _label, edit, message) => {
    const repo = await plannedRepo()
    await edit(repo)
    const result = await repo.diff()
    expect(result.exitCode).toBe(1)
    const lines = result.stdout.split('\n')
    expect(lines).toContain('Breaking (1):')
    expect(lines).toContain(line(kind, message))
    expect(lines.some((l) => l.startsWith('Safe ('))).toBe(false)
    expect(lines.at(-1)).toBe('1 breaking change, 0 safe changes. Pass --allow-breaking to accept them.')
  })

  const safe: [string, string, Edit, string][] = [
    ['event_added', 'an event added', (r) => r.write('events/signed-up.json', {name: 'Signed Up', properties: {type: 'object'}}), 'Event "Signed Up" was added.'],
    ['constraint_loosened', 'a pattern removed from a shared definition', (r) => r.edit('definitions.json', (d) => delete d.definitions.currency.pattern), 'The pattern of properties.currency in "Order Completed" was removed (it was "^[A-Z]{3}$").'],
  ]

  it.each(safe)('%s: %s is safe; exit 0', async (kind, _label, edit, message) => {
    const repo = await plannedRepo()
    await edit(repo)
    const result = await repo.diff()
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines.some((l) => l.startsWith('Breaking ('))).toBe(false)
    expect(lines).toContain('Safe (1):')
    expect(lines).toContain(line(kind, message))
    expect(lines.at(-1)).toBe('No breaking changes; 1 safe change.')
  })
})

describe.concurrent('cdp plan diff: report, JSON and verdict', () => {
  it('groups breaking changes first, then safe ones, under the plan folder and revision', async () => {
    const repo = await plannedRepo()
    repo.edit('events/order-completed.json', (d) => {
      d.properties.properties.payment.enum = ['card', 'gift_card']
      d.properties.properties.tax = {type: 'number'}
      delete d.properties.properties.coupon
    })
    const commitId = await repo.git('rev-parse', '--short=7', 'HEAD')
    const result = await repo.diff()
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toBe(
      [
        `${path.join(repo.dir, 'plan')}: HEAD (${commitId}) → working tree`,
        'Breaking (2):',
        line('property_removed', 'properties.coupon was removed from "Order Completed".'),
        line('enum_value_removed', 'properties.payment in "Order Completed" no longer accepts "paypal".'),
        'Safe (2):',
        line('enum_value_added', 'properties.payment in "Order Completed" now also accepts "gift_card".'),
        line('property_added', 'properties.tax was added to "Order Completed" as an optional property.'),
        '',
        '2 breaking changes, 2 safe changes. Pass --allow-breaking to accept them.',
      ].join('\n'),
    )
  })

  it('--json prints {base, commit, plans, changes, breaking, safe}, each change with kind, breaking, event, path, before, after and message', async () => {
    const repo = await plannedRepo()
    repo.edit('events/order-completed.json', (d) => {
      d.properties.properties.total.type = 'integer'
      d.properties.properties.tax = {type: 'number'}
    })
    const result = await repo.diff('--json')
    expect(result.exitCode).toBe(1)
    const plan = path.join(repo.dir, 'plan')
    expect(JSON.parse(result.stdout)).toEqual({
      base: 'HEAD',
      commit: await repo.git('rev-parse', 'HEAD'),
      plans: [plan],
      changes: [
        {
          plan,
          kind: 'type_narrowed',
          breaking: true,
          event: 'Order Completed',
          version: 1,
          path: 'properties.total',
          before: 'number',
          after: 'integer',
          message: 'The type of properties.total in "Order Completed" narrowed from number to integer.',
        },
        {
          plan,
          kind: 'property_added',
          breaking: false,
          event: 'Order Completed',
          version: 1,
          path: 'properties.tax',
          before: null,
          after: {type: 'number'},
          message: 'properties.tax was added to "Order Completed" as an optional property.',
        },
      ],
      breaking: 1,
      safe: 1,
    })
  })

  it('--json names identify and group changes by "identify" and "group", without a version', async () => {
    const repo = await plannedRepo()
    repo.edit('identify.json', (d) => delete d.traits.properties.email)
    const result = await repo.diff('--json')
    expect(result.exitCode).toBe(1)
    expect(JSON.parse(result.stdout).changes).toEqual([
      {
        plan: path.join(repo.dir, 'plan'),
        kind: 'property_removed',
        breaking: true,
        event: 'identify',
        path: 'traits.email',
        before: {type: 'string'},
        after: null,
        message: 'traits.email was removed from identify.json.',
      },
    ])
  })

  it('--allow-breaking reports breaking changes and exits 0', async () => {
    const repo = await plannedRepo()
    repo.remove('events/order-completed.json')
    const result = await repo.diff('--allow-breaking')
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(line('event_removed', 'Event "Order Completed" was removed.'))
    expect(result.stdout.split('\n').at(-1)).toBe('1 breaking change (allowed by --allow-breaking), 0 safe changes.')
    const json = await repo.diff('--allow-breaking', '--json')
    expect(json.exitCode).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({breaking: 1, safe: 0})
  })

  it('no changes: says so and exits 0; moving an event to another file is no change', async () => {
    const repo = await plannedRepo()
    const commitId = await repo.git('rev-parse', '--short=7', 'HEAD')
    const unchanged = await repo.diff()
    expect(unchanged.exitCode).toBe(0)
    expect(unchanged.stdout).toBe(`No changes to the plan since HEAD (${commitId}).`)

    const content = readFileSync(repo.path('events/order-completed.json'), 'utf8')
    repo.remove('events/order-completed.json')
    repo.write('events/orders.json', content)
    const moved = await repo.diff('--json')
    expect(moved.exitCode).toBe(0)
    expect(JSON.parse(moved.stdout)).toMatchObject({changes: [], breaking: 0, safe: 0})
  })

  it('BASE can be any revision: compares with an older commit, not just HEAD', async () => {
    const repo = await plannedRepo()
    repo.edit('events/order-completed.json', (d) => delete d.properties.properties.coupon)
    await repo.commit('drop coupon')
    expect((await repo.diff()).stdout).toMatch(/^No changes to the plan since HEAD/)
    const result = await repo.diff('HEAD~1')
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain(line('property_removed', 'properties.coupon was removed from "Order Completed".'))
  })

  it('a plan folder that is not at BASE: every rule is added', async () => {
    const repo = await emptyRepo()
    repo.write('README.md', 'not a plan yet')
    await repo.commit('no plan yet')
    await commitPlan(repo)
    const result = await repo.diff('HEAD~1', '--json')
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).changes.map((c: Json) => `${c.kind} ${c.event}`)).toEqual(['event_added Order Completed', 'rule_added identify', 'rule_added group'])
  })

  it('a workspace in a subfolder of the repository, with one plan folder per source: diffs each', async () => {
    const repo = await emptyRepo()
    const workspace = path.join(repo.dir, 'apps', 'shop')
    writeConfig(workspace, {sources: [{name: 'web', writeKey: 'web-key-0001', plan: 'plans/web'}, {name: 'server', writeKey: 'server-key-0002', plan: 'plans/server'}]})
    repo.write('events/a.json', {name: 'Web Opened', properties: {type: 'object', properties: {x: {type: 'string'}}}}, 'apps/shop/plans/web')
    repo.write('events/b.json', {name: 'Server Started', properties: {type: 'object', properties: {y: {type: 'string'}}}}, 'apps/shop/plans/server')
    await repo.commit('two plans')
    repo.edit('events/a.json', (d) => (d.properties.properties.x.type = 'number'), 'apps/shop/plans/web')
    repo.edit('events/b.json', (d) => (d.properties.properties.z = {type: 'string'}), 'apps/shop/plans/server')
    const result = await runCli(['plan', 'diff', '--json'], {cwd: workspace})
    expect(result.exitCode).toBe(1)
    const report = JSON.parse(result.stdout)
    const web = path.join(workspace, 'plans', 'web')
    const server = path.join(workspace, 'plans', 'server')
    expect(report.plans).toEqual([web, server])
    expect(report.changes.map((c: Json) => [c.plan, c.kind, c.event, c.path])).toEqual([
      [web, 'type_changed', 'Web Opened', 'properties.x'],
      [server, 'property_added', 'Server Started', 'properties.z'],
    ])
  })
})

describe.concurrent('cdp plan diff: errors', () => {
  it('outside a git repository: exit 4, says so', async () => {
    const repo = await emptyRepo()
    rmSync(path.join(repo.dir, '.git'), {recursive: true})
    repo.write('events/a.json', {name: 'A Happened', properties: {type: 'object'}})
    // In case the temporary folder is itself inside a repository.
    const env = {GIT_CEILING_DIRECTORIES: path.dirname(repo.dir)}
    const result = await runCli(['plan', 'diff', '--dir', repo.dir], {env})
    expect(result.exitCode).toBe(4)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`Error: ${repo.dir} is not in a git repository, so there is no earlier plan to compare with.`)
    expect(result.stderr).toContain('Try: Run cdp plan diff inside a git clone')
    const json = await runCli(['plan', 'diff', '--dir', repo.dir, '--json'], {env})
    expect(json.exitCode).toBe(4)
    expect(JSON.parse(json.stdout).error).toMatchObject({code: 'not_a_git_repository'})
  })

  it('an unknown revision: exit 5, names it', async () => {
    const repo = await plannedRepo()
    const result = await repo.diff('no-such-branch')
    expect(result.exitCode).toBe(5)
    expect(result.stderr).toContain(`Error: Unknown revision "no-such-branch": git knows no commit by that name in `)
    expect(result.stderr).toContain('Try: Name a commit, branch or tag that exists')
  })

  it('a repository without a commit: HEAD is an unknown revision (exit 5)', async () => {
    const repo = await emptyRepo()
    repo.write('events/a.json', {name: 'A Happened', properties: {type: 'object'}})
    const result = await repo.diff()
    expect(result.exitCode).toBe(5)
    expect(result.stderr).toContain('Error: Unknown revision "HEAD"')
  })

  it('a plan file that does not load at HEAD: exit 6, names the file at the revision and the problem', async () => {
    const repo = await plannedRepo()
    repo.write('events/broken.json', '{"name": "Broken",')
    await repo.commit('broken')
    repo.remove('events/broken.json')
    const result = await repo.diff()
    expect(result.exitCode).toBe(6)
    expect(result.stderr).toContain('Error: The plan at HEAD does not load:\n  HEAD:plan/events/broken.json: not valid JSON: ')
    expect(result.stderr).toContain('Try: Compare with a revision where the plan loads')
    const json = await repo.diff('--json')
    expect(json.exitCode).toBe(6)
    expect(JSON.parse(json.stdout).error).toMatchObject({code: 'invalid_plan'})
  })

  it('a plan at HEAD that does not compile (an unresolved $ref): exit 6', async () => {
    const repo = await plannedRepo()
    repo.edit('events/order-completed.json', (d) => (d.properties.properties.coupon = {$ref: '../definitions.json#/definitions/nothing'}))
    await repo.commit('bad ref')
    repo.edit('events/order-completed.json', (d) => (d.properties.properties.coupon = {type: 'string'}))
    const result = await repo.diff()
    expect(result.exitCode).toBe(6)
    expect(result.stderr).toContain('HEAD:plan/events/order-completed.json: unresolved $ref ../definitions.json#/definitions/nothing')
  })

  it('a plan file that does not load in the working tree: exit 6, names the file and the problem', async () => {
    const repo = await plannedRepo()
    repo.write('events/nameless.json', {properties: {type: 'object'}})
    const result = await repo.diff()
    expect(result.exitCode).toBe(6)
    expect(result.stderr).toContain(`Error: The plan in ${path.join(repo.dir, 'plan')} does not load:\n  ${repo.path('events/nameless.json')} /name: missing "name"`)
    expect(result.stderr).toContain('Try: Run `cdp plan validate` to see every problem')
  })

  it('git not installed: exit 3, says so', async () => {
    const repo = await plannedRepo()
    // A PATH with node on it and no git.
    const bin = path.join(repo.dir, 'bin-without-git')
    mkdirSync(bin)
    symlinkSync(process.execPath, path.join(bin, 'node'))
    const result = await runCli(['plan', 'diff', '--dir', repo.dir], {env: {PATH: bin}})
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toContain('Error: git is not installed (or not on PATH)')
    expect(result.stderr).toContain('Try: Install git')
  })
})
