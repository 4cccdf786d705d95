import type {JsonSchema} from './types.js'
import {isPlainObject} from '../message/json-value.js'

/** Keywords whose value is a map of name → subschema. */
const schemaMaps = ['properties', 'patternProperties', 'definitions', '$defs', 'dependencies', 'dependentSchemas'] as const
/** Keywords whose value is a subschema, or for some a list of them. */
const schemaValues = ['items', 'additionalProperties', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'] as const
/** Keywords whose value is a list of subschemas. */
const schemaLists = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const

/**
 * Calls visit on a schema and every subschema in it, with its JSON pointer; `propertyName` is set
 * for the schemas under "properties". Values of enum, const, default and examples are data, not
 * schemas, and are never visited.
 */
export function walkSchema(schema: unknown, pointer: string, visit: (schema: JsonSchema, pointer: string, propertyName?: string) => void, propertyName?: string): void {
  if (!isPlainObject(schema)) return
  visit(schema, pointer, propertyName)
  for (const key of schemaMaps) {
    const children = schema[key]
    // dependencies also takes lists of property names: those are not schemas and are skipped.
    if (isPlainObject(children)) for (const [name, child] of Object.entries(children)) walkSchema(child, `${pointer}/${key}/${escapePointer(name)}`, visit, key === 'properties' ? name : undefined)
  }
  for (const key of schemaValues) {
    const child = schema[key]
    if (Array.isArray(child)) child.forEach((item, index) => walkSchema(item, `${pointer}/${key}/${index}`, visit))
    else walkSchema(child, `${pointer}/${key}`, visit)
  }
  for (const key of schemaLists) {
    const list = schema[key]
    if (Array.isArray(list)) list.forEach((item, index) => walkSchema(item, `${pointer}/${key}/${index}`, visit))
  }
}

/** A name as one segment of a JSON pointer (RFC 6901): "~" → "~0", "/" → "~1". */
export function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** One segment of a JSON pointer as the name it stands for: "~1" → "/", then "~0" → "~". */
export function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~')
}
