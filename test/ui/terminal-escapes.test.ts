import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createLogger} from '../../src/log.js'
import {printable, printableLines} from '../../src/printable.js'
import {runCli} from '../helpers/cli.js'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {testSources} from '../helpers/workspace.js'

// What an attacker puts in an event: retitle the terminal (OSC 0), clear it (CSI 2J), write to
// the clipboard (OSC 52), a forged line after a newline, a C1 CSI, and a right-to-left override.
const retitle = '\u001b]0;pwned\u0007'
const clear = '\u001b[2J'
const clipboard = '\u001b]52;c;cm0gLXJmIH4=\u0007'
const hostileEvent = `Order${retitle}${clear}\nFORGED LINE\u009b31m\u202eevil`
const hostileUser = `user${clipboard}`
const hostileProperty = `price${clear}`

/** Any byte a terminal acts on: C0 controls but newline, DEL, C1 controls, bidi overrides. */
const controlSequence = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

describe('printable', () => {
  it('shows control characters as visible escapes and leaves other text alone', () => {
    expect(printable(hostileEvent)).toBe('Order\\e]0;pwned\\x07\\e[2J\\nFORGED LINE\\x9b31m\\u202eevil')
    expect(printable('Añadido al carrito 🛒 注文')).toBe('Añadido al carrito 🛒 注文')
    expect(printable('a\tb\r\u2028c')).toBe('a\\tb\\r\\u2028c')
  })

  it('keeps line breaks in our own multi-line messages, and nothing else', () => {
    expect(printableLines(`problems:\n  ${retitle}`)).toBe('problems:\n  \\e]0;pwned\\x07')
  })

  it('escapes what the logger writes', () => {
    const lines: string[] = []
    const log = createLogger({level: 'info', write: (line) => lines.push(line)})
    log.warn(`webhook answered 400: ${clipboard}`)
    expect(lines).toEqual(['webhook answered 400: \\e]52;c;cm0gLXJmIH4=\\x07'])
  })
})

describe('human output of stored hostile events', () => {
  let daemon: TestDaemon
  beforeAll(async () => {
    daemon = await startTestDaemon()
    const answer = await post(
      `${daemon.url}/v1/track`,
      {userId: hostileUser, event: hostileEvent, messageId: `m${clear}1`, properties: {[hostileProperty]: 1}},
      {writeKey: testSources[0].writeKey},
    )
    expect(answer.status).toBe(200)
  })
  afterAll(async () => {
    await daemon.close()
  })

  it('cdp events prints no control sequence, and --json keeps the exact values', async () => {
    const human = await runCli(['events', '--dir', daemon.dir])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).not.toMatch(controlSequence)
    expect(human.stdout).toContain('Order\\e]0;pwned')
    expect(human.stdout).toContain('user\\e]52;c;cm0gLX')
    expect(human.stdout.split('\n').some((line) => line.startsWith('FORGED LINE'))).toBe(false)

    const json = await runCli(['events', '--dir', daemon.dir, '--json'])
    expect(json.exitCode).toBe(0)
    const [stored] = JSON.parse(json.stdout)
    expect(stored.event).toBe(hostileEvent)
    expect(stored.userId).toBe(hostileUser)
  })

  it('cdp schema prints no control sequence', async () => {
    const human = await runCli(['schema', '--dir', daemon.dir])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).not.toMatch(controlSequence)
    expect(human.stdout).toContain('Order\\e]0;pwned\\x07\\e[2J\\nFORGED LINE')
    expect(human.stdout).toContain('properties.price\\e[2J')
  })

  it('an error message quoting hostile input prints no control sequence', async () => {
    const result = await runCli(['events', '--dir', daemon.dir, '--type', `track${retitle}`])
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('\\e]0;pwned\\x07')
    expect(result.stderr).not.toMatch(controlSequence)
  })
})
