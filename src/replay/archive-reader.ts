import {createHash} from 'node:crypto'
import {constants, createReadStream, type ReadStream} from 'node:fs'
import {access, open, readdir, stat} from 'node:fs/promises'
import path from 'node:path'
import {StringDecoder} from 'node:string_decoder'
import {createGunzip} from 'node:zlib'
import {errorMessage, UserError} from '../errors.js'
import {normalizeMessage} from '../message/normalize.js'
import {ownValue} from '../message/own-keys.js'
import {parseIsoTime} from '../message/time.js'
import type {SegmentMessage} from '../message/types.js'
import {eventMatch} from '../store/filter-spec.js'
import type {QueuedEvent} from '../store/types.js'
import type {ReplayReader, ReplaySelection} from './types.js'

/** A corrupt archive line: where, why, and its position across the files (the replay's counts follow positions). */
export interface CorruptLine {
  file: string
  /** 1-based, within its file. */
  line: number
  reason: string
  /** 1-based, across every file: the reader's position of the line. */
  position: number
}

export interface ArchiveReaderOptions {
  /** Stop at the first corrupt line (read() rejects naming file:line) instead of skipping it. */
  strict?: boolean
  /** The source archive events are given; default: the selection's source, else "archive". */
  source?: string
  /** How many corrupt lines are kept with their details (all are counted). */
  keepCorrupt?: number
}

/** Names taken from a folder: what Segment's and RudderStack's object-storage archives and NDJSON exports are called. */
const archiveName = /\.(?:ndjson|jsonl|json)(?:\.gz)?$|\.gz$/i

/** A line longer than this is not a message (Segment's limit is 32 KB): it is reported, never held whole. */
const maxLineChars = 8 * 1024 * 1024

const readChunk = 256 * 1024

/** Stands for a line longer than maxLineChars (dropped as it was read): not valid JSON, so never a real line's text taken for it. */
const overlongLine = '\u0000overlong'

function unreadable(file: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code
  const reason = code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : errorMessage(error)
  return new UserError(`Cannot read the archive ${file}: ${reason}.`, {hint: 'Give NDJSON or gzip NDJSON files, or folders of them, that this user can read.', code: 'archive_unreadable'})
}

/** The files of the paths given, in order; a folder's files (recursively) sorted by path. */
export async function archiveFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const given of paths) {
    const file = path.resolve(given)
    let info
    try {
      info = await stat(file)
    } catch (error) {
      throw unreadable(given, error)
    }
    if (info.isDirectory()) {
      const found: string[] = []
      await walk(file, found, given)
      if (found.length === 0) {
        throw new UserError(`The folder ${given} holds no archive files (.ndjson, .jsonl, .json, .gz).`, {hint: 'Point --from-file at the files, or at the folder they are in.', code: 'archive_unreadable'})
      }
      found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      files.push(...found)
    } else {
      try {
        await access(file, constants.R_OK)
      } catch (error) {
        throw unreadable(given, error)
      }
      files.push(file)
    }
  }
  return files
}

async function walk(folder: string, found: string[], shown: string): Promise<void> {
  let entries
  try {
    entries = await readdir(folder, {withFileTypes: true})
  } catch (error) {
    throw unreadable(folder === path.resolve(shown) ? shown : folder, error)
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name)
    if (entry.isDirectory()) await walk(full, found, shown)
    else if (entry.isFile() && archiveName.test(entry.name)) {
      try {
        await access(full, constants.R_OK)
      } catch (error) {
        throw unreadable(full, error)
      }
      found.push(full)
    }
  }
}

/** gzip by its magic bytes (1f 8b), whatever the file is called. */
async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(2)
    const {bytesRead} = await handle.read(head, 0, 2, 0)
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b
  } finally {
    await handle.close()
  }
}

/** A string field of the message, or null: the columns a stored event would have. */
function column(message: SegmentMessage, field: string): string | null {
  const value = ownValue(message, field)
  return typeof value === 'string' ? value : null
}

/**
 * Reads the events of archive files (NDJSON, gzip NDJSON, folders of them) as a replay reads the
 * store: a line's position is its ordinal across every file (1-based), so a resumed replay reads
 * on after its checkpoint without parsing what it skips. Streamed a chunk at a time (never a
 * file whole); each line normalised as an ingested message is (type required, messageId assigned
 * when missing, timestamps kept as given), filtered by the selection, and handed out with its
 * message as JSON. A line that is not a message is reported with its file and line number and
 * skipped, or stops the read in strict mode.
 */
