import {mkdirSync, writeFileSync} from 'node:fs'
import Database from 'better-sqlite3'
import {Agent, request} from 'node:http'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth} from '../helpers/http.js'
import {tempDir} from '../helpers/workspace.js'
import {workspacePaths} from '../../src/config/workspace.js'
import {SqliteStore} from '../../src/store/sqlite-store.js'
import type {StoredEvent} from '../../src/store/types.js'

const key = 'web-write-key-0001'
let daemons: TestDaemon[] = []
let cleanups: (() => void)[] = []
afterEach(async () => {
  for (const t of daemons) await t.close()
  for (const cleanup of cleanups) cleanup()
  daemons = []
  cleanups = []
})

/** A daemon whose source "web" checks "Signed Up" (properties.plan required, nothing else allowed) under a Protocols policy. */
async function daemonWithPlan(protocols: Record<string, unknown>): Promise<TestDaemon> {
  const {dir, cleanup} = tempDir()
  cleanups.push(cleanup)
  mkdirSync(path.join(dir, 'plan', 'events'), {recursive: true})
  writeFileSync(
    path.join(dir, 'plan', 'events', 'signed-up.json'),
    JSON.stringify({
      name: 'Signed Up',
      properties: {type: 'object', properties: {plan: {type: 'string', enum: ['free', 'pro']}}, required: ['plan'], additionalProperties: false},
    }),
  )
  const t = await startTestDaemon({dir, config: {sources: [{name: 'web', writeKey: key, plan: 'plan', protocols}]}})
  daemons.push(t)
  return t
}

