// Where PostgreSQL's server binaries are and how to run them on this machine, shared by the
// tests' throwaway server (postgres-server.ts) and the benchmark's (bench/postgres.js). Plain JS
// so that bench/, which runs without a TypeScript loader, can import it; types in the .d.ts.

import {execFileSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'

/** The folder of PostgreSQL's server binaries: Debian's newest, else wherever initdb is on PATH. */
export function postgresBinDir() {
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((name) => existsSync(path.join(debian, name, 'bin', 'initdb')))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    if (versions.length > 0) return path.join(debian, versions[0], 'bin')
  }
  try {
    const initdb = execFileSync('sh', ['-c', 'command -v initdb'], {encoding: 'utf8'}).trim()
    return initdb ? path.dirname(initdb) : undefined
  } catch {
    return undefined
  }
}

/**
 * A new temp folder for a cluster, and how to run the server's commands in it. initdb refuses to
 * run as root, so as root the folder belongs to the `postgres` user that Debian's package creates
 * and every command runs through `runuser -u postgres`.
 */
export function newCluster(prefix) {
  const bin = postgresBinDir()
  if (!bin) throw new Error('PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)')
  const asRoot = process.getuid?.() === 0
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  if (asRoot) {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], {encoding: 'utf8'}).trim())
    chownSync(dir, id('-u'), id('-g'))
  }
  return {
    dir,
    data: path.join(dir, 'data'),
    user: asRoot ? 'postgres' : userInfo().username,
    /** The program and arguments that run one of the server's commands (initdb, pg_ctl). */
    command: (name, args) => (asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, name), ...args]] : [path.join(bin, name), args]),
  }
}