export class ArchiveReader implements ReplayReader {
  private readonly details: CorruptLine[] = []
  /** Positions of every corrupt line met, ascending. */
  private readonly corruptPositions: number[] = []
  private readonly matches: ReturnType<typeof eventMatch.matcher>
  private readonly source: string
  private readonly strict: boolean
  private readonly keepCorrupt: number
  /** Lines read so far across the files. */
  private position = 0
  private fileIndex = -1
  private file = ''
  private lineInFile = 0
  private stream?: ReadStream
  private chunks?: AsyncIterator<Buffer | string>
  private decoder = new StringDecoder('utf8')
  private lines: string[] = []
  private next = 0
  private rest = ''
  /** The current file's chunks are all read (its last line is in `lines`). */
  private fileDone = true
  /** Inside a line longer than maxLineChars: the rest of it is dropped. */
  private overlong = false
  private ended = false
  private closed = false

  constructor(
    private readonly files: readonly string[],
    selection: ReplaySelection,
    options: ArchiveReaderOptions = {},
  ) {
    this.source = options.source ?? selection.source ?? 'archive'
    this.strict = options.strict ?? selection.strict ?? false
    this.keepCorrupt = options.keepCorrupt ?? 1000
    // The selection's filters mean what they mean for the store; the source is the archive's own, and
    // `valid` is about stored events only (archive lines were never checked against a plan).
    this.matches = eventMatch.matcher({types: selection.types, events: selection.events, user: selection.user, since: selection.since, until: selection.until})
  }

  /** Corrupt lines met so far (the first `keepCorrupt` of them). */
  get corrupt(): readonly CorruptLine[] {
    return this.details
  }

