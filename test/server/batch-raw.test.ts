import {gzipSync} from 'node:zlib'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {basicAuth} from '../helpers/http.js'
import {testSources} from '../helpers/workspace.js'

const webKey = testSources[0].writeKey
let t: TestDaemon

beforeAll(async () => {
  // The web source renames one event: the message no longer holds what was received, so the
  // item's bytes as received are stored beside it. The other item is stored as one copy.
  t = await startTestDaemon({config: {sources: [{...testSources[0], transformations: [{event: 'A "quoted" ]}', renameEvent: 'Quoted'}]}, testSources[1]]}})
})
afterAll(async () => {
  await t.close()
})
beforeEach(async () => {
  await fetch(`${t.url}/api/events`, {method: 'DELETE'})
})

function storedRaw(): (string | null)[] {
  const db = new Database(t.daemon.database, {readonly: true})
  try {
    return (db.prepare('SELECT raw FROM events ORDER BY seq').all() as {raw: string | null}[]).map((row) => row.raw)
  } finally {
    db.close()
  }
}

async function send(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(t.url + path, {method: 'POST', headers: {'content-type': 'application/json', authorization: basicAuth(webKey), ...headers}, body})
  await response.arrayBuffer()
  return response.status
}

const items = ['{ "type":"track", "userId":"u", "event":"A \\"quoted\\" ]}", "properties":{"price":1.50,"big":12345678901234567890} }', '{"type":"identify","userId":"u","traits":{"name":"Zoë 😀","k":"\\u00e9"}}']
const body = `{"sentAt":null,\n "batch": [\n  ${items[0]},\n  ${items[1]}\n ]\n}`

describe('a batch item changed on its way in is stored as received (raw, its own bytes of the body) beside the message; one left as sent is stored once', () => {
  it.each([
    ['/v1/batch', {}, body],
    ['/v1/import', {}, body],
    ['/v1/batch gzip', {'content-encoding': 'gzip'}, gzipSync(body)],
  ])('%s', async (name, headers, payload) => {
    expect(await send(name.split(' ')[0], payload, headers)).toBe(200)
    expect(storedRaw()).toEqual([items[0], null])
    const [track, identify] = t.storedMessages()
    expect(track).toMatchObject({type: 'track', event: 'Quoted', properties: {price: 1.5}})
    expect(identify).toMatchObject({type: 'identify', userId: 'u', traits: {name: 'Zoë 😀', k: 'é'}})
  })
})
