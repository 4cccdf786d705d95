import {messageTraits} from '../message/traits.js'
import type {SegmentMessage} from '../message/types.js'
import {jsonType} from './violations.js'

/** What was seen at one JSON path across the observed events. */
export interface ObservedField {
  path: string
  /** JSON type → how many times it was seen. */
  types: Record<string, number>
  /** Events in which the path was present. */
  count: number
  /** Distinct string values, up to enumLimit + 1 (more means "many"). */
  values: string[]
  /** Fields nested under this object, or under this array's elements ("items"). */
  children: Map<string, ObservedField>
  items?: ObservedField
}

export interface ObservedEvent {
  /** The track event name, or "identify" / "group" for traits. */
  name: string
  type: 'track' | 'identify' | 'group'
  count: number
  firstSeen: string
  lastSeen: string
  /** properties (track) or traits (identify, group). */
  root: ObservedField
}

export const enumLimit = 5
const maxDepth = 6

function newField(path: string): ObservedField {
  return {path, types: {}, count: 0, values: [], children: new Map()}
}

function observe(field: ObservedField, value: unknown, depth: number): void {
  const type = jsonType(value)
  field.types[type] = (field.types[type] ?? 0) + 1
  if (type === 'string' && field.values.length <= enumLimit && !field.values.includes(value as string)) field.values.push(value as string)
  if (depth >= maxDepth) return
  if (type === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      let observed = field.children.get(key)
      if (!observed) field.children.set(key, (observed = newField(field.path === '' ? key : `${field.path}.${key}`)))
      observed.count++
      observe(observed, child, depth + 1)
    }
  } else if (type === 'array') {
    field.items ??= newField(`${field.path}[]`)
    for (const item of value as unknown[]) {
      field.items.count++
      observe(field.items, item, depth + 1)
    }
  }
}

/** Aggregates the shape of observed events, one message at a time. */
export class SchemaObserver {
  readonly events = new Map<string, ObservedEvent>()

  add(message: SegmentMessage): void {
    let name: string
    let part: unknown
    if (message.type === 'track') {
      name = message.event as string
      part = message.properties ?? {}
    } else if (message.type === 'identify' || message.type === 'group') {
      name = message.type
      // Wherever the message has them: RudderStack's browser SDK sends an identify's in context.traits only.
      part = messageTraits(message).traits
    } else return
    const key = `${message.type}\u0000${name}`
    let event = this.events.get(key)
    if (!event) {
      const root = newField(message.type === 'track' ? 'properties' : 'traits')
      event = {name, type: message.type, count: 0, firstSeen: message.receivedAt, lastSeen: message.receivedAt, root}
      this.events.set(key, event)
    }
    event.count++
    event.root.count++
    if (message.receivedAt < event.firstSeen) event.firstSeen = message.receivedAt
    if (message.receivedAt > event.lastSeen) event.lastSeen = message.receivedAt
    observe(event.root, part, 0)
  }
}
