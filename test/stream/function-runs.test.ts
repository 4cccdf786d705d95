import {describe, expect, it} from 'vitest'
import type {FunctionRunRecord} from '../../src/functions/types.js'
import {SseParser} from '../../src/stream/client.js'
import type {HistoryCursor} from '../../src/stream/history.js'
import {StreamHub, type StreamWriter} from '../../src/stream/hub.js'
import type {StreamEvent, StreamFilter, StreamItem} from '../../src/stream/types.js'
import type {NewEvent} from '../../src/store/types.js'

/** A connection whose reader takes everything at once. */
class Connection implements StreamWriter {
  private text = ''

  write(frame: string): boolean {
    this.text += frame
    return true
  }

  queuedBytes(): number {
    return 0
  }

  onDrain(): void {}

  end(): void {}

  frames(): string {
    return this.text
  }

  items(): StreamItem[] {
    return new SseParser().push(this.text)
  }
}

function row(messageId: string, source: string, event: string): NewEvent {
  const message = JSON.stringify({type: 'track', event, messageId, userId: 'u'})
  return {messageId, source, type: 'track', event, userId: 'u', anonymousId: null, timestamp: '2026-03-01T12:00:00.000Z', receivedAt: '2026-03-01T12:00:00.000Z', raw: message, message, valid: null, violations: [], policy: null}
}

function publishEvent(hub: StreamHub, seq: number, messageId: string, source = 'web', event = 'Order Completed'): void {
  hub.publishEvents([row(messageId, source, event)], {inserted: 1, duplicates: 0, stored: [true], seqs: [seq]})
}

function run(stage: FunctionRunRecord['stage'], target: string, messageId: string | undefined, result: FunctionRunRecord['result'] = 'changed'): FunctionRunRecord {
  return {at: '2026-03-01T12:00:00.000Z', function: 'f', kind: stage === 'request' ? 'source' : 'insert', stage, target, ...(messageId ? {messageId} : {}), result, console: [], ms: 1}
}

/** What a reader with this filter gets of: a source function on web before its event, the event, a destination function on it, and the same for an api event. */
function scenario(filter: StreamFilter): string[] {
  const hub = new StreamHub()
  const connection = new Connection()
  hub.subscribe(connection, filter)
  hub.publishFunctionRuns([run('request', 'web', undefined, 'emitted'), run('source', 'web', 'w-1')])
  publishEvent(hub, 1, 'w-1')
  hub.publishFunctionRuns([run('destination', 'crm', 'w-1', 'error')])
  hub.publishFunctionRuns([run('source', 'api', 'a-1', 'dropped'), run('source', 'api', 'a-2')])
  publishEvent(hub, 2, 'a-2', 'api', 'Signed Up')
  hub.publishFunctionRuns([run('destination', 'crm', 'a-2', 'delivered')])
  return connection.items().map((item) => (item.kind === 'event' ? `event ${item.messageId}` : item.kind === 'function' ? `fn ${item.run.stage} ${item.run.target} ${item.run.messageId ?? '-'}` : item.kind))
}

describe('function records on the live stream', () => {
  it('are SSE frames of kind "function" that the client parses back whole', () => {
    // Given a reader with no filter
    const hub = new StreamHub()
    const connection = new Connection()
    hub.subscribe(connection, {})
    const record: FunctionRunRecord = {...run('destination', 'crm', 'm-1', 'error'), errorClass: 'RetryError', message: 'later\nagain', console: [{level: 'warn', message: 'line\r\n two'}]}

    // When a record is published
    hub.publishFunctionRuns([record])

    // Then it is one frame without an id, and parses to the record
    expect(connection.frames()).toBe(`event: function\ndata: ${JSON.stringify({kind: 'function', run: record})}\n\n`)
    expect(connection.items()).toEqual([{kind: 'function', run: record}])
  })

  it('reach a reader with no filter, all of them, in the order they happen', () => {
    expect(scenario({})).toEqual([
      'fn request web -',
      'fn source web w-1',
      'event w-1',
      'fn destination crm w-1',
      'fn source api a-1',
      'fn source api a-2',
      'event a-2',
      'fn destination crm a-2',
    ])
  })

  it('reach a reader of one source: what ran before storage on it, and what ran on its events', () => {
    expect(scenario({source: 'web'})).toEqual(['fn request web -', 'fn source web w-1', 'event w-1', 'fn destination crm w-1'])
    expect(scenario({source: 'api'})).toEqual(['fn source api a-1', 'fn source api a-2', 'event a-2', 'fn destination crm a-2'])
  })

  it('reach a reader with another filter only after an event it was sent', () => {
    expect(scenario({event: 'Signed Up'})).toEqual(['event a-2', 'fn destination crm a-2'])
    expect(scenario({source: 'web', type: 'identify'})).toEqual([])
  })

  it('follow the history events a filtered reader was sent, after them', async () => {
    // Given a reader of web events whose history is one stored event
    const hub = new StreamHub()
    const connection = new Connection()
    let given = false
    const history: HistoryCursor = {
      next: () => {
        if (given) return undefined
        given = true
        return [{kind: 'event', seq: 1, messageId: 'stored-1', source: 'web', type: 'track', name: 'Order Completed', violations: [], message: {}} as unknown as StreamEvent]
      },
    }
    hub.subscribe(connection, {source: 'web', user: 'u'}, history)

    // When a destination function's record of that event comes while history is being sent, and after
    hub.publishFunctionRuns([run('destination', 'crm', 'stored-1')])
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    hub.publishFunctionRuns([run('destination', 'crm', 'stored-1', 'error')])

    // Then the reader gets the later one, after the event (the first came before the event was sent)
    expect(connection.items().map((item) => (item.kind === 'function' ? `fn ${item.run.result}` : item.kind))).toEqual(['event', 'fn error'])
  })
})
