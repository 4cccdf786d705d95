import {messageRuleFiles, type EventRule, type JsonSchema, type MessageRule, type MessageRuleKind, type PlanRefs, type TrackingPlan, type TraitsRule} from './types.js'
import {isPlainObject} from '../message/json-value.js'
import {setOwn} from '../message/own-keys.js'

/**
 * What changed between two versions of a plan, each change classified as breaking (a sender that
 * followed the old plan can now fail it, or a consumer loses something it relied on) or safe.
 * Pure: the two plans come in loaded; nothing here reads files or runs git.
 */

const kinds = {
  event_removed: true,
  event_version_removed: true,
  rule_removed: true,
  property_removed: true,
  required_property_added: true,
  property_required: true,
  type_narrowed: true,
  type_changed: true,
  enum_added: true,
  enum_value_removed: true,
  additional_properties_closed: true,
  constraint_tightened: true,
  constraint_changed: true,
  schema_changed: true,
  event_added: false,
  event_version_added: false,
  rule_added: false,
  property_added: false,
  property_optional: false,
  description_changed: false,
  type_widened: false,
  enum_removed: false,
  enum_value_added: false,
  additional_properties_opened: false,
  constraint_loosened: false,
} as const

export type ChangeKind = keyof typeof kinds

/** Whether each kind of change is breaking. */
export const breakingKinds: Readonly<Record<ChangeKind, boolean>> = kinds

export interface PlanChange {
  kind: ChangeKind
  breaking: boolean
  /** The track event's name, or "identify", "group", "page", "screen", "common". */
  event: string
  /** The track event's version; absent for the other rules. */
  version?: number
  /** Dotted, from the rule: "properties.products[].price", "traits.email", "description"; "" for the whole rule. */
  path: string
  /** The JSON Schema keyword a constraint or unclassified change is about ("minimum", "pattern", "anyOf"). */
  keyword?: string
  /** The value before and after (a type, an enum value, a property's schema, a file); null when there was none. */
  before: unknown
  after: unknown
  message: string
}

/** A schema node as seen from one side of the diff: $refs lead where that side's plan resolved them. */
interface Side {
  node: JsonSchema
  refs: PlanRefs
}

interface Context {
  event: string
  version?: number
  /** How messages name the rule: "Order Completed", "identify.json". */
  label: string
  push: (change: Omit<PlanChange, 'breaking' | 'event' | 'version'>) => void
}

/** A change with its fields in one order, so --json reads the same for every kind. */
function change(fields: Omit<PlanChange, 'breaking'>): PlanChange {
  const {kind, event, version, path, keyword, before, after, message} = fields
  return {kind, breaking: kinds[kind], event, version, path, keyword, before, after, message}
}

// As deep as a message may nest (message/limits); recursive definitions stop earlier, at their first repeat.
const maxDepth = 64

const lowerBounds = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']
const upperBounds = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']
/** Keywords that only restrict values, where there is no telling whether a change widens or narrows. */
const restrictions = ['pattern', 'format', 'multipleOf', 'uniqueItems']
/** Keywords compared on their own below, or that do not change which values pass. */
const handled = new Set([
  '$ref', '$id', '$schema', '$comment', 'title', 'description', 'examples', 'default', 'readOnly', 'writeOnly', 'deprecated', 'definitions', '$defs',
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items',
  ...lowerBounds, ...upperBounds, ...restrictions,
])

const compositions = new Set(['allOf', 'anyOf', 'oneOf'])

const show = (value: unknown): string => JSON.stringify(value)

/** Follows $refs; keywords beside a $ref (a description, typically) apply on top of its target. */
function deref(side: Side): Side & {target: object} {
  let {node} = side
  // The schema, as loaded, whose $ref is followed next: plan.refs knows it by identity.
  let holder: JsonSchema = node
  let target: object = node
  for (let hops = 0; typeof node.$ref === 'string' && hops < maxDepth; hops++) {
    const resolved = side.refs.target(holder)?.schema
    if (!isPlainObject(resolved)) break // unresolved: loading the plan reports it; compare the node as written
    if (hops === 0) target = resolved
    const {$ref: _, ...siblings} = node
    node = {...resolved, ...siblings}
    holder = resolved
  }
  return {node, refs: side.refs, target}
}