  /** How many corrupt lines this reader met at positions up to `position`. */
  corruptUpTo(position: number): number {
    const positions = this.corruptPositions
    let low = 0
    let high = positions.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (positions[mid] <= position) low = mid + 1
      else high = mid
    }
    return low
  }

  async read(after: number, limit: number): Promise<{events: QueuedEvent[]; cursor: number; complete: boolean}> {
    if (this.closed) throw new Error('the archive reader is closed')
    // Asked again for lines already passed (a resumed worker, a failed write): read from the start.
    if (after < this.position) this.restart()
    const events: QueuedEvent[] = []
    const receivedAt = Date.now()
    const receivedAtIso = new Date(receivedAt).toISOString()
    while (events.length < limit) {
      if (this.next >= this.lines.length) {
        if (!(await this.fill())) break
        continue
      }
      const text = this.lines[this.next++]
      this.position++
      this.lineInFile++
      if (this.position <= after) continue
      const event = this.parse(text, receivedAt, receivedAtIso)
      if (event) events.push(event)
    }
    return {events, cursor: Math.max(after, this.position), complete: this.ended && this.next >= this.lines.length}
  }

  async close(): Promise<void> {
    this.closed = true
    this.closeFile()
  }

  private parse(text: string, receivedAt: number, receivedAtIso: string): QueuedEvent | undefined {
    // A byte order mark some tools write at the start of a file.
    if (this.lineInFile === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    if (text.length === 0 || text.trim() === '') return undefined
    if (text === overlongLine) return this.corruptLine(`longer than ${maxLineChars / 1024 / 1024} MiB: not a message`)
    let input: unknown
    try {
      input = JSON.parse(text)
    } catch (error) {
      return this.corruptLine(`not JSON (${errorMessage(error)})`)
    }
    // The archive's own receivedAt is kept (normalising sets it): else the time of reading.
    const own = parseIsoTime(ownValue(input, 'receivedAt'))
    const file = this.file
    const line = this.lineInFile
    const result = normalizeMessage(input, {
      receivedAt: own ?? receivedAt,
      receivedAtIso: own === undefined ? receivedAtIso : new Date(own).toISOString(),
      renormalize: true,
      // The same line gets the same id when read again (a resumed replay): a destination can deduplicate.
      newMessageId: () => `archive-${createHash('sha1').update(`${file}:${line}`).digest('hex').slice(0, 32)}`,
    })
    if (!result.ok) return this.corruptLine(result.problem.message)
    const message = result.message
    const type = message.type
    const event = column(message, type === 'track' ? 'event' : 'name')
    const userId = column(message, 'userId')
    const anonymousId = column(message, 'anonymousId')
    if (!this.matches({type, event, source: this.source, userId, anonymousId, timestamp: message.timestamp as string, valid: null})) return undefined
    return {
      seq: this.position,
      messageId: message.messageId as string,
      source: this.source,
      type,
      event,
      userId,
      anonymousId,
      receivedAt: message.receivedAt as string,
      message: JSON.stringify(message),
    }
  }

  private corruptLine(reason: string): undefined {
    const entry: CorruptLine = {file: this.file, line: this.lineInFile, reason: reason.slice(0, 500), position: this.position}
    if (this.strict) {
      throw new UserError(`${entry.file}:${entry.line}: ${entry.reason}`, {hint: 'Fix or remove the line, or replay without --strict to skip corrupt lines (each is reported).', code: 'archive_corrupt'})
    }
    // Read again after a restart: counted once.
    const positions = this.corruptPositions
    if (positions.length > 0 && positions[positions.length - 1] >= entry.position) return undefined
    positions.push(entry.position)
    if (this.details.length < this.keepCorrupt) this.details.push(entry)
    return undefined
  }

  /** Reads the next chunk into `lines`; false at the end of the last file. */
  private async fill(): Promise<boolean> {
    this.lines = []
    this.next = 0
    for (;;) {
      if (this.fileDone) {
        if (this.fileIndex + 1 >= this.files.length) {
          this.ended = true
          return false
        }
        await this.openFile(this.fileIndex + 1)
      }
      let chunk: IteratorResult<Buffer | string>
      try {
        chunk = await this.chunks!.next()
      } catch (error) {
        throw new UserError(`Cannot read the archive ${this.file}: ${errorMessage(error)}.`, {hint: 'Check the file is complete (a gzip file cut short cannot be read to its end).', code: 'archive_unreadable'})
      }
      if (chunk.done) {
        const last = this.rest + this.decoder.end()
        this.rest = ''
        this.fileDone = true
        this.closeFile()
        if (this.overlong) {
          this.overlong = false
          this.lines.push(overlongLine)
        } else if (last.length > 0) this.lines.push(last)
        if (this.lines.length > 0) return true
        continue
      }
      this.split(typeof chunk.value === 'string' ? chunk.value : this.decoder.write(chunk.value))
      if (this.lines.length > 0) return true
    }
  }

  /** Splits decoded text into whole lines; the part after the last newline waits for the next chunk. */
  private split(text: string): void {
    let start = 0
    for (;;) {
      const newline = text.indexOf('\n', start)
      if (newline === -1) break
      let line = this.rest + text.slice(start, newline)
      this.rest = ''
      if (line.endsWith('\r')) line = line.slice(0, -1)
      if (this.overlong) {
        // The end of a line too long to be a message: it keeps its place (and number), and is reported.
        this.overlong = false
        line = overlongLine
      }
      this.lines.push(line)
      start = newline + 1
    }
    if (this.overlong) return
    this.rest += text.slice(start)
    if (this.rest.length > maxLineChars) {
      this.rest = ''
      this.overlong = true
    }
  }

  private async openFile(index: number): Promise<void> {
    this.fileIndex = index
    this.file = this.files[index]
    this.lineInFile = 0
    this.decoder = new StringDecoder('utf8')
    this.rest = ''
    this.overlong = false
    let gzip: boolean
    try {
      gzip = await isGzip(this.file)
    } catch (error) {
      throw unreadable(this.file, error)
    }
    const stream = createReadStream(this.file, {highWaterMark: readChunk})
    this.stream = stream
    if (gzip) {
      const gunzip = createGunzip({chunkSize: readChunk})
      stream.on('error', (error) => gunzip.destroy(error))
      stream.pipe(gunzip)
      this.chunks = gunzip[Symbol.asyncIterator]()
    } else {
      this.chunks = stream[Symbol.asyncIterator]()
    }
    this.fileDone = false
  }

  private closeFile(): void {
    this.stream?.destroy()
    this.stream = undefined
    void this.chunks?.return?.()
    this.chunks = undefined
  }

  private restart(): void {
    this.closeFile()
    this.position = 0
    this.fileIndex = -1
    this.file = ''
    this.lineInFile = 0
    this.lines = []
    this.next = 0
    this.rest = ''
    this.fileDone = true
    this.overlong = false
    this.ended = false
  }
}

/**
 * Opens a replay's archives (`selection.files`): every path is checked first, so an unreadable
 * file or folder fails here with its path and reason, before anything is sent.
 */
export async function openArchiveReader(selection: ReplaySelection, options: ArchiveReaderOptions = {}): Promise<ArchiveReader> {
  const files = await archiveFiles(selection.files ?? [])
  return new ArchiveReader(files, selection, options)
}
