import uriModule from 'ajv/dist/runtime/uri.js'
import type {UriResolver} from 'ajv/dist/types/index.js'
import {escapePointer, unescapePointer, walkSchema} from './schema-walk.js'
import type {EventRule, JsonSchema, MessageRule, PlanProblem, PlanRefs, ResolvedRef, TrackingPlan, TraitsRule} from './types.js'
import {isPlainObject} from '../message/json-value.js'
import {ownValue} from '../message/own-keys.js'

/**
 * Every $ref of a plan, resolved once when the plan is loaded, the way ajv resolves it for
 * validation: the same URI rules (ajv's own resolver), against the same documents (a rule file as
 * its message schema, definitions.json whole), the same JSON pointers (RFC 6901: percent-decoded,
 * then ~1 → "/" and ~0 → "~"). Declared paths, plan diff, Segment export and codegen follow these
 * answers instead of reading $ref strings themselves.
 *
 * Why not @apidevtools/json-schema-ref-parser: it is asynchronous and reads files and URLs, while
 * plans are hostile input loaded synchronously from memory (a folder, or git blobs for plan diff);
 * and dereferencing would inline shared definitions (codegen names a type after each definition)
 * and turn recursive definitions into cyclic objects. Here nothing is fetched or read: a $ref
 * reaches only the files the loader already holds, and targets are found by object identity.
 */

// ajv's default URI resolver (fast-uri), so a $ref's address is worked out exactly as ajv does.
// CommonJS interop: the resolver is the default export or the module itself.
const uri = ((uriModule as unknown as {default?: UriResolver}).default ?? uriModule) as unknown as UriResolver

/** Every plan schema is addressed under this base, so relative $refs between files resolve. */
export const planBaseUri = 'https://plan.cdp.local/'

/**
 * A rule file as one JSON Schema: the message schema {properties: {properties, context, traits},
 * definitions}. It is what ajv compiles and what "#/…" in the file points into, and the layout
 * of a Segment rule's jsonSchema, so a pointer means the same in all three. Identify and group
 * list traits first: ajv reports violations in this order.
 */
export function ruleDocument(rule: EventRule | TraitsRule | MessageRule): JsonSchema {
  const parts: Record<string, JsonSchema | undefined> = 'version' in rule ? {properties: rule.properties, context: rule.context, traits: rule.traits} : {traits: rule.traits, context: rule.context}
  const properties: Record<string, JsonSchema> = {}
  for (const [key, schema] of Object.entries(parts)) if (schema) properties[key] = schema
  return {type: 'object', properties, ...(rule.definitions ? {definitions: rule.definitions} : {})}
}

/** The address ajv gives a document (no fragment), normalised as ajv normalises it. */
function documentAddress(url: string): string {
  return uri.serialize(uri.parse(url)).split('#')[0]
}

/** The files a $ref can reach: each rule file and definitions.json, by address. */
function planDocuments(plan: TrackingPlan): Map<string, {file: string; root: JsonSchema}> {
  const documents = new Map<string, {file: string; root: JsonSchema}>()
  const add = (file: string, root: JsonSchema) => documents.set(documentAddress(planBaseUri + file), {file, root})
  for (const versions of plan.events.values()) for (const rule of versions.values()) add(rule.file, ruleDocument(rule))
  if (plan.identify) add(plan.identify.file, ruleDocument(plan.identify))
  if (plan.group) add(plan.group.file, ruleDocument(plan.group))
  for (const rule of Object.values(plan.rules)) if (rule) add(rule.file, ruleDocument(rule))
  if (plan.definitions) add(plan.definitions.file, plan.definitions.document)
  return documents
}

/**
 * A URI fragment as JSON pointer segments, as ajv reads it: each percent-decoded, then unescaped.
 * Undefined for a plain-name fragment ($id anchors are not followed) or malformed percent-encoding.
 */
function pointerSegments(fragment: string): string[] | undefined {
  if (fragment === '') return []
  if (!fragment.startsWith('/')) return undefined
  try {
    return fragment.slice(1).split('/').map((part) => unescapePointer(decodeURIComponent(part)))
  } catch {
    return undefined
  }
}

