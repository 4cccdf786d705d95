import {describe, expect, it} from 'vitest'
import {normalizeMessage} from '../../src/message/normalize.js'
import {parseIsoTime, readIsoTime} from '../../src/message/time.js'

describe('parseIsoTime reads only times that exist', () => {
  it.each([
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['2026-03-01T12:00:00.123456Z', '2026-03-01T12:00:00.123Z'],
    ['2026-03-01T12:00:00,5+02:00', '2026-03-01T10:00:00.500Z'],
    ['2026-03-01 12:00Z', '2026-03-01T12:00:00.000Z'],
    ['2026-12-31T23:59:59-0130', '2027-01-01T01:29:59.000Z'],
  ])('%s', (text, iso) => {
    expect(new Date(parseIsoTime(text) as number).toISOString()).toBe(iso)
  })

  it('a date-time without a zone is local time, as Date.parse reads it', () => {
    expect(parseIsoTime('2026-03-01T12:00:00')).toBe(new Date(2026, 2, 1, 12, 0, 0).getTime())
  })

  it.each([
    ['2024-02-30T00:00:00Z', 'February 2024 has 29 days'],
    ['2023-02-29T00:00:00Z', 'February 2023 has 28 days'],
    ['1900-02-29', 'February 1900 has 28 days'],
    ['2024-04-31', 'April 2024 has 30 days'],
    ['2024-13-01', 'there is no month 13'],
    ['2024-00-10', 'there is no month 00'],
    ['2024-01-00', 'there is no day 00'],
    ['2024-01-01T25:00:00Z', 'there is no hour 25 (hours run from 00 to 23)'],
    // Date.parse takes 24:00 as the next midnight; no SDK sends it
    ['2024-01-01T24:00:00Z', 'there is no hour 24 (hours run from 00 to 23)'],
    ['2024-01-01T10:60Z', 'there is no minute 60 (minutes run from 00 to 59)'],
    ['2024-01-01T10:00:61Z', 'there is no second 61 (seconds run from 00 to 59)'],
    ['2024-01-01T10:00:00+24:00', 'the zone offset +24:00 does not exist'],
  ])('%s is refused: %s', (text, reason) => {
    expect(parseIsoTime(text)).toBeUndefined()
    expect(readIsoTime(text)).toEqual({ok: false, reason, malformed: false})
  })

  it.each(['yesterday', '2024-1-1', '2024-01-01T10', '1700000000', ''])('%j is not ISO 8601', (text) => {
    expect(readIsoTime(text)).toMatchObject({ok: false, malformed: true})
  })

  it('a message with a timestamp that does not exist is refused, naming the field', () => {
    const result = normalizeMessage({userId: 'u', event: 'E', timestamp: '2023-02-29T10:00:00Z'}, {receivedAt: Date.now(), endpointType: 'track'})
    expect(result).toEqual({
      ok: false,
      problem: {code: 'invalid_timestamp', field: 'timestamp', message: 'timestamp must be an ISO 8601 date-time string, but it was "2023-02-29T10:00:00Z"'},
    })
  })

  it('the shortcut for what SDKs send agrees with the full reading', () => {
    for (const text of ['2024-02-29T23:59:59.999Z', '2023-02-28T00:00:00Z', '2023-02-29T00:00:00.000Z', '2024-04-30T12:00:00.000Z', '2024-04-31T12:00:00.000Z', '2024-12-31T23:59:59.000Z', '1999-12-31T00:00:00Z']) {
      const reading = readIsoTime(text)
      expect(parseIsoTime(text)).toBe(reading.ok ? reading.time.ms : undefined)
    }
  })
})