/** POSTs the exact bytes given (so "__proto__" arrives as a JSON key), on a connection of its own unless an agent is given. */
function send(url: string, route: string, body: string, agent: Agent | false = false): Promise<{status: number; body: any}> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${route}`, {method: 'POST', agent, headers: {'content-type': 'application/json', authorization: basicAuth(key)}}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: JSON.parse(text)}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The recorded violations, as GET /api/violations gives them. */
async function violationsOf(t: TestDaemon): Promise<{kind: string; path: string}[]> {
  return (await (await fetch(`${t.url}/api/violations`)).json()) as {kind: string; path: string}[]
}

/** Events by the indexed user column, through a read-only store as `cdp events --user` reads them. */
function byUserColumn(t: TestDaemon, user: string): StoredEvent[] {
  const reader = new SqliteStore(t.daemon.database, {readonly: true})
  try {
    return reader.queryEvents({user, limit: 1000})
  } finally {
    reader.close()
  }
}

describe('a "__proto__" key slips past nothing', () => {
  it('block: a message whose properties sit under "__proto__" has no properties, breaks the plan and is quarantined', async () => {
    const t = await daemonWithPlan({violations: 'block'})
    // When the message of issue 10 arrives
    const answer = await send(t.url, '/v1/track', '{"userId":"u","messageId":"m-proto","event":"Signed Up","__proto__":{"properties":{"plan":"pro"}}}')
    // Then it is accepted (a Tracking API never refuses a plan violation) but blocked, not forwarded
    expect(answer).toEqual({status: 200, body: {success: true}})
    const [stored] = t.storedEvents()
    expect(stored).toMatchObject({valid: false, policy: 'blocked'})
    expect('properties' in stored.message).toBe(false)
    expect(JSON.stringify(stored.message.__proto__)).toBe('{"properties":{"plan":"pro"}}')
    expect((await violationsOf(t)).map((v) => [v.kind, v.path])).toEqual([['missing_required', 'properties.plan']])
  })

  it('a "__proto__" property is an unexpected property under additionalProperties: false', async () => {
    const t = await daemonWithPlan({violations: 'block'})
    expect((await send(t.url, '/v1/track', '{"userId":"u","event":"Signed Up","properties":{"plan":"pro","__proto__":{"plan":"free"}}}')).status).toBe(200)
    const [stored] = t.storedEvents()
    expect(stored).toMatchObject({valid: false, policy: 'blocked', message: {properties: {plan: 'pro'}}})
    expect(JSON.stringify(stored.message.properties)).toBe('{"plan":"pro","__proto__":{"plan":"free"}}')
    expect((await violationsOf(t)).map((v) => [v.kind, v.path])).toEqual([['unexpected_property', 'properties.__proto__']])
  })

  it('omit-properties: a key spelling a path into Object.prototype is omitted as itself, and the daemon keeps working', async () => {
    const t = await daemonWithPlan({violations: 'omit-properties'})
    const body = '{"userId":"u","event":"Signed Up","properties":{"plan":"pro","constructor.prototype.toString":1,"__proto__":{"hasOwnProperty":1}}}'
    expect((await send(t.url, '/v1/track', body)).status).toBe(200)
    const [stored] = t.storedEvents()
    expect(stored).toMatchObject({valid: false, policy: 'omitted'})
    expect(JSON.stringify(stored.message.properties)).toBe('{"plan":"pro"}')
    // Object.prototype is whole: the next requests are answered and stored as usual
    expect(typeof Object.prototype.toString).toBe('function')
    expect(typeof Object.prototype.hasOwnProperty).toBe('function')
    expect((await send(t.url, '/v1/track', '{"userId":"u","event":"Signed Up","properties":{"plan":"free"}}'))).toEqual({status: 200, body: {success: true}})
    expect(t.storedEvents().map((e) => [e.valid, e.policy])).toEqual([[false, 'omitted'], [true, null]])
  })
})

describe('the indexed columns and the stored message agree', () => {
  it('among 300 valid requests over 100 connections, the two of issue 10 are stored and none fails', async () => {
    const t = await startTestDaemon({config: {sources: [{name: 'web', writeKey: key}]}})
    daemons.push(t)
    // Given the two requests that broke the store, sent in the middle of a burst of valid ones
    const valid = Array.from({length: 300}, (_, i) => `{"anonymousId":"anon-${i}","event":"Clicked","messageId":"v-${i}"}`)
    const poison = '{"anonymousId":"a","event":"x","messageId":"p-object","__proto__":{"userId":{}}}'
    const victim = '{"anonymousId":"a","event":"x","messageId":"p-victim","__proto__":{"userId":"victim"}}'
    const bodies = [...valid.slice(0, 150), poison, victim, ...valid.slice(150)]
    // When they arrive at once over 100 open connections (so they share commits)
    const agent = new Agent({keepAlive: true, maxSockets: 100})
    await Promise.all(Array.from({length: 100}, (_, i) => send(t.url, '/v1/track', `{"anonymousId":"w","event":"Warm Up","messageId":"w-${i}"}`, agent)))
    const answers = await Promise.all(bodies.map((body) => send(t.url, '/v1/track', body, agent)))
    agent.destroy()
    // Then every one is stored and answered 200
    expect(answers.filter((a) => a.status !== 200)).toEqual([])
    const stored = t.storedEvents().filter((e) => e.message.event !== 'Warm Up')
    expect(stored).toHaveLength(302)
    // And no stored message has a userId, so the user column is empty for each: "victim" finds nothing
    const proto = stored.filter((e) => e.message.messageId.startsWith('p-')).sort((a, b) => a.message.messageId.localeCompare(b.message.messageId))
    expect(proto.map((e) => [e.message.messageId, e.message.userId, JSON.stringify(e.message.__proto__)])).toEqual([
      ['p-object', undefined, '{"userId":{}}'],
      ['p-victim', undefined, '{"userId":"victim"}'],
    ])
    expect(byUserColumn(t, 'victim')).toEqual([])
    expect(byUserColumn(t, 'a').map((e) => e.message.messageId).sort()).toEqual(['p-object', 'p-victim'])
  })
})

describe('a request whose row SQLite refuses fails alone', () => {
  it('among 300 valid requests over 100 connections: each valid one is answered 200 and stored, the refused one 500', async () => {
    // Given a store that refuses one row: a trigger stands in for any row SQLite will not take
    // (an object bound to a text column was one, before the columns were read from the stored message)
    const {dir, cleanup} = tempDir()
    cleanups.push(cleanup)
    new SqliteStore(workspacePaths(dir).database).close()
    const db = new Database(workspacePaths(dir).database)
    db.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.event = 'Poison' BEGIN SELECT RAISE(ABORT, 'poison refused'); END`)
    db.close()
    const t = await startTestDaemon({dir, config: {sources: [{name: 'web', writeKey: key}]}})
    daemons.push(t)
    // And 100 connections open, so that requests sent at once arrive together and share commits
    const agent = new Agent({keepAlive: true, maxSockets: 100})
    await Promise.all(Array.from({length: 100}, (_, i) => send(t.url, '/v1/track', `{"userId":"w","event":"Warm Up","messageId":"w-${i}"}`, agent)))
    // When a poison request arrives in the middle of a burst of valid ones
    const bodies = Array.from({length: 300}, (_, i) => `{"userId":"u-${i}","event":"Clicked","messageId":"v-${i}"}`)
    bodies.splice(150, 0, '{"userId":"p","event":"Poison","messageId":"poison"}')
    const answers = await Promise.all(bodies.map((body) => send(t.url, '/v1/track', body, agent)))
    agent.destroy()
    // Then only the poison request fails, saying the store refused it
    expect(answers[150]).toEqual({status: 500, body: {success: false, code: 'internal_error', error: 'cdp could not store the request: poison refused; retry it'}})
    expect(answers.filter((a, i) => i !== 150 && a.status !== 200)).toEqual([])
    // And every valid event is stored, once
    const stored = t.storedMessages().map((m) => m.messageId).filter((id) => !id.startsWith('w-'))
    expect(stored).toHaveLength(300)
    expect(new Set(stored)).toEqual(new Set(Array.from({length: 300}, (_, i) => `v-${i}`)))
  })
})
