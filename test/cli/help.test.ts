import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {binPath, runCli} from '../helpers/cli.js'

const commandsDir = fileURLToPath(new URL('../../src/commands/', import.meta.url))
/** Command ids as typed ("plan validate"), from the files under src/commands. */
const commands = (readdirSync(commandsDir, {recursive: true}) as string[])
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.replace(/\.ts$/, '').split(path.sep).filter((part) => part !== 'index').join(' '))
  .sort()
const topics = [...new Set(commands.map((command) => command.split(' ')[0]))]
/** Topics are the folders under src/commands: each groups commands and needs a description of its own. */
const topicFolders = readdirSync(commandsDir, {withFileTypes: true})
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
const configuredTopics: Record<string, {description: string}> = packageJson.oclif.topics ?? {}
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim()

describe('help', () => {
  it('cdp --help lists every command with its summary', async () => {
    const result = await runCli(['--help'])
    expect(result.exitCode).toBe(0)
    for (const topic of topics) expect(result.stdout).toMatch(new RegExp(`^  ${topic} +\\S`, 'm'))
  })

  it('cdp --help lists each topic with its own description, not one of its commands\' summary', async () => {
    // Given a topic per folder under src/commands
    expect(Object.keys(configuredTopics).sort()).toEqual(topicFolders)
    // When cdp --help runs
    const result = await runCli(['--help'])
    expect(result.exitCode).toBe(0)
    // Then its TOPICS section describes each with the description in package.json
    const section = result.stdout.split('TOPICS\n')[1].split('\nCOMMANDS')[0]
    for (const topic of topicFolders) {
      const entry = new RegExp(`^  ${topic} +([\\s\\S]*?)(?=^  \\S|(?![\\s\\S]))`, 'm').exec(section)
      expect(entry, `${topic} in\n${section}`).not.toBeNull()
      const described = oneLine((entry as RegExpExecArray)[1])
      expect(described).toBe(configuredTopics[topic].description)
      for (const command of commands.filter((id) => id.startsWith(`${topic} `))) {
        const help = await runCli([...command.split(' '), '--help'])
        expect(oneLine(help.stdout.split('\n\n')[0])).not.toBe(described)
      }
    }
  })

  it('the package description names only what exists: each command group it mentions has commands', () => {
    const description: string = packageJson.description
    const mentions: [RegExp, string][] = [
      [/ingest/, 'dev'],
      [/tracking plans/, 'plan validate'],
      [/typed clients/, 'plan codegen'],
      [/destinations/, 'deliveries'],
      [/replay/, 'replay'],
      [/functions/, 'fn run'],
      [/CI/, 'test'],
    ]
    for (const [words, command] of mentions) if (words.test(description)) expect(commands).toContain(command)
  })

  it('help and the version never start node again, not even for commands that can run functions', async () => {
    // Each node process that starts prints one line: a relaunch would print two.
    const preload = `data:text/javascript,process.stderr.write('node started\\n')`
    for (const args of [['dev', '--help'], ['fn', '--help'], ['fn', 'run', '--help'], ['replay', '--help'], ['--version']]) {
      const result = await execa('node', ['--import', preload, binPath, ...args], {reject: false, env: {OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
      expect(result.exitCode, args.join(' ')).toBe(0)
      expect(result.stderr.match(/node started/g), args.join(' ')).toHaveLength(1)
    }
  })

  it.each(commands)('cdp %s --help describes the command, its flags and an example', async (command) => {
    const result = await runCli([...command.split(' '), '--help'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`USAGE\n  $ cdp ${command}`)
    expect(result.stdout).toContain('DESCRIPTION')
    expect(result.stdout).toContain('EXAMPLES')
    expect(result.stdout).toMatch(new RegExp(`\\$ cdp ${command}`))
    expect(result.stdout).toMatch(/FLAGS\n +(-\w, )?--\w+/)
  })

  it('the committed oclif.manifest.json lists exactly the commands in src/commands', async () => {
    const {default: manifest} = await import('../../oclif.manifest.json', {with: {type: 'json'}})
    expect(Object.keys(manifest.commands).map((id) => id.replace(/:/g, ' ')).sort()).toEqual(commands)
  })
})
