import {mkdirSync} from 'node:fs'
import {open, rename, rm, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import type {AdapterFactory} from './types.js'

const defaultMaxBytes = 100 * 1024 * 1024
const defaultMaxFiles = 5
/** Events are customers' data: the file is its owner's alone unless cdp.json says otherwise. */
const defaultMode = 0o600

/**
 * Appends one message per line (NDJSON). When the next line would take the file past maxBytes it
 * rotates: path → path.1 → path.2 …, keeping maxFiles rotated files. Each batch is synced to disk
 * before it counts as delivered. The file has the configured mode (0600 by default), whatever the
 * umask; rotated files keep it.
 */
export const createFileDestination: AdapterFactory<'file'> = (config, context) => {
  const file = path.resolve(context.dir, config.path)
  const maxBytes = config.maxBytes ?? defaultMaxBytes
  const maxFiles = config.maxFiles ?? defaultMaxFiles
  const mode = config.mode === undefined ? defaultMode : parseInt(config.mode, 8)
  let handle: FileHandle | undefined
  let size = 0

  async function openFile(): Promise<FileHandle> {
    if (handle) return handle
    mkdirSync(path.dirname(file), {recursive: true})
    handle = await open(file, 'a', mode)
    const stats = await handle.stat()
    size = stats.size
    // Set outright: a new file's mode was narrowed by the umask, and an existing one (an older cdp's,
    // 0644) is brought to the setting. Only a regular file of ours: never a terminal or a FIFO.
    if (stats.isFile() && (Number(stats.mode) & 0o7777) !== mode && stats.uid === (process.getuid?.() ?? stats.uid)) await handle.chmod(mode)
    return handle
  }

  async function rotate(): Promise<void> {
    await handle?.close()
    handle = undefined
    await rm(`${file}.${maxFiles}`, {force: true})
    for (let n = maxFiles - 1; n >= 1; n--) {
      await rename(`${file}.${n}`, `${file}.${n + 1}`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
    }
    await rename(file, `${file}.1`)
  }

  async function write(text: string, bytes: number): Promise<void> {
    const target = await openFile()
    await target.write(text)
    size += bytes
  }

  return {
    async open() {
      // Only a check that the file can be written: the first send opens it again and reads its size,
      // so a worker this one replaces can finish (and rotate) first.
      await openFile()
      await handle?.close()
      handle = undefined
    },
    async send(batch) {
      // Opened (and its size read) before the sizes are added up.
      await openFile()
      let pending = ''
      let pendingBytes = 0
      for (const event of batch) {
        const line = event.json + '\n'
        const bytes = Buffer.byteLength(line)
        if (size + pendingBytes + bytes > maxBytes && size + pendingBytes > 0) {
          if (pendingBytes > 0) await write(pending, pendingBytes)
          pending = ''
          pendingBytes = 0
          await (await openFile()).datasync()
          await rotate()
          await openFile()
        }
        pending += line
        pendingBytes += bytes
      }
      if (pendingBytes > 0) await write(pending, pendingBytes)
      await (await openFile()).datasync()
    },
    async close() {
      await handle?.close()
      handle = undefined
    },
  }
}

