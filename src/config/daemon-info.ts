import {readFileSync, rmSync} from 'node:fs'
import {writePrivateFile} from '../store/private-files.js'
import {workspacePaths} from './workspace.js'

/** What a running `cdp dev` tells other commands about itself, in .cdp/daemon.json. */
export interface DaemonInfo {
  url: string
  pid: number
  startedAt: string
  /** What /api/* requires as `Authorization: Bearer` when the daemon listens beyond loopback; new at each start. */
  token?: string
}

export function writeDaemonInfo(dir: string, info: DaemonInfo): void {
  // 0600: it may carry the token to /api/*.
  writePrivateFile(workspacePaths(dir).daemonFile, JSON.stringify(info, null, 2) + '\n')
}

/**
 * The process the user started: this one, or the launcher that started it again with
 * --no-node-snapshot (bin/relaunch.js), which passes signals on and exits with it.
 */
export function daemonPid(): number {
  const launcher = Number(process.env.CDP_LAUNCHER_PID)
  return Number.isInteger(launcher) && launcher === process.ppid ? launcher : process.pid
}

/** Removes the file, only if it is still this process's (a second daemon may have replaced it). */
export function removeDaemonInfo(dir: string, pid = daemonPid()): void {
  if (readDaemonInfo(dir, {checkAlive: false})?.pid === pid) rmSync(workspacePaths(dir).daemonFile, {force: true})
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The workspace's running daemon, or undefined when none is (a file left by a killed daemon is ignored). */
export function readDaemonInfo(dir: string, options: {checkAlive?: boolean} = {}): DaemonInfo | undefined {
  let info: DaemonInfo
  try {
    info = JSON.parse(readFileSync(workspacePaths(dir).daemonFile, 'utf8')) as DaemonInfo
  } catch {
    return undefined
  }
  if (typeof info?.url !== 'string' || typeof info.pid !== 'number') return undefined
  if (typeof info.token !== 'string') delete info.token
  if (options.checkAlive !== false && !isAlive(info.pid)) return undefined
  return info
}
