import {fileURLToPath} from 'node:url'
import {execa, type ResultPromise} from 'execa'

export const binPath = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the built CLI as a child process, as a user would: `node bin/run.js ...args`. */
export async function runCli(args: string[], options: {cwd?: string; env?: Record<string, string>; input?: string} = {}): Promise<CliResult> {
  const result = await execa('node', [binPath, ...args], {
    cwd: options.cwd,
    env: {NO_COLOR: '1', FORCE_COLOR: '0', CDP_LOG: 'warn', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', NODE_ENV: 'production', ...options.env},
    input: options.input ?? '',
    reject: false,
    timeout: 60_000,
  })
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}

export interface DaemonProcess {
  url: string
  port: number
  writeKey: string
  sources: {name: string; writeKey: string}[]
  child: ResultPromise
  /** Lines written to stderr so far. */
  stderr: () => string
  /** SIGTERM, then wait for the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | undefined>
}

/** Starts `cdp dev --port 0 --json` in a child process and waits for its ready line. */
export async function startDaemonProcess(dir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<DaemonProcess> {
  const port = extraArgs.includes('--port') ? [] : ['--port', '0']
  const child = execa('node', [binPath, 'dev', ...port, '--json', '--dir', dir, ...extraArgs], {
    env: {NO_COLOR: '1', CDP_LOG: 'info', OCLIF_SKIP_NEW_VERSION_CHECK: 'true', NODE_ENV: 'production', ...env},
    reject: false,
    buffer: false,
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const ready = await new Promise<{url: string; port: number; sources: {name: string; writeKey: string}[]}>((resolve, reject) => {
    let stdout = ''
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString()
      const newline = stdout.indexOf('\n')
      if (newline !== -1) {
        child.stdout?.off('data', onData)
        try {
          resolve(JSON.parse(stdout.slice(0, newline)))
        } catch (error) {
          reject(error)
        }
      }
    }
    child.stdout?.on('data', onData)
    child.then((result) => reject(new Error(`cdp dev exited (${result.exitCode}) before it was ready: ${stderr}`)))
  })
  return {
    ...ready,
    writeKey: ready.sources[0].writeKey,
    child,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal)
      const result = await child
      return result.exitCode
    },
  }
}
