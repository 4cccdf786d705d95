import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ArchiveReader, openArchiveReader} from '../../src/replay/archive-reader.js'
import type {ReplaySelection} from '../../src/replay/types.js'
import type {QueuedEvent} from '../../src/store/types.js'
import {tempDir} from '../helpers/workspace.js'

/**
 * Archive files as Segment and RudderStack write them to object storage (one JSON message per
 * line, gzipped, in folders), read by a replay: real files in a temp folder, plain and gzip,
 * corrupt lines reported with file and line, resumed by position.
 */

let dir: string
let cleanup: () => void

beforeEach(() => {
  const temp = tempDir('cdp-archive-')
  dir = temp.dir
  cleanup = temp.cleanup
})

afterEach(() => cleanup())

const selection = (more: Partial<ReplaySelection> = {}): ReplaySelection => ({destination: 'hook', ...more})

function track(id: string, more: Record<string, unknown> = {}): string {
  return JSON.stringify({type: 'track', event: 'Order Completed', userId: `user-${id}`, messageId: id, timestamp: '2026-11-01T10:00:00.000Z', properties: {n: id}, ...more})
}

function write(name: string, lines: string[], gzip = false): string {
  const file = path.join(dir, name)
  mkdirSync(path.dirname(file), {recursive: true})
  const text = lines.join('\n') + '\n'
  writeFileSync(file, gzip ? gzipSync(text) : text)
  return file
}

/** Every event the reader gives, a page of `page` at a time, and the cursors it answered. */
async function readAll(reader: ArchiveReader, page = 3, from = 0): Promise<{events: QueuedEvent[]; cursors: number[]}> {
  const events: QueuedEvent[] = []
  const cursors: number[] = []
  let after = from
  for (;;) {
    const result = await reader.read(after, page)
    events.push(...result.events)
    cursors.push(result.cursor)
    after = result.cursor
    if (result.complete) return {events, cursors}
  }
}

const ids = (events: QueuedEvent[]) => events.map((event) => event.messageId)

