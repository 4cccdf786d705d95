import {escapePointer, unescapePointer} from './schema-walk.js'
import type {JsonSchema, ResolvedRef, TrackingPlan} from './types.js'
import {isPlainObject} from '../message/json-value.js'
import {setOwn} from '../message/own-keys.js'

/** A rule's schemas and the file they are in (absent for a rule cdp made up, which has no $refs). */
export interface RuleSchemas {
  description?: string
  properties?: JsonSchema
  context?: JsonSchema
  traits?: JsonSchema
  definitions?: Record<string, JsonSchema>
  file?: string
}

/** A JSON pointer as a URI fragment: "%" is the one character a pointer may hold that a fragment may not. */
const fragment = (pointer: string) => `#${pointer.replace(/%/g, '%25')}`

/** The name a copied target is given: its key ("product" for /definitions/product), or its file's name for a whole file. */
function baseName(ref: ResolvedRef): string {
  const segments = ref.pointer.split('/').slice(1)
  const last = segments.at(-1)
  if (last === undefined) return ref.file.replace(/^.*\//, '').replace(/\.json$/, '')
  return unescapePointer(last)
}

/**
 * A rule that needs no other file, as a Segment rule must be and as codegen compiles each rule:
 * every $ref leads into the rule's own definitions. A $ref into another file (definitions.json),
 * or into the rule's file outside its definitions, becomes "#/definitions/<name>" and the
 * definitions carry a copy of what it pointed at (and of what that uses, recursively), named after
 * its key ("product"; "b" for "…#/definitions/a/properties/b"), with "_2", "_3"… when the rule
 * already uses the name. $refs go where loading the plan resolved them (plan.refs).
 */
export function selfContained(plan: TrackingPlan, rule: RuleSchemas): RuleSchemas {
  const own = rule.definitions ?? {}
  const names = new Map<string, string>()
  const taken = new Set(Object.keys(own))
  const needed: {name: string; ref: ResolvedRef}[] = []

  const localRef = (ref: ResolvedRef, written: string): string => {
    const [, keyword, name] = ref.pointer.split('/')
    if (ref.file === rule.file && keyword === 'definitions' && name !== undefined && Object.hasOwn(own, unescapePointer(name))) {
      return written.startsWith('#') ? written : fragment(ref.pointer)
    }
    const key = `${ref.file}\u0000${ref.pointer}`
    let local = names.get(key)
    if (local === undefined) {
      const base = baseName(ref)
      local = base
      for (let i = 2; taken.has(local); i++) local = `${base}_${i}`
      taken.add(local)
      names.set(key, local)
      needed.push({name: local, ref})
    }
    return fragment(`/definitions/${escapePointer(local)}`)
  }

  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite)
    if (!isPlainObject(value)) return value
    const target = plan.refs.target(value)
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && target && typeof child === 'string') out[key] = localRef(target, child)
      else setOwn(out, key, rewrite(child))
    }
    return out
  }

  const result = {...rule}
  for (const key of ['properties', 'context', 'traits'] as const) if (rule[key]) result[key] = rewrite(rule[key]) as JsonSchema
  // The rule's own definitions may use definitions.json too.
  const ownRewritten: Record<string, JsonSchema> = {}
  for (const [name, definition] of Object.entries(own)) setOwn(ownRewritten, name, rewrite(definition))
  if (needed.length === 0) return result
  const definitions: Record<string, JsonSchema> = {...ownRewritten}
  const queue = [...needed]
  while (queue.length > 0) {
    const {name, ref} = queue.pop() as (typeof needed)[number]
    if (Object.hasOwn(definitions, name)) continue
    const before = needed.length
    setOwn(definitions, name, rewrite(ref.schema))
    queue.push(...needed.slice(before))
  }
  result.definitions = definitions
  return result
}
