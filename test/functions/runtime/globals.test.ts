import {createHash, createHmac} from 'node:crypto'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {loadFunction} from '../../../src/functions/runtime/load.js'
import {FunctionLoadError} from '../../../src/functions/types.js'
import {definition, disposeAll, load, track} from './helpers.js'

afterEach(disposeAll)

function changed(run: {outcomes: unknown[]}): Record<string, any> {
  const outcome = run.outcomes[0] as {result: string; events?: Record<string, any>[]; error?: unknown}
  if (outcome.result !== 'changed') throw new Error(`expected changed, got ${JSON.stringify(outcome)}`)
  return outcome.events![0]!
}

describe('fetch', () => {
  let server: Server
  let port: number
  const seen: {method?: string; url?: string; headers: IncomingMessage['headers']; body: string}[] = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        seen.push({method: req.method, url: req.url, headers: req.headers, body})
        if (req.url === '/redirect') {
          res.writeHead(302, {location: 'http://localhost:' + port + '/elsewhere'}).end()
          return
        }
        res.writeHead(201, {'content-type': 'application/json', 'x-answer': '42'}).end(JSON.stringify({echo: body ? JSON.parse(body) : null}))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('reaches an allowed host: POST with a JSON body and headers, the response read as JSON', async () => {
    // Given a function allowed to reach 127.0.0.1
    const fn = await load(`
      async function onTrack(event, settings) {
        const res = await fetch(settings.url + '/hook?x=1', {
          method: 'POST',
          headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + settings.token},
          body: JSON.stringify({event: event.event}),
        })
        const data = await res.json()
        return {...event, status: res.status, ok: res.ok, answer: res.headers.get('X-Answer'), data}
      }
    `, {allowedHosts: ['127.0.0.1'], settings: {url: `http://127.0.0.1:${port}`, token: 't0k'}})
    seen.length = 0

    // When
    const run = await fn.runInsert([track()])

    // Then
    expect(changed(run)).toEqual({...track(), status: 201, ok: true, answer: '42', data: {echo: {event: 'Order Completed'}}})
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({method: 'POST', url: '/hook?x=1', body: '{"event":"Order Completed"}'})
    expect(seen[0]!.headers).toMatchObject({'content-type': 'application/json', authorization: 'Bearer t0k'})
  })

  it('refuses a host not allowed, before any connection, with FetchError naming the host', async () => {
    // Given a function allowed only another port and another host
    const fn = await load(`
      async function onTrack(event, settings) {
        await fetch(settings.url)
      }
    `, {name: 'hook', allowedHosts: ['127.0.0.1:1', 'api.example.com'], settings: {url: `http://127.0.0.1:${port}/x`}})
    seen.length = 0

    // When
    const run = await fn.runInsert([track()])

    // Then
    expect(run.outcomes).toEqual([
      {
        result: 'error',
        error: {
          errorClass: 'FetchError',
          message: `fetch(): host 127.0.0.1:${port} is not allowed for function hook: add it to the function's allowedHosts in cdp.json (it lists 127.0.0.1:1, api.example.com)`,
          retryable: true,
          location: 'functions/hook.js:3:9',
        },
      },
    ])
    expect(seen).toEqual([])
  })

  it('checks every redirect against allowedHosts', async () => {
    // Given a server that redirects to localhost, which is not allowed
    const fn = await load(`async function onTrack(event, s) { await fetch(s.url) }`, {
      allowedHosts: [`127.0.0.1:${port}`],
      settings: {url: `http://127.0.0.1:${port}/redirect`},
    })
    seen.length = 0

    // When
    const run = await fn.runInsert([track()])

    // Then the first request went out, the redirect did not
    expect(run.outcomes[0]).toMatchObject({result: 'error', error: {errorClass: 'FetchError', message: expect.stringContaining(`host localhost:${port} is not allowed`)}})
    expect(seen.map((s) => s.url)).toEqual(['/redirect'])
  })

  it('uses the fetch given in the load options (canned answers) after the allowedHosts check', async () => {
    // Given a replacement fetch
    const asked: string[] = []
    const fn = await load(`async function onTrack(event) { const r = await fetch('https://api.example.com/v1?q=1'); return {...event, body: await r.text()} }`, {allowedHosts: ['*.example.com']}, {
      fetch: async (url, init) => {
        asked.push(`${init.method} ${url}`)
        return new Response('canned', {status: 200})
      },
    })

    // When
    const run = await fn.runInsert([track()])

    // Then
    expect(changed(run).body).toBe('canned')
    expect(asked).toEqual(['GET https://api.example.com/v1?q=1'])
  })
})

