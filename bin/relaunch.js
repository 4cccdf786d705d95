// isolated-vm (user functions) needs V8 started without Node's startup snapshot, and that can only
// be chosen when node starts: not at run time, not through NODE_OPTIONS. So a command that may run
// functions, started by a plain `node bin/run.js`, `npx cdp` or an npm script, starts itself again
// with --no-node-snapshot and stands in for that child: the same stdio, every stop signal passed
// on once (the child has its own process group, so a terminal's Ctrl-C reaches it only through
// here), the same exit code or signal. If this process dies without passing anything on (SIGKILL),
// the child sees its IPC channel close and kills itself the same way.
import {spawn} from 'node:child_process'

/** Commands whose work can run a user function. */
const functionCommands = new Set(['dev', 'fn', 'replay', 'test'])

const flag = '--no-node-snapshot'

/**
 * V8 heap settings for commands whose working set is small and bounded however much they read:
 * `cdp replay` keeps a round's events and a page read ahead (about 30 MB live), but each event's
 * JSON outlives a scavenge and V8 lets old garbage grow to 100 MB and more before a full GC.
 * An old-space limit makes it collect sooner and keeps its memory flat (measured on 1M events:
 * 261 MB without, 175 MB with 192 MB or 128 MB, and 192 keeps more of the rate: 79k vs 71k
 * events/s; on 100k events,
 * three runs each: peak RSS 237–245 MB → 164–174 MB, the rate within noise; a smaller young
 * generation too went to 134 MB but cost 15% of the rate). Flags the user gave win.
 */
const heapFlags = {replay: ['--max-old-space-size=192']}

/**
 * True when this process must start again with the flag before running the command in argv. Help
 * and the version run no command, and so no user function: they need no second node.
 */
export function needsRelaunch(argv = process.argv, execArgv = process.execArgv) {
  if (execArgv.includes(flag) || describesItself(argv)) return false
  const command = commandOf(argv)
  return command !== undefined && functionCommands.has(command)
}

/** --help or --version, as oclif reads them: anywhere before a `--` (after it, `cdp test -- npm test --help` runs a command). */
function describesItself(argv) {
  const args = argv.slice(2)
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '--version')
}

function commandOf(argv) {
  return argv.slice(2).find((arg) => !arg.startsWith('-'))?.split(':')[0]
}

/** The command's heap settings the user did not set already. */
function heapFlagsFor(argv, execArgv) {
  const given = new Set(execArgv.map((arg) => arg.split('=')[0]))
  return (heapFlags[commandOf(argv)] ?? []).filter((arg) => !given.has(arg.split('=')[0]))
}

const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']

/** Runs this same command again in a child node with the flag; never returns. */
export async function relaunch() {
  const child = spawn(process.execPath, [flag, ...heapFlagsFor(process.argv, process.execArgv), ...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
    env: {...process.env, CDP_LAUNCHER_PID: String(process.pid)},
  })
  for (const signal of forwarded) process.on(signal, () => child.kill(signal))
  const [code, signal] = await new Promise((resolve) => {
    child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
    child.on('error', (error) => {
      process.stderr.write(`cdp: could not start ${process.execPath} ${flag}: ${error.message}\n`)
      resolve([1, null])
    })
  })
  if (signal) {
    // Ended by a signal: end the same way, so a shell or a test sees what it would have seen.
    for (const name of forwarded) process.removeAllListeners(name)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code ?? 1)
}

/** In the relaunched child: die with the launcher, which holds the terminal and the caller's wait. */
export function followLauncher() {
  if (process.env.CDP_LAUNCHER_PID === undefined || !process.channel) return
  process.channel.unref()
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'))
}