/** A value with every $ref in it replaced by its target, to compare keywords cdp does not classify. */
function expand(value: unknown, side: Side, within: ReadonlySet<object> = new Set()): unknown {
  if (Array.isArray(value)) return value.map((item) => expand(item, side, within))
  if (!isPlainObject(value)) return value
  // A recursive definition reached again: its expansion so far already says what it is.
  if (within.has(value)) return {$recursive: true}
  const inner = new Set(within).add(value)
  const resolved = deref({...side, node: value})
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(resolved.node).sort()) setOwn(out, key, expand(resolved.node[key], resolved, inner))
  return out
}

function child(side: Side, node: unknown): Side {
  return {node: isPlainObject(node) ? node : {}, refs: side.refs}
}

/** The JSON types a schema allows; undefined when it names none (any value). */
function typesOf(node: JsonSchema): string[] | undefined {
  if (typeof node.type === 'string') return [node.type]
  if (Array.isArray(node.type)) return node.type.filter((t): t is string => typeof t === 'string')
  return undefined
}

/** Whether a value of `type` passes a schema allowing `allowed`: integer is a number. */
function covers(allowed: string[] | undefined, type: string): boolean {
  return allowed === undefined || allowed.includes(type) || (type === 'integer' && allowed.includes('number'))
}

function typeText(types: string[] | undefined): string {
  return types === undefined ? 'any type' : types.length === 0 ? 'no type' : types.join(' or ')
}

/** The values a schema allows, when it lists them (enum, or const as a list of one). */
function valuesOf(node: JsonSchema): unknown[] | undefined {
  if (Array.isArray(node.enum)) return node.enum
  if ('const' in node) return [node.const]
  return undefined
}

function compareTypes(before: JsonSchema, after: JsonSchema, path: string, context: Context): void {
  const old = typesOf(before)
  const now = typesOf(after)
  const narrowed = old === undefined ? now !== undefined : now !== undefined && old.some((t) => !covers(now, t))
  const widened = now === undefined ? old !== undefined : old !== undefined && now.some((t) => !covers(old, t))
  if (!narrowed && !widened) return
  const kind = narrowed && widened ? 'type_changed' : narrowed ? 'type_narrowed' : 'type_widened'
  const verb = {type_changed: 'changed', type_narrowed: 'narrowed', type_widened: 'widened'}[kind]
  context.push({kind, path, before: before.type ?? null, after: after.type ?? null, message: `The type of ${path} in ${context.label} ${verb} from ${typeText(old)} to ${typeText(now)}.`})
}

function compareValues(before: JsonSchema, after: JsonSchema, path: string, context: Context): void {
  const old = valuesOf(before)
  const now = valuesOf(after)
  if (old === undefined && now === undefined) return
  if (old === undefined) {
    context.push({kind: 'enum_added', path, before: null, after: now, message: `${path} in ${context.label} now accepts only ${now!.map(show).join(', ')}.`})
    return
  }
  if (now === undefined) {
    context.push({kind: 'enum_removed', path, before: old, after: null, message: `${path} in ${context.label} no longer limits its values to ${old.map(show).join(', ')}.`})
    return
  }
  const oldKeys = new Set(old.map(show))
  const nowKeys = new Set(now.map(show))
  for (const value of old) {
    if (!nowKeys.has(show(value))) context.push({kind: 'enum_value_removed', path, before: value, after: null, message: `${path} in ${context.label} no longer accepts ${show(value)}.`})
  }
  for (const value of now) {
    if (!oldKeys.has(show(value))) context.push({kind: 'enum_value_added', path, before: null, after: value, message: `${path} in ${context.label} now also accepts ${show(value)}.`})
  }
}

