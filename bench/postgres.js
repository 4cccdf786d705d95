// A throwaway PostgreSQL server for the delivery benchmark, the same way as
// test/helpers/postgres-server.ts (which bench/, plain JS, cannot import): Debian's binaries
// under /usr/lib/postgresql/*/bin (or initdb on PATH), a temp data folder, TCP on 127.0.0.1 at a
// free port, and as root the `postgres` user (initdb refuses root). Unlike the tests' server it
// keeps PostgreSQL's durable defaults (fsync, synchronous_commit on): the benchmark measures a
// warehouse load as it would run.

import {execFileSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'
import pg from 'pg'

/** The folder of PostgreSQL's server binaries, or undefined when it is not installed. */
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

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Makes a data folder (initdb) for a server started and stopped around each use, so that it uses
 * no CPU while other scenarios run. Answers {version, port, start(), stop(), remove(),
 * connectionString(database), createDatabase(name), dropDatabase(name), query(database, sql, params)}.
 * Throws when PostgreSQL is absent or does not start.
 */
export async function createPostgres() {
  const bin = postgresBinDir()
  if (!bin) throw new Error('PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)')
  const asRoot = process.getuid?.() === 0
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-bench-postgres-'))
  const data = path.join(dir, 'data')
  const user = asRoot ? 'postgres' : userInfo().username
  if (asRoot) {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], {encoding: 'utf8'}).trim())
    chownSync(dir, id('-u'), id('-g'))
  }
  const run = (command, argv) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...argv], {stdio: 'pipe'})
      : execFileSync(path.join(bin, command), argv, {stdio: 'pipe'})
  const port = await freePort()
  let running = false

  const query = async (database, sql, params) => {
    const client = new pg.Client({host: '127.0.0.1', port, user, database})
    await client.connect()
    try {
      return (await client.query(sql, params)).rows
    } finally {
      await client.end()
    }
  }
  const server = {
    version: null,
    port,
    async start() {
      if (running) return
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`
      run('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o', options])
      running = true
    },
    async stop() {
      if (!running) return
      running = false
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w'])
      } catch {
        // already gone
      }
    },
    async remove() {
      await server.stop()
      rmSync(dir, {recursive: true, force: true})
    },
    connectionString: (database) => `postgres://${user}@127.0.0.1:${port}/${database}`,
    createDatabase: (name) => query('postgres', `CREATE DATABASE ${name}`),
    dropDatabase: (name) => query('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    query,
  }
  try {
    run('initdb', ['-D', data, '-U', user, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
    await server.start()
    server.version = (await query('postgres', 'SHOW server_version'))[0].server_version
    await server.stop()
    return server
  } catch (error) {
    await server.remove()
    throw new Error(`PostgreSQL did not start: ${error.stderr?.toString().trim() || error.message}`)
  }
}
