// Child processes of the benchmark drivers (bench/run.js, bench/delivery.js): every part of a
// benchmark runs in its own process, started from the repository root.

import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Runs `node file args`, answers the JSON of its last stdout line. */
export function runJson(file, argv, {timeoutMs = 120_000} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...argv], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      const last = out.trim().split('\n').pop() ?? ''
      try {
        const result = JSON.parse(last)
        if (code !== 0 || result.error) reject(new Error(`${path.basename(file)} exited ${code}: ${result.error ?? ''}\n${err}`))
        else resolve(result)
      } catch {
        reject(new Error(`${path.basename(file)} exited ${code} without a JSON result\n${out}\n${err}`))
      }
    })
  })
}

/** Starts a server process that prints a {"event":"ready"} JSON line; answers {url, sources, database, info (the whole line), pid, stop()}. */
export function startServer(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}})
    let out = ''
    let err = ''
    let ready = false
    const exited = new Promise((settle) => child.on('close', (code, signal) => settle({code, signal})))
    const timer = setTimeout(() => {
      if (!ready) {
        child.kill('SIGKILL')
        reject(new Error(`server did not start within 20 s: ${argv.join(' ')}\n${err}`))
      }
    }, 20_000)
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      if (ready) return
      const line = out.split('\n').find((l) => l.includes('"event":"ready"'))
      if (!line) return
      ready = true
      clearTimeout(timer)
      const info = JSON.parse(line)
      resolve({
        url: info.url,
        sources: info.sources,
        database: info.database,
        info,
        pid: child.pid,
        stderr: () => err,
        async stop() {
          child.kill('SIGTERM')
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000)
          const result = await exited
          clearTimeout(force)
          return result
        },
      })
    })
    exited.then(({code}) => {
      if (!ready) {
        clearTimeout(timer)
        reject(new Error(`server exited ${code} before it was ready: ${argv.join(' ')}\n${err}`))
      }
    })
  })
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere or once it is gone. */
/**
 * CPU seconds of a process and its descendants: `cdp dev` started as `node bin/run.js` runs in a
 * child it starts again with --no-node-snapshot (bin/relaunch.js), and that child does the work.
 */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    let seconds = (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, in USER_HZ (100) ticks
    for (const child of childrenOf(pid)) seconds += cpuSecondsOf(child) ?? 0
    return seconds
  } catch {
    return null
  }
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}