function compareConstraints(before: JsonSchema, after: JsonSchema, path: string, context: Context): void {
  for (const keyword of [...lowerBounds, ...upperBounds, ...restrictions]) {
    const old = before[keyword]
    const now = after[keyword]
    if (show(old) === show(now)) continue
    const where = `The ${keyword} of ${path} in ${context.label}`
    const base = {path, keyword, before: old ?? null, after: now ?? null}
    // uniqueItems: false is the same as leaving it out.
    const absent = (value: unknown) => value === undefined || (keyword === 'uniqueItems' && value === false)
    if (absent(old) && absent(now)) continue
    if (absent(old)) context.push({...base, kind: 'constraint_tightened', message: `${where} was added: ${show(now)}.`})
    else if (absent(now)) context.push({...base, kind: 'constraint_loosened', message: `${where} was removed (it was ${show(old)}).`})
    else if (typeof old === 'number' && typeof now === 'number' && !restrictions.includes(keyword)) {
      const tightened = lowerBounds.includes(keyword) ? now > old : now < old
      context.push({...base, kind: tightened ? 'constraint_tightened' : 'constraint_loosened', message: `${where} went from ${old} to ${now}.`})
    } else {
      context.push({...base, kind: 'constraint_changed', message: `${where} changed from ${show(old)} to ${show(now)}; cdp cannot tell whether it accepts more or fewer values, so it counts as breaking.`})
    }
  }
}

function requiredOf(node: JsonSchema): Set<string> {
  return new Set(Array.isArray(node.required) ? node.required.filter((name): name is string => typeof name === 'string') : [])
}

function compareProperties(before: Side, after: Side, path: string, context: Context, depth: number): void {
  const old = isPlainObject(before.node.properties) ? before.node.properties : {}
  const now = isPlainObject(after.node.properties) ? after.node.properties : {}
  const oldRequired = requiredOf(before.node)
  const nowRequired = requiredOf(after.node)
  const names = [...new Set([...Object.keys(old), ...Object.keys(now), ...oldRequired, ...nowRequired])]
  for (const name of names) {
    const childPath = `${path}.${name}`
    const was = name in old
    const is = name in now
    if (was && !is) {
      context.push({kind: 'property_removed', path: childPath, before: old[name], after: null, message: `${childPath} was removed from ${context.label}.`})
      continue
    }
    if (!was && is) {
      const required = nowRequired.has(name)
      context.push({
        kind: required ? 'required_property_added' : 'property_added',
        path: childPath,
        before: null,
        after: now[name],
        message: required ? `${childPath} was added to ${context.label} as a required property.` : `${childPath} was added to ${context.label} as an optional property.`,
      })
      continue
    }
    if (!oldRequired.has(name) && nowRequired.has(name)) {
      context.push({kind: 'property_required', path: childPath, before: 'optional', after: 'required', message: `${childPath} is now required in ${context.label}.`})
    } else if (oldRequired.has(name) && !nowRequired.has(name)) {
      context.push({kind: 'property_optional', path: childPath, before: 'required', after: 'optional', message: `${childPath} is no longer required in ${context.label}.`})
    }
    if (was && is) compareSchemas(child(before, old[name]), child(after, now[name]), childPath, context, depth + 1)
  }
}

function compareAdditional(before: Side, after: Side, path: string, context: Context, depth: number): void {
  const old = before.node.additionalProperties
  const now = after.node.additionalProperties
  if (old !== false && now === false) {
    context.push({kind: 'additional_properties_closed', path, before: old ?? null, after: false, message: `${path} in ${context.label} no longer accepts properties it does not list (additionalProperties: false).`})
  } else if (old === false && now !== false) {
    context.push({kind: 'additional_properties_opened', path, before: false, after: now ?? null, message: `${path} in ${context.label} now accepts properties it does not list.`})
  } else if (isPlainObject(old) || isPlainObject(now)) {
    // Absent or true is the schema {}: any value. A schema for unlisted properties compares like a property.
    compareSchemas(child(before, old), child(after, now), `${path}.*`, context, depth + 1)
  }
}

