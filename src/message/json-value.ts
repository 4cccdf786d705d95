import type {JsonObject} from './types.js'

/** Parsed JSON, read without trusting its shape: helpers for every layer that takes JSON in. */

export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** How a JSON value is named in an error: "an array", "a string", "null". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