describe('the other globals', () => {
  it('crypto digests and HMACs equal Node’s; randomUUID, randomBytes and timingSafeEqual work', async () => {
    // Given
    const fn = await load(`
      function onTrack(event) {
        const e = event.properties.email
        return {...event, out: {
          md5: crypto.createHash('md5').update(e).digest('hex'),
          sha1: crypto.createHash('sha1').update(e).digest('base64'),
          sha256: crypto.createHash('sha256').update(e.slice(0, 3)).update(e.slice(3)).digest('hex'),
          sha512: crypto.createHash('sha512').update(Buffer.from(e)).digest().toString('hex'),
          hmac: crypto.createHmac('sha256', 'secret').update(e).digest('hex'),
          uuid: /^[0-9a-f-]{36}$/.test(crypto.randomUUID()),
          bytes: crypto.randomBytes(16).length,
          same: crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')),
          differ: crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abd')),
        }}
      }
    `)
    const email = 'Ada@Example.com'

    // When
    const out = changed(await fn.runInsert([track({email})])).out

    // Then
    expect(out).toEqual({
      md5: createHash('md5').update(email).digest('hex'),
      sha1: createHash('sha1').update(email).digest('base64'),
      sha256: createHash('sha256').update(email).digest('hex'),
      sha512: createHash('sha512').update(email).digest('hex'),
      hmac: createHmac('sha256', 'secret').update(email).digest('hex'),
      uuid: true,
      bytes: 16,
      same: true,
      differ: false,
    })
  })

  it('Buffer, lodash, URL, URLSearchParams, btoa/atob and TextEncoder behave as in Node', async () => {
    // Given
    const fn = await load(`
      function onTrack(event) {
        const url = new URL('/path/ä?b=2&a=1#h', 'https://User:pw@Example.COM:8443')
        url.searchParams.append('c', 'x y')
        const params = new URLSearchParams({q: 'a&b', n: '1'})
        params.sort()
        return {...event, out: {
          b64: Buffer.from('héllo wörld').toString('base64'),
          back: Buffer.from(Buffer.from('héllo wörld').toString('base64'), 'base64').toString('utf8'),
          hex: Buffer.from([1, 255]).toString('hex'),
          lodash: [_.get(event, 'properties.deep.x'), _.camelCase('Order Completed'), _.chunk([1, 2, 3], 2)],
          href: url.href, host: url.host, hostname: url.hostname, port: url.port, pathname: url.pathname, search: url.search, origin: url.origin,
          params: params.toString(),
          btoa: btoa('hello'), atob: atob('aGVsbG8='),
          encoded: Array.from(new TextEncoder().encode('é')),
          decoded: new TextDecoder().decode(new Uint8Array([0xc3, 0xa9])),
          invalid: (() => { try { new URL('not a url'); return 'parsed' } catch (e) { return e.name } })(),
        }}
      }
    `)

    // When
    const out = changed(await fn.runInsert([track({deep: {x: 7}})])).out

    // Then
    const url = new URL('/path/ä?b=2&a=1#h', 'https://User:pw@Example.COM:8443')
    url.searchParams.append('c', 'x y')
    expect(out).toEqual({
      b64: Buffer.from('héllo wörld').toString('base64'),
      back: 'héllo wörld',
      hex: '01ff',
      lodash: [7, 'orderCompleted', [[1, 2], [3]]],
      href: url.href,
      host: 'example.com:8443',
      hostname: 'example.com',
      port: '8443',
      pathname: '/path/%C3%A4',
      search: '?b=2&a=1&c=x+y',
      origin: 'https://example.com:8443',
      params: 'n=1&q=a%26b',
      btoa: 'aGVsbG8=',
      atob: 'hello',
      encoded: [0xc3, 0xa9],
      decoded: 'é',
      invalid: 'TypeError',
    })
  })

  it('setTimeout waits; clearTimeout cancels', async () => {
    // Given
    const fn = await load(`
      async function onTrack(event) {
        const order = []
        const cancelled = setTimeout(() => order.push('cancelled'), 5)
        clearTimeout(cancelled)
        await new Promise((resolve) => setTimeout(() => { order.push('timer'); resolve() }, 20))
        order.push('after')
        return {...event, order}
      }
    `)

    // When / Then
    expect(changed(await fn.runInsert([track()])).order).toEqual(['timer', 'after'])
  })

  it('cache.load memoises per function until its ttl; cache.delete forgets', async () => {
    // Given
    const fn = await load(`
      let loads = 0
      async function onTrack(event) {
        if (event.event === 'forget') cache.delete('token')
        const token = await cache.load('token', 60000, async () => { loads++; return 'tok-' + loads })
        return {...event, token}
      }
    `)

    // When
    const a = changed(await fn.runInsert([track()])).token
    const b = changed(await fn.runInsert([track()])).token
    const c = changed(await fn.runInsert([{...track(), event: 'forget'}])).token

    // Then
    expect([a, b, c]).toEqual(['tok-1', 'tok-1', 'tok-2'])
  })
})

