import {afterEach, describe, expect, it} from 'vitest'
import {loadFunctionSource} from '../../../src/functions/runtime/load.js'
import {FunctionLoadError, type FunctionRuntime} from '../../../src/functions/types.js'
import {definition, disposeAll, load, track} from './helpers.js'

afterEach(disposeAll)

/** One function that misbehaves by event name, and behaves for 'ok'. */
const misbehaving = `
  let calls = 0
  async function onTrack(event) {
    calls++
    switch (event.event) {
      case 'loop': for (;;) {}
      case 'loop after await': await null; await new Promise((r) => setTimeout(r, 5)); for (;;) {}
      case 'microtask loop': for (;;) await null
      case 'allocate': { const a = []; for (;;) a.push(new Array(100000).fill(Math.random())) }
      case 'exit': process.exit(1)
      case 'require': return {...event, fs: require('fs').readFileSync('/etc/passwd', 'utf8')}
      case 'import': return {...event, fs: await import('fs')}
      case 'escape 1': return {...event, p: typeof this.constructor.constructor('return process')()}
      case 'escape 2': return {...event, p: typeof ({}).constructor.constructor('return this')().process}
      case 'globals': return {...event, names: Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith('__') || /^(process|require|module|exports|ivm|global)$/.test(n))}
      case 'ok': return {...event, calls}
    }
  }
`

async function expectHealthy(fn: FunctionRuntime): Promise<void> {
  const run = await fn.runInsert([{...track(), event: 'ok'}])
  expect(run.outcomes[0]?.result).toBe('changed')
}

