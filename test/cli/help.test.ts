import {readdirSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

const commands = readdirSync(new URL('../../src/commands/', import.meta.url)).map((file) => file.replace(/\.ts$/, ''))

describe('help', () => {
  it('cdp --help lists every command with its summary', async () => {
    const result = await runCli(['--help'])
    expect(result.exitCode).toBe(0)
    for (const command of commands) expect(result.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'))
  })

  it.each(commands)('cdp %s --help describes the command, its flags and an example', async (command) => {
    const result = await runCli([command, '--help'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`USAGE\n  $ cdp ${command}`)
    expect(result.stdout).toContain('DESCRIPTION')
    expect(result.stdout).toContain('EXAMPLES')
    expect(result.stdout).toMatch(new RegExp(`\\$ cdp ${command}`))
    expect(result.stdout).toMatch(/FLAGS\n +(-\w, )?--\w+/)
  })

  it('the committed oclif.manifest.json lists exactly the commands in src/commands', async () => {
    const {default: manifest} = await import('../../oclif.manifest.json', {with: {type: 'json'}})
    expect(Object.keys(manifest.commands).sort()).toEqual([...commands].sort())
  })
})