describe('TypeScript functions', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cdp-fn-'))
  })
  afterAll(() => rm(dir, {recursive: true, force: true}))

  it('a .ts function with type annotations loads, and errors point at the .ts lines', async () => {
    // Given a TypeScript file whose types take lines the JavaScript does not have
    // In the workspace's functions/ folder: errors name it functions/typed.ts
    await mkdir(join(dir, 'functions'), {recursive: true})
    const file = join(dir, 'functions', 'typed.ts')
    await writeFile(
      file,
      [
        'interface Settings {',
        '  prefix: string',
        '}',
        '',
        'type Event = {event: string; properties: Record<string, unknown>}',
        '',
        'async function onTrack(event: Event, settings: Settings): Promise<Event> {',
        "  if (event.event === 'fail') throw new ValidationError('bad event')",
        '  return {...event, event: `${settings.prefix}${event.event}`}',
        '}',
      ].join('\n'),
    )
    const fn = await loadFunction(definition('typed', {file, settings: {prefix: 'web:'}}))
    disposeAfter.push(fn)

    // When
    const ok = await fn.runInsert([track()])
    const bad = await fn.runInsert([{...track(), event: 'fail'}])

    // Then
    expect(changed(ok).event).toBe('web:Order Completed')
    expect(bad.outcomes).toEqual([{result: 'error', error: {errorClass: 'ValidationError', message: 'bad event', retryable: false, location: 'functions/typed.ts:8:37'}}])
  })

  it('a .ts file that does not parse gives file:line', async () => {
    // Given
    await mkdir(join(dir, 'functions'), {recursive: true})
    const file = join(dir, 'functions', 'broken.ts')
    await writeFile(file, 'interface A {\n  x: string\n}\nfunction onTrack(event: A {\n  return event\n}\n')

    // When / Then
    await expect(loadFunction(definition('broken', {file}))).rejects.toThrow(new FunctionLoadError("TypeScript: ',' expected.", 'functions/broken.ts', 4, 27))
  })
})

const disposeAfter: {dispose(): void}[] = []
afterEach(() => {
  for (const fn of disposeAfter.splice(0)) fn.dispose()
})