function compareItems(before: Side, after: Side, path: string, context: Context, depth: number): void {
  const old = before.node.items
  const now = after.node.items
  if (Array.isArray(old) || Array.isArray(now)) {
    if (!Array.isArray(old) || !Array.isArray(now)) {
      if (show(expand(old, before)) !== show(expand(now, after))) {
        context.push({kind: 'schema_changed', path, keyword: 'items', before: old ?? null, after: now ?? null, message: `The items of ${path} in ${context.label} changed between one schema and a list; cdp cannot tell whether they accept more or fewer values, so it counts as breaking.`})
      }
      return
    }
    for (let i = 0; i < Math.max(old.length, now.length); i++) compareSchemas(child(before, old[i]), child(after, now[i]), `${path}[${i}]`, context, depth + 1)
    return
  }
  if (old !== undefined || now !== undefined) compareSchemas(child(before, old), child(after, now), `${path}[]`, context, depth + 1)
}

function compareOthers(before: Side, after: Side, path: string, context: Context, depth: number): void {
  const keywords = [...new Set([...Object.keys(before.node), ...Object.keys(after.node)])].filter((keyword) => !handled.has(keyword)).sort()
  for (const keyword of keywords) {
    const old = before.node[keyword]
    const now = after.node[keyword]
    if (show(expand(old, before)) === show(expand(now, after))) continue
    // Branches of allOf/anyOf/oneOf describe the same value as their parent: compare them one by
    // one when their number is unchanged, so a change inside one is named precisely.
    if (compositions.has(keyword) && Array.isArray(old) && Array.isArray(now) && old.length === now.length) {
      old.forEach((branch, i) => compareSchemas(child(before, branch), child(after, now[i]), path, context, depth + 1))
      continue
    }
    context.push({
      kind: 'schema_changed',
      path,
      keyword,
      before: old ?? null,
      after: now ?? null,
      message: `The ${keyword} keyword of ${path} in ${context.label} changed; cdp cannot tell whether it accepts more or fewer values, so it counts as breaking.`,
    })
  }
}

/**
 * The pairs of schemas (a definition, when reached by $ref) being compared up the current path:
 * a recursive definition (a category with subcategories) stops where it meets itself again.
 */
const visiting = new WeakMap<object, WeakSet<object>>()

function compareSchemas(beforeSide: Side, afterSide: Side, path: string, context: Context, depth = 0): void {
  if (depth > maxDepth) return
  const before = deref(beforeSide)
  const after = deref(afterSide)
  let partners = visiting.get(before.target)
  if (partners?.has(after.target)) return
  if (!partners) visiting.set(before.target, (partners = new WeakSet()))
  partners.add(after.target)
  try {
    compareNodes(before, after, path, context, depth)
  } finally {
    partners.delete(after.target)
  }
}

function compareNodes(before: Side, after: Side, path: string, context: Context, depth: number): void {
  const oldDescription = typeof before.node.description === 'string' ? before.node.description : null
  const nowDescription = typeof after.node.description === 'string' ? after.node.description : null
  if (oldDescription !== nowDescription) {
    context.push({kind: 'description_changed', path, before: oldDescription, after: nowDescription, message: `The description of ${path} in ${context.label} changed.`})
  }
  compareTypes(before.node, after.node, path, context)
  compareValues(before.node, after.node, path, context)
  compareConstraints(before.node, after.node, path, context)
  compareProperties(before, after, path, context, depth)
  compareAdditional(before, after, path, context, depth)
  compareItems(before, after, path, context, depth)
  compareOthers(before, after, path, context, depth)
}

type Rule = EventRule | TraitsRule | MessageRule

/** Compares the description and each schema part (properties, context, traits) of one rule. */
function compareRule(base: TrackingPlan, head: TrackingPlan, before: Rule, after: Rule, parts: readonly ('properties' | 'context' | 'traits')[], context: Context): void {
  const oldDescription = before.description ?? null
  const nowDescription = after.description ?? null
  if (oldDescription !== nowDescription) {
    context.push({kind: 'description_changed', path: 'description', before: oldDescription, after: nowDescription, message: `The description of ${context.label} changed.`})
  }
  for (const part of parts) {
    const old = (before as Partial<Record<typeof part, JsonSchema>>)[part]
    const now = (after as Partial<Record<typeof part, JsonSchema>>)[part]
    if (old === undefined && now === undefined) continue
    compareSchemas({node: old ?? {}, refs: base.refs}, {node: now ?? {}, refs: head.refs}, part, context)
  }
}