describe('isolation and limits', () => {
  it('an endless loop ends with TimeoutError, and the function handles the next event', async () => {
    // Given
    const fn = await load(misbehaving, {timeoutMs: 300})

    // When
    const run = await fn.runInsert([{...track(), event: 'loop'}])

    // Then
    expect(run.outcomes).toEqual([
      {result: 'error', error: {errorClass: 'TimeoutError', message: "onTrack did not finish within 300 ms (the function's time limit, timeoutMs)", retryable: true}},
    ])
    await expectHealthy(fn)
  })

  it('a loop after an await (past ivm’s own timeout) and a microtask loop end with TimeoutError too', async () => {
    // Given
    const fn = await load(misbehaving, {timeoutMs: 300})

    // When
    const after = await fn.runInsert([{...track(), event: 'loop after await'}])
    const micro = await fn.runInsert([{...track(), event: 'microtask loop'}])

    // Then
    const timeout = {result: 'error', error: {errorClass: 'TimeoutError', message: "onTrack did not finish within 300 ms (the function's time limit, timeoutMs)", retryable: true}}
    expect(after.outcomes).toEqual([timeout])
    expect(micro.outcomes).toEqual([timeout])
    await expectHealthy(fn)
  })

  it('unbounded allocation ends with MemoryLimitError, and a fresh isolate takes the next event', async () => {
    // Given
    const fn = await load(misbehaving, {timeoutMs: 5000, memoryMb: 16})

    // When
    const run = await fn.runInsert([{...track(), event: 'allocate'}])

    // Then
    expect(run.outcomes).toEqual([
      {
        result: 'error',
        error: {
          errorClass: 'MemoryLimitError',
          message: "onTrack exceeded the function's memory limit of 16 MB (memoryMb); the function's isolate was restarted",
          retryable: true,
        },
      },
    ])
    // the fresh isolate has run the file's top level again
    const next = await fn.runInsert([{...track(), event: 'ok'}])
    expect(next.outcomes).toEqual([{result: 'changed', events: [{...track(), event: 'ok', calls: 1}]}])
  })

  it('process, require and import() are not there; each fails alone with a clear error', async () => {
    // Given
    const fn = await load(misbehaving)

    // When
    const run = await fn.runInsert(['exit', 'require', 'import'].map((event, i) => ({...track({}, `m${i}`), event})))

    // Then
    const errors = run.outcomes.map((o) => (o.result === 'error' ? [o.error.errorClass, o.error.message] : o.result))
    expect(errors).toEqual([
      ['ReferenceError', 'process is not defined'],
      ['ReferenceError', 'require is not defined'],
      ['Error', 'import() is not available in functions: modules cannot be loaded (Not supported)'],
    ])
    await expectHealthy(fn)
  })

  it('constructor.constructor escapes find no process, and no host reference is left on the global', async () => {
    // Given
    const fn = await load(misbehaving)

    // When
    const run = await fn.runInsert(['escape 1', 'escape 2', 'globals'].map((event, i) => ({...track({}, `m${i}`), event})))

    // Then
    expect(run.outcomes).toEqual([
      {result: 'error', error: {errorClass: 'ReferenceError', message: 'process is not defined', retryable: false, location: 'functions/fn.js:13:69'}},
      {result: 'changed', events: [{...track({}, 'm1'), event: 'escape 2', p: 'undefined'}]},
      {result: 'changed', events: [{...track({}, 'm2'), event: 'globals', names: []}]},
    ])
  })

  it('a static import fails to load with a clear message and the line', async () => {
    // When / Then
    await expect(loadFunctionSource(definition('imp'), "\nimport fs from 'fs'\nexport function transformEvent(e) { return e }\n")).rejects.toThrow(
      new FunctionLoadError(
        'import is not available in functions: import of "fs" (functions run in a sandbox with globals instead: fetch, crypto, _, Buffer, URL, console, cache)',
        'functions/imp.js',
        2,
        1,
      ),
    )
  })

  it('the host event loop keeps running while a function loops', async () => {
    // Given a function that spins for 1 s, and a host interval
    const fn = await load(`function onTrack(event) { const t = Date.now(); while (Date.now() - t < 1000) {} return event }`, {timeoutMs: 3000})
    let ticks = 0
    const interval = setInterval(() => ticks++, 20)

    // When
    const run = await fn.runInsert([track()])
    clearInterval(interval)

    // Then the host ticked during it
    expect(run.outcomes[0]?.result).toBe('unchanged')
    expect(ticks).toBeGreaterThan(10)
  })

  it('a time-out of one call leaves the calls in flight beside it to finish', async () => {
    // Given calls in flight together, one of which loops after an await
    const fn = await load(`
      async function onTrack(event) {
        await new Promise((r) => setTimeout(r, event.properties.wait))
        if (event.properties.loop) for (;;) {}
        return {...event, done: true}
      }
    `, {timeoutMs: 400})

    // When
    const [slow, looping, fast] = await Promise.all([
      fn.runInsert([track({wait: 200})]),
      fn.runInsert([track({wait: 10, loop: true})]),
      fn.runInsert([track({wait: 1})]),
    ])

    // Then
    expect(looping.outcomes[0]).toMatchObject({result: 'error', error: {errorClass: 'TimeoutError'}})
    expect(fast.outcomes[0]).toEqual({result: 'changed', events: [{...track({wait: 1}), done: true}]})
    expect(slow.outcomes[0]).toMatchObject({result: 'error', error: {errorClass: 'TimeoutError'}})
    // (the loop held the isolate's thread for 400 ms, so the 200 ms wait could not finish in its time)
    const after = await fn.runInsert([track({wait: 1})])
    expect(after.outcomes[0]).toEqual({result: 'changed', events: [{...track({wait: 1}), done: true}]})
  })

  it('a syntax error gives the file and line; top-level code that throws too', async () => {
    await expect(loadFunctionSource(definition('bad'), 'function onTrack(event) {\n  return event +\n}\n')).rejects.toThrow(
      new FunctionLoadError("SyntaxError: Unexpected token '}'", 'functions/bad.js', 3, 1),
    )
    await expect(loadFunctionSource(definition('top'), '\n\nconst key = settings.apiKey\nfunction onTrack(e) { return e }')).rejects.toThrow(
      new FunctionLoadError('its top-level code threw ReferenceError: settings is not defined', 'functions/top.js', 3, 13),
    )
  })
})
