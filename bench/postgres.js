// A throwaway PostgreSQL server for the delivery benchmark, on the same cluster set-up as the
// tests' (test/helpers/postgres-cluster.js): Debian's binaries
// under /usr/lib/postgresql/*/bin (or initdb on PATH), a temp data folder, TCP on 127.0.0.1 at a
// free port, and as root the `postgres` user (initdb refuses root). Unlike the tests' server it
// keeps PostgreSQL's durable defaults (fsync, synchronous_commit on): the benchmark measures a
// warehouse load as it would run.

import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import {newCluster} from '../test/helpers/postgres-cluster.js'
import {unusedPort} from '../test/helpers/ports.js'


/**
 * Makes a data folder (initdb) for a server started and stopped around each use, so that it uses
 * no CPU while other scenarios run. Answers {version, port, start(), stop(), remove(),
 * connectionString(database), createDatabase(name), dropDatabase(name), query(database, sql, params)}.
 * Throws when PostgreSQL is absent or does not start.
 */
export async function createPostgres() {
  const {dir, data, user, command} = newCluster('cdp-bench-postgres-')
  const run = (name, argv) => execFileSync(...command(name, argv), {stdio: 'pipe'})
  const port = await unusedPort()
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