/** The value at those segments, by own keys only; undefined when there is none. */
function valueAt(root: unknown, segments: readonly string[]): unknown {
  let value = root
  for (const key of segments) {
    if (Array.isArray(value)) value = /^(0|[1-9][0-9]*)$/.test(key) ? value[Number(key)] : undefined
    else if (isPlainObject(value)) value = ownValue(value, key)
    else return undefined
    if (value === undefined) return undefined
  }
  return value
}

/**
 * Resolves every $ref of a loaded plan. A $ref that leads nowhere (a missing file or name, a URL
 * outside the plan, another rule's file, a value that is not a schema) is a plan problem of the
 * file it is in, with the message compilePlan gave before: the rule is unusable, for validation
 * and everything else alike.
 */
export function resolvePlanRefs(plan: TrackingPlan): {refs: PlanRefs; problems: PlanProblem[]} {
  const documents = planDocuments(plan)
  const targets = new WeakMap<object, ResolvedRef>()
  const unresolvedIn = new Set<string>()
  const problems: PlanProblem[] = []
  const reported = new Set<string>()
  const walked = new WeakSet<object>()
  const report = (file: string, message: string) => {
    unresolvedIn.add(file)
    if (reported.has(`${file}\u0000${message}`)) return
    reported.add(`${file}\u0000${message}`)
    problems.push({severity: 'error', file, message})
  }

  const walk = (file: string, schema: JsonSchema, at: string) => {
    // Schemas under a nested $id: ajv would resolve their $refs against that $id, cdp does not.
    const scopes: string[] = []
    walkSchema(schema, at, (node, pointer) => {
      if (walked.has(node)) return
      walked.add(node)
      if (pointer !== '' && typeof node.$id === 'string') scopes.push(`${pointer}/`)
      if (!Object.hasOwn(node, '$ref') || typeof node.$ref !== 'string') return
      const ref = node.$ref
      if (scopes.some((scope) => pointer.startsWith(scope) || `${pointer}/` === scope)) {
        report(file, `$ref ${ref} sits under a nested $id: cdp resolves $refs by file and JSON pointer; remove the $id`)
        return
      }
      const target = locate(ref, file)
      if (!target) {
        report(file, `unresolved $ref ${ref}: no schema or definition at that address`)
        return
      }
      targets.set(node, target)
      // A target outside the subschemas walked so far (under a keyword cdp does not know) has its own $refs.
      if (isPlainObject(target.schema) && !walked.has(target.schema)) queue.push({file: target.file, schema: target.schema, pointer: target.pointer})
    })
  }

  const locate = (ref: string, file: string): ResolvedRef | undefined => {
    let address: string
    let fragment: string
    try {
      const parsed = uri.parse(uri.resolve(planBaseUri + file, ref))
      address = documentAddress(uri.serialize(parsed))
      fragment = parsed.fragment ?? ''
    } catch {
      return undefined
    }
    const document = documents.get(address)
    // A rule reaches its own file and definitions.json: ajv knows another rule's file only once
    // that rule is compiled, so such a $ref would work or not by the order of the files.
    if (!document || (document.file !== file && document.file !== plan.definitions?.file)) return undefined
    const segments = pointerSegments(fragment)
    if (!segments) return undefined
    const schema = valueAt(document.root, segments)
    if (!isPlainObject(schema) && typeof schema !== 'boolean') return undefined
    // One spelling per place: "%7E0a" and "~0a" are the same pointer.
    return {file: document.file, pointer: segments.map((segment) => `/${escapePointer(segment)}`).join(''), schema}
  }

  const queue: {file: string; schema: JsonSchema; pointer: string}[] = [...documents.values()].map(({file, root}) => ({file, schema: root, pointer: ''}))
  while (queue.length > 0) {
    const next = queue.shift() as (typeof queue)[number]
    walk(next.file, next.schema, next.pointer)
  }
  return {refs: {target: (node) => targets.get(node), unresolvedIn}, problems}
}
