import {randomBytes} from 'node:crypto'
import path from 'node:path'

/** The files of a workspace, all derived from its folder. */
export interface WorkspacePaths {
  dir: string
  config: string
  planDir: string
  stateDir: string
  database: string
  /** Written by a running `cdp dev`: its URL and process id, for `cdp tail` and `cdp deliveries retry`. */
  daemonFile: string
  /** Held locked by the running `cdp dev`: one daemon per store. */
  lockFile: string
}

export const configFileName = 'cdp.json'

export function workspacePaths(dir: string): WorkspacePaths {
  const root = path.resolve(dir)
  return {
    dir: root,
    config: path.join(root, configFileName),
    planDir: path.join(root, 'plan'),
    stateDir: path.join(root, '.cdp'),
    database: path.join(root, '.cdp', 'cdp.sqlite'),
    daemonFile: path.join(root, '.cdp', 'daemon.json'),
    lockFile: path.join(root, '.cdp', 'daemon.lock'),
  }
}

/** A new random write key: 32 characters of URL-safe base64, as long as Segment's. */
export function generateWriteKey(): string {
  return randomBytes(24).toString('base64url')
}