function eventLabel(name: string, version: number): string {
  return version === 1 ? `"${name}"` : `"${name}" version ${version}`
}

function diffEvents(base: TrackingPlan, head: TrackingPlan, changes: PlanChange[]): void {
  const names = [...new Set([...base.events.keys(), ...head.events.keys()])].sort()
  for (const name of names) {
    const old = base.events.get(name)
    const now = head.events.get(name)
    const files = (versions: Map<number, EventRule>) => [...versions.values()].sort((a, b) => a.version - b.version).map((rule) => rule.file)
    if (old && !now) {
      changes.push(change({kind: 'event_removed', event: name, path: '', before: files(old), after: null, message: `Event "${name}" was removed.`}))
      continue
    }
    if (!old && now) {
      changes.push(change({kind: 'event_added', event: name, path: '', before: null, after: files(now), message: `Event "${name}" was added.`}))
      continue
    }
    if (!old || !now) continue
    const versions = [...new Set([...old.keys(), ...now.keys()])].sort((a, b) => a - b)
    for (const version of versions) {
      const before = old.get(version)
      const after = now.get(version)
      if (before && !after) {
        changes.push(change({kind: 'event_version_removed', event: name, version, path: '', before: before.file, after: null, message: `Version ${version} of "${name}" was removed; messages that ask for it are checked against the oldest version left.`}))
      } else if (!before && after) {
        changes.push(change({kind: 'event_version_added', event: name, version, path: '', before: null, after: after.file, message: `Version ${version} of "${name}" was added.`}))
      } else if (before && after) {
        const context: Context = {event: name, version, label: eventLabel(name, version), push: (fields) => changes.push(change({...fields, event: name, version}))}
        compareRule(base, head, before, after, ['properties', 'context', 'traits'], context)
      }
    }
  }
}

/** identify.json, group.json, page.json, screen.json, common.json: without one, those calls are not checked. */
function diffRule(base: TrackingPlan, head: TrackingPlan, event: string, file: string, before: Rule | undefined, after: Rule | undefined, parts: readonly ('properties' | 'context' | 'traits')[], changes: PlanChange[]): void {
  const calls = event === 'common' ? 'calls' : `${event} calls`
  if (before && !after) {
    changes.push(change({kind: 'rule_removed', event, path: '', before: before.file, after: null, message: `${file} was removed: ${calls} are no longer checked.`}))
  } else if (!before && after) {
    changes.push(change({kind: 'rule_added', event, path: '', before: null, after: after.file, message: `${file} was added: ${calls} are now checked against it.`}))
  } else if (before && after) {
    compareRule(base, head, before, after, parts, {event, label: file, push: (fields) => changes.push(change({...fields, event}))})
  }
}

/** Every change from `base` to `head`, in plan order: events by name and version, then identify, group, page, screen, common. */
export function diffPlans(base: TrackingPlan, head: TrackingPlan): PlanChange[] {
  const changes: PlanChange[] = []
  diffEvents(base, head, changes)
  diffRule(base, head, 'identify', 'identify.json', base.identify, head.identify, ['traits', 'context'], changes)
  diffRule(base, head, 'group', 'group.json', base.group, head.group, ['traits', 'context'], changes)
  for (const [kind, file] of Object.entries(messageRuleFiles) as [MessageRuleKind, string][]) {
    diffRule(base, head, kind, file, base.rules[kind], head.rules[kind], ['properties', 'context', 'traits'], changes)
  }
  // Two branches of an allOf that use one definition would report its change twice.
  const seen = new Set<string>()
  return changes.filter((change) => {
    const key = JSON.stringify(change)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
