import type {ErrorObject} from 'ajv'

export const violationKinds = [
  'unplanned_event',
  'missing_required',
  'wrong_type',
  'unexpected_property',
  'enum_mismatch',
  'pattern_mismatch',
  'format_mismatch',
  'constraint',
  'invalid_traits',
] as const
export type ViolationKind = (typeof violationKinds)[number]

/** One way a message breaks its plan. Paths are Segment's dotted form: properties.products[0].price. */
export interface Violation {
  kind: ViolationKind
  path: string
  expected: string
  actual: string
  message: string
}

/**
 * The violation of a track event the plan does not have. Its one source: the store keeps a flag
 * for it instead of a row (the common case of a new workspace) and rebuilds it with this on read.
 */
export function unplannedEventViolation(name: string): Violation {
  return {kind: 'unplanned_event', path: 'event', expected: 'an event in the tracking plan', actual: JSON.stringify(name), message: `"${name}" is not in the tracking plan.`}
}

/** "/properties/products/0/price" → "properties.products[0].price" */
export function dottedPath(pointer: string, child?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (child !== undefined) parts.push(child)
  let out = ''
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`
  return out
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data
  let current = data
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[part]
  }
  return current
}

/** The JSON Schema type of a value: integer for whole numbers, as ajv reports them. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length > 80 ? text.slice(0, 79) + '…' : text
}

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`)

/** Turns ajv's errors for one message into violations with plain sentences. */
export function violationsFromAjv(errors: readonly ErrorObject[], data: unknown, traitsKind: boolean): Violation[] {
  const out: Violation[] = []
  for (const error of errors) {
    const value = valueAt(data, error.instancePath)
    const at = dottedPath(error.instancePath)
    let violation: Violation
    switch (error.keyword) {
      case 'required': {
        const missing = (error.params as {missingProperty: string}).missingProperty
        const path = dottedPath(error.instancePath, missing)
        violation = {kind: 'missing_required', path, expected: 'present', actual: 'missing', message: `${path} is required but it is missing.`}
        break
      }
      case 'type': {
        const expected = String((error.params as {type: string | string[]}).type)
        const actual = jsonType(value)
        violation = {kind: 'wrong_type', path: at, expected, actual, message: `The value at ${at} must be ${article(expected.replace(/,/g, ' or '))} but it was ${article(actual)}.`}
        break
      }
      case 'additionalProperties': {
        const extra = (error.params as {additionalProperty: string}).additionalProperty
        const path = dottedPath(error.instancePath, extra)
        violation = {kind: 'unexpected_property', path, expected: 'not present', actual: shown(valueAt(data, `${error.instancePath}/${extra}`)), message: `${path} is not allowed: the plan lists every property of ${at || 'the message'}.`}
        break
      }
      case 'enum':
      case 'const': {
        const allowed = error.keyword === 'enum' ? (error.params as {allowedValues: unknown[]}).allowedValues : [(error.params as {allowedValue: unknown}).allowedValue]
        violation = {kind: 'enum_mismatch', path: at, expected: allowed.map((v) => JSON.stringify(v)).join(' | '), actual: shown(value), message: `The value at ${at} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')} but it was ${shown(value)}.`}
        break
      }
      case 'pattern': {
        const pattern = (error.params as {pattern: string}).pattern
        violation = {kind: 'pattern_mismatch', path: at, expected: pattern, actual: shown(value), message: `The value at ${at} must match the pattern ${pattern} but it was ${shown(value)}.`}
        break
      }
      case 'format': {
        const format = (error.params as {format: string}).format
        violation = {kind: 'format_mismatch', path: at, expected: format, actual: shown(value), message: `The value at ${at} must be a valid ${format} but it was ${shown(value)}.`}
        break
      }
      default:
        violation = {kind: 'constraint', path: at, expected: error.message ?? error.keyword, actual: shown(value), message: `The value at ${at} ${error.message ?? `breaks ${error.keyword}`} but it was ${shown(value)}.`}
    }
    if (traitsKind) violation.kind = 'invalid_traits'
    out.push(violation)
  }
  return out
}
