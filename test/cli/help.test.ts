import {readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

const commandsDir = fileURLToPath(new URL('../../src/commands/', import.meta.url))
/** Command ids as typed ("plan validate"), from the files under src/commands. */
const commands = (readdirSync(commandsDir, {recursive: true}) as string[])
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.replace(/\.ts$/, '').split(path.sep).filter((part) => part !== 'index').join(' '))
  .sort()
const topics = [...new Set(commands.map((command) => command.split(' ')[0]))]

describe('help', () => {
  it('cdp --help lists every command with its summary', async () => {
    const result = await runCli(['--help'])
    expect(result.exitCode).toBe(0)
    for (const topic of topics) expect(result.stdout).toMatch(new RegExp(`^  ${topic} +\\S`, 'm'))
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