describe('ArchiveReader', () => {
  it('reads NDJSON and gzip NDJSON as normalised messages, positions counting lines across files', async () => {
    // Given a plain file of 3 lines (one blank) and a gzip file of 2
    const plain = write('a.ndjson', [track('a1'), '', track('a2', {receivedAt: '2026-11-01T10:00:01.000Z'})])
    const gzipped = write('b.ndjson.gz', [track('b1'), JSON.stringify({type: 'identify', anonymousId: 'anon-9', messageId: 'b2', traits: {plan: 'pro'}})], true)
    // When read
    const reader = await openArchiveReader(selection({files: [plain, gzipped]}))
    const {events, cursors} = await readAll(reader, 2)
    await reader.close()
    // Then every message comes, in order, each at its line's position across the files
    expect(ids(events)).toEqual(['a1', 'a2', 'b1', 'b2'])
    expect(events.map((event) => event.seq)).toEqual([1, 3, 4, 5])
    expect(cursors.at(-1)).toBe(5)
    // As a stored event would be: columns from the message, the source "archive", timestamps kept as given
    expect(events[0]).toMatchObject({source: 'archive', type: 'track', event: 'Order Completed', userId: 'user-a1', anonymousId: null})
    expect(events[3]).toMatchObject({type: 'identify', event: null, userId: null, anonymousId: 'anon-9'})
    const message = JSON.parse(events[1].message)
    expect(message).toMatchObject({messageId: 'a2', timestamp: '2026-11-01T10:00:00.000Z', receivedAt: '2026-11-01T10:00:01.000Z', properties: {n: 'a2'}, integrations: {}, context: {}})
    expect(events[1].receivedAt).toBe('2026-11-01T10:00:01.000Z')
    expect(reader.corrupt).toEqual([])
  })

  it('tells gzip by its magic bytes, not its name, and reads a folder recursively in path order', async () => {
    // Given a folder as object storage lays it out: dated subfolders, gzip files without a telling name, and other files
    write('archive/2026/11/02/part-0001.gz', [track('c1')], true)
    write('archive/2026/11/01/part-0002.json', [track('b1')])
    write('archive/2026/11/01/part-0001', [track('ignored')])
    write('archive/2026/11/01/part-0001.jsonl', [track('a1'), track('a2')], true)
    write('archive/README.md', ['# not an archive'])
    // When the folder is read
    const reader = await openArchiveReader(selection({files: [path.join(dir, 'archive')]}))
    const {events} = await readAll(reader)
    // Then its archive files are read in path order; others are left alone
    expect(ids(events)).toEqual(['a1', 'a2', 'b1', 'c1'])
  })

  it('reports a corrupt line in the middle of a gzip file with its file and line number, and reads the rest', async () => {
    // Given a gzip file whose line 3 is not JSON, line 5 is JSON but not a message, line 6 has no type
    const lines = [track('m1'), track('m2'), '{"type": "track", "event": ', track('m4'), '[1, 2]', JSON.stringify({event: 'No Type', userId: 'u'}), track('m7')]
    const file = write('day.ndjson.gz', lines, true)
    // When read
    const reader = await openArchiveReader(selection({files: [file]}))
    const {events} = await readAll(reader, 2)
    // Then every other line is an event, and each bad one is reported where it is
    expect(ids(events)).toEqual(['m1', 'm2', 'm4', 'm7'])
    expect(reader.corrupt.map(({file, line}) => ({file, line}))).toEqual([
      {file, line: 3},
      {file, line: 5},
      {file, line: 6},
    ])
    expect(reader.corrupt[0].reason).toMatch(/^not JSON/)
    expect(reader.corrupt[1].reason).toMatch(/must be a JSON object/)
    expect(reader.corrupt[2].reason).toMatch(/type is required/)
    expect(reader.corruptUpTo(4)).toBe(1)
    expect(reader.corruptUpTo(7)).toBe(3)
  })

  it('in strict mode stops at the first corrupt line, naming file and line', async () => {
    const file = write('day.ndjson', [track('m1'), 'not json', track('m3')])
    const reader = await openArchiveReader(selection({files: [file], strict: true}))
    await expect(readAll(reader, 10)).rejects.toThrow(`${file}:2: not JSON`)
  })

  it('resumes after a position: a new reader skips the lines already done, across files', async () => {
    const first = write('1.ndjson.gz', [track('a1'), track('a2'), 'garbage'], true)
    const second = write('2.ndjson', [track('b1'), track('b2')])
    // When a reader starts after position 2, and another after position 4
    const resumed = await openArchiveReader(selection({files: [first, second]}))
    const {events} = await readAll(resumed, 10, 2)
    const later = await openArchiveReader(selection({files: [first, second]}))
    const tail = await later.read(4, 10)
    // Then only what lies after is read (the corrupt line 3 is met only by the first)
    expect(ids(events)).toEqual(['b1', 'b2'])
    expect(resumed.corrupt).toMatchObject([{file: first, line: 3, position: 3}])
    expect(ids(tail.events)).toEqual(['b2'])
    expect(tail).toMatchObject({cursor: 5, complete: true})
    expect(later.corrupt).toEqual([])
    // And asked again for what it passed, a reader reads from the start: the same events, corrupt lines counted once
    const again = await resumed.read(0, 10)
    expect(ids(again.events)).toEqual(['a1', 'a2', 'b1', 'b2'])
    expect(resumed.corrupt).toHaveLength(1)
  })

  it("applies the selection's filters as the store does; the source is the selection's", async () => {
    const file = write('mixed.ndjson', [
      track('t1', {timestamp: '2026-11-01T09:00:00.000Z'}),
      track('t2', {event: 'Signed Up', timestamp: '2026-11-01T10:00:00.000Z'}),
      JSON.stringify({type: 'page', name: 'Home', anonymousId: 'anon-1', messageId: 'p1', timestamp: '2026-11-01T11:00:00.000Z'}),
      track('t3', {userId: 'anon-1', timestamp: '2026-11-01T12:00:00.000Z'}),
    ])
    const read = async (more: Partial<ReplaySelection>) => ids((await readAll(await openArchiveReader(selection({files: [file], ...more})), 10)).events)
    expect(await read({types: ['page']})).toEqual(['p1'])
    expect(await read({events: ['Signed Up', 'Home']})).toEqual(['t2', 'p1'])
    expect(await read({user: 'anon-1'})).toEqual(['p1', 't3'])
    expect(await read({since: '2026-11-01T10:00:00.000Z', until: '2026-11-01T12:00:00.000Z'})).toEqual(['t2', 'p1'])
    const sourced = await readAll(await openArchiveReader(selection({files: [file], source: 'backfill'})), 10)
    expect(sourced.events.map((event) => event.source)).toEqual(['backfill', 'backfill', 'backfill', 'backfill'])
  })

  it('gives a message without messageId one derived from its file and line, the same when read again', async () => {
    const file = write('noid.ndjson', [JSON.stringify({type: 'track', event: 'X', userId: 'u'})])
    const once = (await readAll(await openArchiveReader(selection({files: [file]})))).events
    const twice = (await readAll(await openArchiveReader(selection({files: [file]})))).events
    expect(once[0].messageId).toMatch(/^archive-[0-9a-f]{32}$/)
    expect(twice[0].messageId).toBe(once[0].messageId)
  })

  it('fails at open on a path that cannot be read, naming it and why', async () => {
    await expect(openArchiveReader(selection({files: [path.join(dir, 'missing.ndjson.gz')]}))).rejects.toThrow(/Cannot read the archive .*missing\.ndjson\.gz: no such file or folder/)
    mkdirSync(path.join(dir, 'empty'))
    await expect(openArchiveReader(selection({files: [path.join(dir, 'empty')]}))).rejects.toThrow(/holds no archive files/)
    if (process.getuid?.() !== 0) {
      const locked = write('locked.ndjson', [track('x')])
      chmodSync(locked, 0o000)
      await expect(openArchiveReader(selection({files: [locked]}))).rejects.toThrow(/locked\.ndjson: permission denied/)
    }
  })

  it('fails a read clearly on a gzip file cut short', async () => {
    const whole = gzipSync([track('a'), track('b')].join('\n'))
    const file = path.join(dir, 'cut.gz')
    writeFileSync(file, whole.subarray(0, whole.length - 10))
    const reader = await openArchiveReader(selection({files: [file]}))
    await expect(readAll(reader, 10)).rejects.toThrow(/Cannot read the archive .*cut\.gz/)
  })

  it('reads CRLF lines, a byte order mark, and a last line without a newline', async () => {
    const file = path.join(dir, 'windows.json')
    writeFileSync(file, '\ufeff' + track('w1') + '\r\n' + track('w2'))
    const {events} = await readAll(await openArchiveReader(selection({files: [file]})))
    expect(ids(events)).toEqual(['w1', 'w2'])
  })
})
