import {mkdirSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'
import {unplannedEventViolation, type Violation} from '../../src/plan/violations.js'
import {migrations} from '../../src/store/migrations.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {NewEvent} from '../../src/store/types.js'
import {cleanupsAfterEach, memoryLogger, startTestDaemon} from '../helpers/daemon.js'
import {getJson} from '../helpers/http.js'
import {waitFor} from '../helpers/wait.js'
import {tempFolder} from '../helpers/workspace.js'

const cleanups = cleanupsAfterEach()

const wrongType: Violation = {kind: 'wrong_type', path: 'properties.price', expected: 'number', actual: 'string', message: 'The value at properties.price must be a number but it was a string.'}

function row(messageId: string, event: string | null, receivedAt: string, violations: Violation[] = [], source = 'web'): NewEvent {
  const type = event === null ? 'identify' : 'track'
  const message = {type, ...(event === null ? {} : {event}), userId: 'u1', messageId, timestamp: receivedAt, receivedAt, context: {}, integrations: {}}
  return {messageId, source, type, event, userId: 'u1', anonymousId: null, timestamp: receivedAt, receivedAt, raw: null, message: JSON.stringify(message), valid: violations.length === 0 ? true : false, violations, policy: null}
}

function openStore(): SqliteStore {
  const store = new SqliteStore(path.join(tempFolder(cleanups), 'cdp.sqlite'))
  cleanups.push(() => store.close())
  return store
}

/** A store as cdp wrote it before schema 7: migrations 1–6, two stored copies, unplanned events as violations rows. */
function schema6Store(file: string): void {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  for (const migration of migrations.filter((m) => m.version <= 6)) db.exec(migration.sql)
  db.pragma('user_version = 6')
  const insert = db.prepare(
    `INSERT INTO events (seq, message_id, source, type, event, user_id, anonymous_id, timestamp, received_at, raw, message, valid, policy) VALUES (?, ?, 'web', ?, ?, 'u1', NULL, ?, ?, ?, ?, ?, NULL)`,
  )
  const violation = db.prepare(
    `INSERT INTO violations (event_seq, message_id, source, type, event, kind, path, expected, actual, message, received_at) VALUES (?, ?, 'web', 'track', ?, ?, ?, ?, ?, ?, ?)`,
  )
  const at = (n: number) => `2026-11-30T10:00:0${n}.000Z`
  // seq 1: planned and valid; seq 5: unplanned and breaking the common rule; seq 9: wrong type; seq 12: an identify.
  insert.run(1, 'm1', 'track', 'Signed Up', at(1), at(1), '{"sent":1}', '{"type":"track","event":"Signed Up","n":1}', 1)
  insert.run(5, 'm5', 'track', 'Odd Thing', at(2), at(2), '{"sent":5}', '{"type":"track","event":"Odd Thing","n":5}', 0)
  violation.run(5, 'm5', 'Odd Thing', wrongType.kind, wrongType.path, wrongType.expected, wrongType.actual, wrongType.message, at(2))
  const unplanned = unplannedEventViolation('Odd Thing')
  violation.run(5, 'm5', 'Odd Thing', unplanned.kind, unplanned.path, unplanned.expected, unplanned.actual, unplanned.message, at(2))
  insert.run(9, 'm9', 'track', 'Signed Up', at(3), at(3), '{"sent":9}', '{"type":"track","event":"Signed Up","n":9}', 0)
  violation.run(9, 'm9', 'Signed Up', wrongType.kind, wrongType.path, wrongType.expected, wrongType.actual, wrongType.message, at(3))
  insert.run(12, 'm12', 'identify', null, at(4), at(4), '{"sent":12}', '{"type":"identify","n":12}', null)
  db.prepare(`INSERT INTO destinations (name, cursor, first_seq) VALUES ('hook', 5, 0)`).run()
  db.prepare(
    `INSERT INTO deliveries (destination, event_seq, user_key, status, attempts, next_attempt_at, history, created_at, updated_at) VALUES ('hook', 5, 'u1', 'dead', 3, 0, '[]', ?, ?)`,
  ).run(at(2), at(2))
  db.close()
}

describe('schema 7: one stored copy, the indexes queries need, unplanned events as a flag', () => {
  it('migrates a schema-6 store: every event kept with its seq and raw, unplanned violations become flags, deliveries still refer to their events', () => {
    const file = path.join(tempFolder(cleanups), 'cdp.sqlite')
    schema6Store(file)
    const store = new SqliteStore(file)
    cleanups.push(() => store.close())

    const db = new Database(file, {readonly: true})
    cleanups.push(() => void db.close())
    expect(db.pragma('user_version', {simple: true})).toBe(7)
    expect(db.pragma('integrity_check', {simple: true})).toBe('ok')
    expect(db.prepare('SELECT seq, message_id, raw, valid, unplanned FROM events ORDER BY seq').raw().all()).toEqual([
      [1, 'm1', '{"sent":1}', 1, null],
      [5, 'm5', '{"sent":5}', 0, 1],
      [9, 'm9', '{"sent":9}', 0, null],
      [12, 'm12', '{"sent":12}', null, null],
    ])
    expect(db.prepare('SELECT event_seq, kind FROM violations ORDER BY id').raw().all()).toEqual([
      [5, 'wrong_type'],
      [9, 'wrong_type'],
    ])
    expect(db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name`).pluck().all()).toEqual([
      'events_event',
      'events_source_message_id',
      'events_type',
      'events_unplanned',
    ])
    // The users index starts empty: the daemon fills it behind ingest (src/store/user-indexer.ts).
    expect(db.prepare('SELECT count(*) FROM event_users').pluck().get()).toBe(0)

    // Read back as before: the unplanned violation rebuilt after the event's rows.
    expect(store.violationsOf([1, 5, 9])).toEqual(
      new Map([
        [5, [wrongType, unplannedEventViolation('Odd Thing')]],
        [9, [wrongType]],
      ]),
    )
    expect(store.queryViolations({limit: 10}).map((v) => [v.seq, v.kind, v.event, v.message])).toEqual([
      [5, 'wrong_type', 'Odd Thing', wrongType.message],
      [5, 'unplanned_event', 'Odd Thing', '"Odd Thing" is not in the tracking plan.'],
      [9, 'wrong_type', 'Signed Up', wrongType.message],
    ])
    // The dead delivery still belongs to its event, and the foreign key still holds: resetting deletes both.
    expect(store.deliveries.recordsOf([5])).toEqual([{seq: 5, destination: 'hook', status: 'dead', attempts: 3}])
    expect(store.appendEvents([row('m20', 'New One', '2026-11-30T11:00:00.000Z')])).toMatchObject({inserted: 1, seqs: [13]})
    expect(store.resetEvents()).toBe(5)
    expect(db.prepare('SELECT count(*) FROM deliveries').pluck().get()).toBe(0)
  })

  it('stores no violations row for an unplanned event, and answers its violation with the others, newest last, by kind, event, source and time', () => {
    const store = openStore()
    const unplanned = unplannedEventViolation('Unknown')
    store.appendEvents([
      row('a', 'Known', '2026-11-30T10:00:01.000Z', [wrongType]),
      row('b', 'Unknown', '2026-11-30T10:00:02.000Z', [wrongType, unplanned]),
      row('c', 'Unknown', '2026-11-30T10:00:03.000Z', [unplanned], 'server'),
      row('d', 'Known', '2026-11-30T10:00:04.000Z'),
      row('e', 'Later', '2026-11-30T10:00:05.000Z', [unplannedEventViolation('Later')]),
    ])
    const shown = (filter: Parameters<SqliteStore['queryViolations']>[0]) => store.queryViolations(filter).map((v) => `${v.seq}:${v.kind}:${v.source}`)
    expect(shown({limit: 10})).toEqual(['1:wrong_type:web', '2:wrong_type:web', '2:unplanned_event:web', '3:unplanned_event:server', '5:unplanned_event:web'])
    expect(shown({limit: 2})).toEqual(['3:unplanned_event:server', '5:unplanned_event:web'])
    expect(shown({limit: 10, kind: 'unplanned_event'})).toEqual(['2:unplanned_event:web', '3:unplanned_event:server', '5:unplanned_event:web'])
    expect(shown({limit: 10, kind: 'wrong_type'})).toEqual(['1:wrong_type:web', '2:wrong_type:web'])
    expect(shown({limit: 10, event: 'Unknown'})).toEqual(['2:wrong_type:web', '2:unplanned_event:web', '3:unplanned_event:server'])
    expect(shown({limit: 10, source: 'server'})).toEqual(['3:unplanned_event:server'])
    expect(shown({limit: 10, since: '2026-11-30T10:00:03.000Z'})).toEqual(['3:unplanned_event:server', '5:unplanned_event:web'])
    const [first] = store.queryViolations({limit: 10, kind: 'unplanned_event'})
    expect(first).toEqual({seq: 2, messageId: 'b', source: 'web', type: 'track', event: 'Unknown', receivedAt: '2026-11-30T10:00:02.000Z', ...unplanned})
    expect(store.violationsOf([2, 3, 4])).toEqual(
      new Map([
        [2, [wrongType, unplanned]],
        [3, [unplanned]],
      ]),
    )
  })

  it('cdp dev upgrades a schema-6 store at start, says so, serves its events and indexes their users', async () => {
    const dir = tempFolder(cleanups)
    mkdirSync(path.join(dir, '.cdp'))
    const file = path.join(dir, '.cdp', 'cdp.sqlite')
    schema6Store(file)
    const log = memoryLogger()
    const t = await startTestDaemon({dir, config: {sources: [{name: 'web', writeKey: 'web-write-key-0001'}]}, log})
    cleanups.push(() => t.close())
    expect(log.lines.filter((line) => line.includes('Upgrading the event store'))).toEqual([
      expect.stringContaining(`Upgrading the event store ${file} from schema 6 to 7 (4 events; a one-time rebuild, about 20 s a million events): every event is kept.`),
    ])
    const messages = (await getJson(`${t.url}/api/events?limit=10`)).body as {n: number}[]
    expect(messages.map((m) => m.n)).toEqual([1, 5, 9, 12])
    const violations = (await getJson(`${t.url}/api/violations?limit=10`)).body as {seq: number; kind: string}[]
    expect(violations.map((v) => `${v.seq}:${v.kind}`)).toEqual(['5:wrong_type', '5:unplanned_event', '9:wrong_type'])
    const db = new Database(file, {readonly: true})
    cleanups.push(() => void db.close())
    await waitFor('the stored events\' users indexed', () => db.prepare('SELECT count(*) FROM event_users').pluck().get() === 4)
  })
})
