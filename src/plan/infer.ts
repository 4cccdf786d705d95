import {enumLimit, type ObservedEvent, type ObservedField} from './observe.js'
import {setOwn} from '../message/own-keys.js'
import type {JsonSchema} from './types.js'

/** Strings seen at least this often with at most enumLimit distinct values become an enum. */
const enumMinimumCount = 10

function typeOf(field: ObservedField): string | string[] {
  const types = new Set(Object.keys(field.types))
  // An integer field that was also fractional is a number.
  if (types.has('integer') && types.has('number')) types.delete('integer')
  const list = [...types].sort()
  return list.length === 1 ? list[0] : list
}

/** A JSON Schema describing what was observed at a field. */
export function inferSchema(field: ObservedField, parentCount: number): JsonSchema {
  const type = typeOf(field)
  const schema: JsonSchema = {type}
  if (type === 'string' && field.count >= enumMinimumCount && field.values.length <= enumLimit) schema.enum = [...field.values].sort()
  if (type === 'object' || (Array.isArray(type) && type.includes('object'))) {
    const properties: Record<string, JsonSchema> = {}
    const required: string[] = []
    for (const [key, child] of [...field.children].sort(([a], [b]) => a.localeCompare(b))) {
      // An observed "__proto__" key is a property like any other: keep it as one.
      setOwn(properties, key, inferSchema(child, field.types.object ?? parentCount))
      // Required: present every time its parent object was.
      if (child.count === (field.types.object ?? parentCount)) required.push(key)
    }
    schema.properties = properties
    if (required.length > 0) schema.required = required
  }
  if (field.items && (type === 'array' || (Array.isArray(type) && type.includes('array')))) schema.items = inferSchema(field.items, field.items.count)
  return schema
}

/** The plan file content for an observed event: its rule, described as inferred. */
export function inferRule(event: ObservedEvent): Record<string, unknown> {
  const description = `Inferred by cdp plan infer from ${event.count} observed event${event.count === 1 ? '' : 's'} (${event.firstSeen} to ${event.lastSeen}); review before committing.`
  const schema = inferSchema(event.root, event.count)
  if (event.type === 'track') return {name: event.name, description, properties: schema}
  return {description, traits: schema}
}
