import {rmSync} from 'node:fs'
import path from 'node:path'
import {execa} from 'execa'
import pg from 'pg'
import {newCluster, postgresBinDir} from './postgres-cluster.js'
import {unusedPort} from './ports.js'


export interface PostgresServer {
  /** postgres://… for a fresh database on this server. */
  connectionString: string
  /** The server's port, to build connection strings to other databases. */
  port: number
  stop: () => Promise<void>
}

/**
 * Whether the PostgreSQL tests can run here. Under CI a missing server is a broken machine, so
 * tests skip only when PostgreSQL is absent and CI is not set: `describe.skipIf(!postgresAvailable())`.
 */
export function postgresAvailable(): boolean {
  return postgresBinDir() !== undefined || Boolean(process.env.CI)
}


/**
 * Starts a throwaway PostgreSQL server (fsync off, TCP on 127.0.0.1 only) in a temp folder and
 * creates a database on it. initdb refuses to run as root, so as root the server runs as the
 * `postgres` user that Debian's package creates.
 */
export async function startPostgres(options: {database?: string} = {}): Promise<PostgresServer> {
  const {dir, data, user, command} = newCluster('cdp-postgres-')
  const run = (name: string, args: string[]) => execa(...command(name, args))

  const port = await unusedPort()
  let started = false
  const stop = async () => {
    if (started) await run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined)
    started = false
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    await run('initdb', ['-D', data, '-U', user, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
    const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off`
    // -w waits until the server accepts connections.
    await run('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o', serverOptions])
    started = true
    const database = options.database ?? 'cdp_test'
    const admin = new pg.Client({host: '127.0.0.1', port, user, database: 'postgres'})
    await admin.connect()
    try {
      await admin.query(`CREATE DATABASE ${database}`)
    } finally {
      await admin.end()
    }
    return {connectionString: `postgres://${user}@127.0.0.1:${port}/${database}`, port, stop}
  } catch (error) {
    await stop()
    throw error
  }
}
