import {afterEach, describe, expect, it} from 'vitest'
import {loadFunctionSource} from '../../../src/functions/runtime/load.js'
import {FunctionLoadError} from '../../../src/functions/types.js'
import {definition, disposeAll, load, track} from './helpers.js'

afterEach(disposeAll)

describe('insert functions (Segment)', () => {
  it('runs the handler of each event type and reports changed, unchanged and dropped', async () => {
    // Given an insert function with a few handlers
    const fn = await load(`
      async function onTrack(event, settings) {
        event.event = event.event.toUpperCase()
        return event
      }
      function onIdentify(event) { return event }
      async function onPage(event) { return null }
      async function onGroup(event) { throw new DropEvent('internal traffic') }
      async function onScreen(event) { throw new DropEvent() }
    `)

    // When a batch of events goes through it
    const run = await fn.runInsert([
      track(),
      {type: 'identify', userId: 'u-1', messageId: 'm-2'},
      {type: 'page', messageId: 'm-3'},
      {type: 'group', messageId: 'm-4'},
      {type: 'screen', messageId: 'm-5'},
      {type: 'alias', messageId: 'm-6'},
      {type: 'nonsense', messageId: 'm-7'},
    ])

    // Then each event has its outcome
    expect(fn.handlers).toEqual(['onTrack', 'onIdentify', 'onPage', 'onScreen', 'onGroup'])
    expect(run.outcomes).toEqual([
      {result: 'changed', events: [{...track(), event: 'ORDER COMPLETED'}]},
      {result: 'unchanged', events: [{type: 'identify', userId: 'u-1', messageId: 'm-2'}]},
      {result: 'dropped', reason: 'returned nothing'},
      {result: 'dropped', reason: 'internal traffic'},
      {result: 'dropped', reason: 'DropEvent'},
      {result: 'dropped', reason: 'no onAlias handler'},
      {result: 'dropped', reason: 'no handler for events of type "nonsense"'},
    ])
    expect(run.console).toEqual([])
    expect(run.ms).toBeGreaterThan(0)
  })

  it('maps thrown errors to Segment classes with retryable flags and the location in the file', async () => {
    // Given handlers that throw each kind of error
    const fn = await load(
      [
        'class MyRetry extends RetryError {}',
        'function onTrack(event) {',
        '  switch (event.event) {',
        "    case 'retry': throw new RetryError('try later')",
        "    case 'invalid': throw new InvalidEventPayload('no email')",
        "    case 'validation': throw new ValidationError('bad')",
        "    case 'unsupported': throw new EventNotSupported('no')",
        "    case 'settings': throw new InvalidSettingsError('no key')",
        "    case 'sub': throw new MyRetry('sub')",
        "    case 'type': return event.nothing.here",
        "    case 'string': throw 'a string'",
        '  }',
        '}',
      ].join('\n'),
      {name: 'errors'},
    )

    // When events trigger them
    const names = ['retry', 'invalid', 'validation', 'unsupported', 'settings', 'sub', 'type', 'string']
    const run = await fn.runInsert(names.map((event, i) => ({type: 'track', event, messageId: `m${i}`})))

    // Then each error has its class, its retry flag and where it was thrown
    expect(run.outcomes).toEqual([
      {result: 'error', error: {errorClass: 'RetryError', message: 'try later', retryable: true, location: 'functions/errors.js:4:25'}},
      {result: 'error', error: {errorClass: 'InvalidEventPayload', message: 'no email', retryable: false, location: 'functions/errors.js:5:27'}},
      {result: 'error', error: {errorClass: 'ValidationError', message: 'bad', retryable: false, location: 'functions/errors.js:6:30'}},
      {result: 'error', error: {errorClass: 'EventNotSupported', message: 'no', retryable: false, location: 'functions/errors.js:7:31'}},
      {result: 'error', error: {errorClass: 'InvalidSettingsError', message: 'no key', retryable: false, location: 'functions/errors.js:8:28'}},
      {result: 'error', error: {errorClass: 'RetryError', message: 'sub', retryable: true, location: 'functions/errors.js:9:23'}},
      {
        result: 'error',
        error: {errorClass: 'TypeError', message: "Cannot read properties of undefined (reading 'here')", retryable: false, location: 'functions/errors.js:10:39'},
      },
      {result: 'error', error: {errorClass: 'Error', message: 'a string', retryable: false}},
    ])
  })

  it('uses onBatch for several events and matches its outputs to inputs by messageId', async () => {
    // Given an insert function with onBatch that drops one event, changes one and adds one
    const fn = await load(`
      function onTrack(event) { return {...event, single: true} }
      async function onBatch(events, settings) {
        const out = events.filter((e) => e.event !== 'drop me')
        out[0] = {...out[0], touched: settings.mark}
        out.push({type: 'track', event: 'extra', messageId: 'new-1'})
        return out
      }
    `, {settings: {mark: 'yes'}})

    // When three events go through, and then one
    const events = [track({}, 'a'), {...track({}, 'b'), event: 'drop me'}, track({}, 'c')]
    const batch = await fn.runInsert(events)
    const single = await fn.runInsert([track({}, 'd')])

    // Then outputs find their inputs; the unknown messageId stays with the first input
    expect(batch.outcomes).toEqual([
      {result: 'changed', events: [{...track({}, 'a'), touched: 'yes'}, {type: 'track', event: 'extra', messageId: 'new-1'}]},
      {result: 'dropped', reason: 'not returned by onBatch'},
      {result: 'unchanged', events: [track({}, 'c')]},
    ])
    // and a single event with its own handler goes to that handler
    expect(single.outcomes).toEqual([{result: 'changed', events: [{...track({}, 'd'), single: true}]}])
  })

  it('passes a fresh copy of the settings to each handler call', async () => {
    // Given a handler that mutates its settings
    const fn = await load(`
      function onTrack(event, settings) {
        settings.count = (settings.count || 0) + 1
        return {...event, count: settings.count, key: settings.apiKey}
      }
    `, {settings: {apiKey: 'k-1'}})

    // When it runs twice
    const first = await fn.runInsert([track()])
    const second = await fn.runInsert([track()])

    // Then each call saw the settings as configured
    expect(first.outcomes[0]).toEqual({result: 'changed', events: [{...track(), count: 1, key: 'k-1'}]})
    expect(second.outcomes[0]).toEqual({result: 'changed', events: [{...track(), count: 1, key: 'k-1'}]})
  })

  it('captures console lines per call, formatted, with the event index in batches and limits', async () => {
    // Given a function that logs
    const fn = await load(`
      function onTrack(event) {
        console.log('event', event.event, {n: 1}, [1, 2], undefined, null, 3)
        console.warn('careful')
        if (event.event === 'many') for (let i = 0; i < 150; i++) console.info('line ' + i)
        if (event.event === 'long') console.error('x'.repeat(5000))
        return event
      }
    `)

    // When it handles two events, then one that logs too much
    const two = await fn.runInsert([track({}, 'a'), {...track({}, 'b'), event: 'second'}])
    const many = await fn.runInsert([{...track(), event: 'many'}])
    const long = await fn.runInsert([{...track(), event: 'long'}])

    // Then the lines are captured in order, capped, and say what was left out
    expect(two.console).toEqual([
      {level: 'log', message: 'event Order Completed {"n":1} [1,2] undefined null 3', eventIndex: 0},
      {level: 'warn', message: 'careful', eventIndex: 0},
      {level: 'log', message: 'event second {"n":1} [1,2] undefined null 3', eventIndex: 1},
      {level: 'warn', message: 'careful', eventIndex: 1},
    ])
    expect(many.console).toHaveLength(101)
    expect(many.console[99]).toEqual({level: 'info', message: 'line 97'})
    expect(many.console[100]).toEqual({level: 'warn', message: '… 52 more console lines not kept (at most 100 per call)'})
    expect(long.console[2]!.message).toBe('x'.repeat(4096) + '… (904 more characters)')
  })

  it('keeps __proto__ keys of events as own keys through the function', async () => {
    // Given an event with a __proto__ key (as JSON.parse makes it)
    const event = JSON.parse('{"type":"track","event":"x","messageId":"m","properties":{"__proto__":{"polluted":true},"a":1}}')
    const fn = await load(`function onTrack(event) { event.properties.b = 2; return event }`)

    // When it goes through
    const run = await fn.runInsert([event])

    // Then the key is still an own key, and nothing was polluted
    const out = (run.outcomes[0] as {events: Record<string, any>[]}).events[0]!
    expect(Object.keys(out.properties)).toEqual(['__proto__', 'a', 'b'])
    expect(JSON.stringify(out.properties)).toBe('{"__proto__":{"polluted":true},"a":1,"b":2}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('reports a handler that returns something other than an event', async () => {
    // Given an onTrack that returns a string
    const fn = await load(`function onTrack(event) { return 'hello' }`)

    // When it runs
    const run = await fn.runInsert([track()])

    // Then the error says what it returned
    expect(run.outcomes).toEqual([
      {
        result: 'error',
        error: {errorClass: 'TypeError', message: 'onTrack returned a string: an insert function returns the event, or nothing to drop it', retryable: false},
      },
    ])
  })
})

describe('RudderStack transformations', () => {
  it('transformEvent and a Segment onTrack doing the same job give the same output', async () => {
    // Given the same job written both ways
    const rudder = await load(`
      export function transformEvent(event, metadata) {
        if (event.properties && event.properties.email) {
          event.properties.email_domain = event.properties.email.split('@')[1]
          delete event.properties.email
        }
        return event
      }
    `, {name: 'rudder'})
    const segment = await load(`
      async function onTrack(event, settings) {
        if (event.properties && event.properties.email) {
          event.properties.email_domain = event.properties.email.split('@')[1]
          delete event.properties.email
        }
        return event
      }
    `, {name: 'segment'})

    // When the same event goes through both
    const event = track({email: 'ada@example.com', total: 10})
    const a = await rudder.runInsert([event])
    const b = await segment.runInsert([event])

    // Then they agree
    expect(a.outcomes).toEqual([{result: 'changed', events: [track({total: 10, email_domain: 'example.com'})]}])
    expect(b.outcomes).toEqual(a.outcomes)
    expect(rudder.handlers).toEqual(['transformEvent'])
  })

  it('transformEvent may return several events or none, and gets metadata(event)', async () => {
    // Given a transformation that splits, drops, and reads metadata
    const fn = await load(`
      export function transformEvent(event, metadata) {
        if (event.event === 'split') return [{...event, part: 1}, {...event, part: 2}]
        if (event.event === 'drop') return null
        return {...event, meta: metadata(event)}
      }
    `, {}, {sourceName: 'web'})

    // When three events go through one by one
    const split = await fn.runInsert([{...track(), event: 'split'}])
    const drop = await fn.runInsert([{...track(), event: 'drop'}])
    const meta = await fn.runInsert([track()])

    // Then
    expect(split.outcomes).toEqual([{result: 'changed', events: [{...track(), event: 'split', part: 1}, {...track(), event: 'split', part: 2}]}])
    expect(drop.outcomes).toEqual([{result: 'dropped', reason: 'returned nothing'}])
    expect(meta.outcomes).toEqual([{result: 'changed', events: [{...track(), meta: {sourceId: 'web', sourceName: 'web', messageId: 'm-1'}}]}])
  })

  it('transformBatch gets the batch and its outputs are matched by messageId', async () => {
    // Given a batch transformation
    const fn = await load(`
      export function transformBatch(events, metadata) {
        return events.filter((e) => e.event !== 'drop').map((e) => ({...e, source: metadata(e).sourceName}))
      }
    `, {}, {sourceName: 'app'})

    // When two events go through
    const run = await fn.runInsert([track({}, 'a'), {...track({}, 'b'), event: 'drop'}])

    // Then
    expect(run.outcomes).toEqual([
      {result: 'changed', events: [{...track({}, 'a'), source: 'app'}]},
      {result: 'dropped', reason: 'not returned by transformBatch'},
    ])
  })
})

describe('destination functions', () => {
  it('delivers through per-type handlers; a missing handler is EventNotSupported', async () => {
    // Given a destination function with onTrack only
    const fn = await load(`
      async function onTrack(event, settings) {
        if (event.event === 'bad') throw new ValidationError('event name is bad')
        if (event.event === 'later') throw new RetryError('busy')
        return 'ignored'
      }
    `, {kind: 'destination', name: 'crm'})

    // When events go through
    const run = await fn.runDestination([track(), {...track(), event: 'bad'}, {...track(), event: 'later'}, {type: 'identify', messageId: 'i'}])

    // Then
    expect(run.outcomes).toEqual([
      {result: 'delivered'},
      {result: 'error', error: {errorClass: 'ValidationError', message: 'event name is bad', retryable: false, location: 'functions/crm.js:3:42'}},
      {result: 'error', error: {errorClass: 'RetryError', message: 'busy', retryable: true, location: 'functions/crm.js:4:44'}},
      {result: 'error', error: {errorClass: 'EventNotSupported', message: 'no onIdentify handler', retryable: false}},
    ])
  })

  it('onBatch returns a status per event: 2xx delivered, 429/5xx retried, other 4xx final', async () => {
    // Given an onBatch that answers per event (Segment's shape)
    const fn = await load(`
      async function onBatch(events, settings) {
        return events.map((e) => e.properties.status === 200 ? {status: 200} : {status: e.properties.status, errormessage: 'status ' + e.properties.status})
      }
    `, {kind: 'destination'})

    // When a batch goes through, and a single event
    const run = await fn.runDestination([track({status: 200}, 'a'), track({status: 400}, 'b'), track({status: 429}, 'c'), track({status: 503}, 'd')])
    const single = await fn.runDestination([track({status: 500})])

    // Then only the failed ones are errors, retryable by status
    expect(run.outcomes).toEqual([
      {result: 'delivered'},
      {result: 'error', error: {errorClass: 'InvalidEventPayload', message: 'status 400', retryable: false}, status: 400},
      {result: 'error', error: {errorClass: 'RetryError', message: 'status 429', retryable: true}, status: 429},
      {result: 'error', error: {errorClass: 'RetryError', message: 'status 503', retryable: true}, status: 503},
    ])
    expect(single.outcomes).toEqual([{result: 'error', error: {errorClass: 'RetryError', message: 'status 500', retryable: true}, status: 500}])
  })

  it('onBatch with no return value delivers all; a throw fails every event of the batch', async () => {
    // Given
    const fn = await load(`
      async function onBatch(events) {
        if (events.length > 2) throw new RetryError('API down')
      }
    `, {kind: 'destination'})

    // When
    const ok = await fn.runDestination([track({}, 'a'), track({}, 'b')])
    const failed = await fn.runDestination([track({}, 'a'), track({}, 'b'), track({}, 'c')])

    // Then
    expect(ok.outcomes).toEqual([{result: 'delivered'}, {result: 'delivered'}])
    const error = {result: 'error', error: {errorClass: 'RetryError', message: 'API down', retryable: true, location: 'functions/fn.js:3:38'}}
    expect(failed.outcomes).toEqual([error, error, error])
  })
})

describe('source functions', () => {
  const request = {
    body: JSON.stringify({type: 'charge.succeeded', data: {customer: 'cus_1', amount: 1200}}),
    headers: {'content-type': 'application/json', 'stripe-signature': 't=1,v1=abc'},
    url: 'http://127.0.0.1:4000/v1/functions/stripe?mode=live',
  }

  it('emits messages with Segment.track and friends; request.json/text/headers/url work', async () => {
    // Given a Stripe-like source function
    const fn = await load(`
      async function onRequest(request, settings) {
        const body = await request.json()
        const text = await request.text()
        const url = new URL(request.url)
        Segment.track({event: 'Charge Succeeded', userId: body.data.customer, properties: {amount: body.data.amount / 100, mode: request.url.searchParams.get('mode'), sig: request.headers.get('Stripe-Signature'), has: request.headers.has('content-type'), size: text.length, path: url.pathname, label: settings.label}})
        Segment.identify({userId: body.data.customer, traits: {paying: true}})
        Segment.set({collection: 'charges', id: 'ch_1', properties: {amount: 12}})
        console.log('ok')
      }
    `, {kind: 'source', name: 'stripe', settings: {label: 'L'}})

    // When a request comes
    const run = await fn.runSource(request)

    // Then the messages are copied out as JSON, in order
    expect(run.error).toBeUndefined()
    expect(run.messages).toEqual([
      {
        type: 'track',
        payload: {event: 'Charge Succeeded', userId: 'cus_1', properties: {amount: 12, mode: 'live', sig: 't=1,v1=abc', has: true, size: request.body.length, path: '/v1/functions/stripe', label: 'L'}},
      },
      {type: 'identify', payload: {userId: 'cus_1', traits: {paying: true}}},
    ])
    expect(run.unsupported).toEqual(['Segment.set({"collection":"charges","id":"ch_1","properties":{"amount":12}})'])
    expect(run.console).toEqual([{level: 'log', message: 'ok'}])
  })

  it('keeps what was emitted before an error, and request.json() of a body that is not JSON says so', async () => {
    // Given
    const fn = await load(`
      async function onRequest(request) {
        Segment.track({event: 'before', userId: 'u'})
        await request.json()
      }
    `, {kind: 'source'})

    // When the body is form-encoded
    const run = await fn.runSource({...request, body: 'a=1&b=2'})

    // Then
    expect(run.messages).toEqual([{type: 'track', payload: {event: 'before', userId: 'u'}}])
    expect(run.error?.errorClass).toBe('InvalidEventPayload')
    expect(run.error?.message).toMatch(/^request\.json\(\): the request body is not JSON \(Unexpected token/)
    expect(run.error?.retryable).toBe(false)
  })

  it('refuses to load a source function without onRequest', async () => {
    // When / Then
    await expect(loadFunctionSource(definition('s', {kind: 'source'}), 'function onTrack() {}')).rejects.toThrow(
      new FunctionLoadError('a source function defines onRequest(request, settings), and this file does not', 'functions/s.js'),
    )
  })
})
