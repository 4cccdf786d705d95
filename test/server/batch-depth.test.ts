import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startTestDaemon, type TestDaemon} from '../helpers/daemon.js'
import {post} from '../helpers/http.js'
import {testSources} from '../helpers/workspace.js'

const key = testSources[0].writeKey
let t: TestDaemon

beforeAll(async () => {
  t = await startTestDaemon()
})
afterAll(async () => {
  await t.close()
})

/** JSON text of objects nested `levels` deep ({"a":{"a":…{}}}), built as text: no recursion to make it. */
function nestedJson(levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1)
}

function batch(part: 'context' | 'integrations', levels: number, messageId: string): string {
  return `{"batch":[{"type":"track","userId":"u","event":"Deep","messageId":"${messageId}"}],"${part}":${nestedJson(levels)}}`
}

describe('the depth limit counts a batch\'s context and integrations', () => {
  it.each([
    ['context', 64],
    ['context', 3000],
    ['integrations', 64],
    ['integrations', 6000],
  ] as const)('a batch %s of %i levels is refused as too_deep and nothing of it is stored', async (part, levels) => {
    const answer = await post(`${t.url}/v1/batch`, batch(part, levels, `deep-${part}-${levels}`), {writeKey: key, raw: true})
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({
      success: false,
      code: 'too_deep',
      field: part,
      error: `${part} of the batch nests objects or arrays deeper than 63 levels (each message nests it one level down, and the limit is 64 levels a message)`,
    })
    expect(t.storedMessages().some((m) => m.messageId === `deep-${part}-${levels}`)).toBe(false)
  })

  it('a batch context of 63 levels makes messages of 64, the limit: stored with it', async () => {
    const answer = await post(`${t.url}/v1/batch`, batch('context', 63, 'at-limit'), {writeKey: key, raw: true})
    expect(answer).toMatchObject({status: 200, body: {success: true}})
    const stored = t.storedMessages().find((m) => m.messageId === 'at-limit')
    let depth = 1
    for (let node = stored?.context; node && typeof node === 'object'; node = node.a) depth++
    // the message, then its context's 63 levels
    expect(depth).toBe(64)
  })
})
