// ISO 8601 as the SDKs send it: a date, or a date and time with optional seconds, fraction and zone.
const iso8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/** Milliseconds since the epoch of an ISO 8601 string, or undefined when it is not one. */
export function parseIsoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !iso8601.test(value)) return undefined
  const ms = Date.parse(value.replace(',', '.'))
  return Number.isNaN(ms) ? undefined : ms
}
