// ISO 8601 as the SDKs send it: a date, or a date and time with optional seconds, fraction and zone.
const iso8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)?)?$/i

/** The fields of an ISO 8601 date or date-time, each checked to exist on the calendar and the clock. */
export interface IsoTime {
  /** Milliseconds since the epoch. A date alone is midnight UTC; a date-time without a zone is local time (as Date.parse reads them). */
  ms: number
  year: number
  /** Whether the text names a time of day, and whether it names its zone (Z or an offset). */
  hasTime: boolean
  hasZone: boolean
  /** The zone's offset in whole hours and minutes, unsigned; 0 for Z or no zone. */
  offsetHours: number
  offsetMinutes: number
}

/** A refusal says why; `malformed` when the text is not ISO 8601 at all, rather than a time that does not exist. */
export type IsoTimeReading = {ok: true; time: IsoTime} | {ok: false; reason: string; malformed: boolean}

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysIn(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
}

/**
 * Reads an ISO 8601 string, or says why it is not one. Date.parse alone is not enough: it
 * rolls 2024-02-30 over to March 1 and takes 24:00 as the next midnight, so each field is
 * checked against the calendar first (leap years included); a time that does not exist is refused.
 */
export function readIsoTime(value: string): IsoTimeReading {
  const m = iso8601.exec(value)
  if (!m) return {ok: false, reason: 'it is not in ISO 8601 form (2024-05-01 or 2024-05-01T12:30:00Z)', malformed: true}
  const [year, month, day] = [m[1], m[2], m[3]].map(Number)
  if (month < 1 || month > 12) return {ok: false, reason: `there is no month ${m[2]}`, malformed: false}
  const days = daysIn(year, month)
  if (day < 1 || day > days) return {ok: false, reason: day < 1 ? `there is no day ${m[3]}` : `${monthNames[month - 1]} ${m[1]} has ${days} days`, malformed: false}
  const hasTime = m[4] !== undefined
  if (hasTime) {
    if (Number(m[4]) > 23) return {ok: false, reason: `there is no hour ${m[4]} (hours run from 00 to 23)`, malformed: false}
    if (Number(m[5]) > 59) return {ok: false, reason: `there is no minute ${m[5]} (minutes run from 00 to 59)`, malformed: false}
    if (m[6] !== undefined && Number(m[6]) > 59) return {ok: false, reason: `there is no second ${m[6]} (seconds run from 00 to 59)`, malformed: false}
  }
  const hasZone = m[8] !== undefined
  const offsetHours = m[10] === undefined ? 0 : Number(m[10])
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11])
  if (offsetHours > 23 || offsetMinutes > 59) return {ok: false, reason: `the zone offset ${m[8]} does not exist`, malformed: false}
  // The same instant in the one form Date.parse reads exactly alike everywhere.
  const canonical = hasTime
    ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}.${(m[7] ?? '').padEnd(3, '0').slice(0, 3)}${
        !hasZone ? '' : m[8].toUpperCase() === 'Z' ? 'Z' : `${m[9]}${m[10]}:${m[11] ?? '00'}`
      }`
    : `${m[1]}-${m[2]}-${m[3]}`
  const ms = Date.parse(canonical)
  if (Number.isNaN(ms)) return {ok: false, reason: 'it is outside the range of dates cdp can store', malformed: false}
  return {ok: true, time: {ms, year, hasTime, hasZone, offsetHours, offsetMinutes}}
}

// What the SDKs send (Date.prototype.toISOString, UTC): every field already in range but the day,
// so one test and Date.parse read it. Twice per message, so worth the shortcut (4× faster).
const sdkForm = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{3})?Z$/

/** Milliseconds since the epoch of an ISO 8601 string, or undefined when it is not one or names a time that does not exist. */
export function parseIsoTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  if (sdkForm.test(value)) {
    const day = Number(value.slice(8, 10))
    return day <= 28 || day <= daysIn(Number(value.slice(0, 4)), Number(value.slice(5, 7))) ? Date.parse(value) : undefined
  }
  const reading = readIsoTime(value)
  return reading.ok ? reading.time.ms : undefined
}
