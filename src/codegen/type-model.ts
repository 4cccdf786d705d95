import {isPlainObject} from '../message/json-value.js'
import {unescapePointer} from '../plan/schema-walk.js'
import type {JsonSchema} from '../plan/types.js'
import {pascalCase} from './names.js'

/**
 * The TypeScript type a JSON Schema describes, as a small tree that prints both as TypeScript
 * declarations and as JSDoc typedefs: one model, so the JavaScript client checks calls exactly as
 * the TypeScript client does.
 */
export type TypeNode =
  | {kind: 'keyword'; name: 'string' | 'number' | 'boolean' | 'null' | 'unknown' | 'never'}
  /** A JSON literal (string, number, boolean) as its TypeScript text. */
  | {kind: 'literal'; text: string}
  | {kind: 'ref'; name: string}
  | {kind: 'array'; items: TypeNode}
  | {kind: 'tuple'; items: TypeNode[]; rest?: TypeNode}
  | {kind: 'object'; members: Member[]; index?: TypeNode}
  | {kind: 'union'; types: TypeNode[]}
  | {kind: 'intersection'; types: TypeNode[]}

export interface Member {
  name: string
  optional: boolean
  type: TypeNode
  description?: string
}

/** A named type of the client: an event's properties, traits, or a definition they share. */
export interface Declaration {
  name: string
  description?: string
  type: TypeNode
}

const unknownType: TypeNode = {kind: 'keyword', name: 'unknown'}
const keywordOf: Record<string, TypeNode> = {
  string: {kind: 'keyword', name: 'string'},
  number: {kind: 'keyword', name: 'number'},
  integer: {kind: 'keyword', name: 'number'},
  boolean: {kind: 'keyword', name: 'boolean'},
  null: {kind: 'keyword', name: 'null'},
}

/** Up to this many required items an array becomes a tuple with a rest ([T, ...T[]]), as json-schema-to-typescript made it. */
const maxTupleItems = 5

/** A value of `const` or `enum` as a type: literals, and tuples and objects of literals. */
function literalType(value: unknown): TypeNode {
  if (value === null) return keywordOf.null
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return {kind: 'literal', text: JSON.stringify(value)}
  if (Array.isArray(value)) return {kind: 'tuple', items: value.map(literalType)}
  if (isPlainObject(value)) return {kind: 'object', members: Object.entries(value).map(([name, child]) => ({name, optional: false, type: literalType(child)}))}
  return unknownType
}

function union(types: TypeNode[]): TypeNode {
  const flat = types.flatMap((type) => (type.kind === 'union' ? type.types : [type]))
  if (flat.some((type) => type.kind === 'keyword' && type.name === 'unknown')) return unknownType
  const seen = new Set<string>()
  const unique = flat.filter((type) => {
    const key = JSON.stringify(type)
    return !seen.has(key) && Boolean(seen.add(key))
  })
  if (unique.length === 0) return {kind: 'keyword', name: 'never'}
  return unique.length === 1 ? unique[0] : {kind: 'union', types: unique}
}

function intersection(types: TypeNode[]): TypeNode {
  const meaningful = types.filter((type) => !(type.kind === 'keyword' && type.name === 'unknown'))
  if (meaningful.length === 0) return unknownType
  return meaningful.length === 1 ? meaningful[0] : {kind: 'intersection', types: meaningful}
}

/**
 * Names the definitions of many self-contained rules: one declaration per distinct definition
 * (two rules that copied the same definition share it; a different one under a taken name gets
 * a number), named in PascalCase after its key, never a name the client already uses.
 */
export class TypeNamer {
  readonly declarations = new Map<string, Declaration>()
  private readonly taken: Set<string>
  private readonly byContent = new Map<string, string>()

  constructor(reserved: Iterable<string>) {
    this.taken = new Set(reserved)
  }

  /** Claims a name for a declaration the client makes itself (an event's properties type). */
  claim(name: string): string {
    this.taken.add(name)
    return name
  }

  private uniqueName(key: string): string {
    const base = pascalCase(key)
    let name = base
    for (let i = 2; this.taken.has(name); i++) name = `${base}${i}`
    this.taken.add(name)
    return name
  }

  /** The declaration name of a rule's definition, converting it the first time it is used. */
  definition(key: string, schema: unknown, definitions: Record<string, unknown>): string {
    const content = `${key}\u0000${JSON.stringify(schema)}`
    const known = this.byContent.get(content)
    if (known !== undefined) return known
    const name = this.uniqueName(key)
    this.byContent.set(content, name)
    // Declared before converting: a definition that refers to itself finds its own name.
    const declaration: Declaration = {name, description: descriptionOf(schema), type: unknownType}
    this.declarations.set(name, declaration)
    declaration.type = schemaType(schema, {namer: this, definitions})
    return name
  }
}

function descriptionOf(schema: unknown): string | undefined {
  return isPlainObject(schema) && typeof schema.description === 'string' && schema.description !== '' ? schema.description : undefined
}

interface Scope {
  namer: TypeNamer
  /** The rule's own definitions, where its "#/definitions/…" $refs lead. */
  definitions: Record<string, unknown>
  /** $refs being followed inline, so that a cycle through a deep pointer ends. */
  following?: Set<string>
}

/** Where a "#/…" pointer leads inside the rule's document ({definitions}); undefined if nowhere. */
function resolveLocal(pointer: string, definitions: Record<string, unknown>): unknown {
  let node: unknown = {definitions}
  for (const segment of pointer.split('/').slice(1)) {
    const key = unescapePointer(segment)
    if (Array.isArray(node)) node = node[Number(key)]
    else if (isPlainObject(node) && Object.hasOwn(node, key)) node = node[key]
    else return undefined
  }
  return node
}

/** A URI fragment's pointer; a malformed escape (hostile plan text) is read as written. */
function decodeFragment(fragment: string): string {
  try {
    return decodeURIComponent(fragment)
  } catch {
    return fragment
  }
}

function refType(ref: string, scope: Scope): TypeNode {
  // selfContained made every $ref local: "#/definitions/<name>" is a declaration; a deeper pointer is inlined.
  const pointer = decodeFragment(ref.replace(/^#/, ''))
  const named = /^\/definitions\/([^/]+)$/.exec(pointer)
  const target = resolveLocal(pointer, scope.definitions)
  if (target === undefined) return unknownType
  if (named) return {kind: 'ref', name: scope.namer.definition(unescapePointer(named[1]), target, scope.definitions)}
  if (scope.following?.has(pointer)) return unknownType
  return schemaType(target, {...scope, following: new Set([...(scope.following ?? []), pointer])})
}

function objectType(schema: JsonSchema, scope: Scope): TypeNode {
  const properties = isPlainObject(schema.properties) ? schema.properties : {}
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : [])
  const members: Member[] = Object.entries(properties).map(([name, child]) => ({
    name,
    optional: !required.has(name),
    type: schemaType(child, scope),
    description: descriptionOf(child),
  }))
  for (const name of required) if (!Object.hasOwn(properties, name)) members.push({name, optional: false, type: unknownType})
  const extra: TypeNode[] = []
  if (schema.additionalProperties !== false) extra.push(schema.additionalProperties === undefined || schema.additionalProperties === true ? unknownType : schemaType(schema.additionalProperties, scope))
  if (isPlainObject(schema.patternProperties)) extra.push(...Object.values(schema.patternProperties).map((child) => schemaType(child, scope)))
  if (extra.length === 0) return {kind: 'object', members}
  // An index signature must admit every named member's type too.
  const index = union([...extra, ...(extra.some((type) => type.kind === 'keyword' && type.name === 'unknown') ? [] : members.map((member) => member.type))])
  return {kind: 'object', members, index}
}

function arrayType(schema: JsonSchema, scope: Scope): TypeNode {
  if (Array.isArray(schema.items)) {
    const items = schema.items.map((item) => schemaType(item, scope))
    if (schema.additionalItems === false) return {kind: 'tuple', items}
    return {kind: 'tuple', items, rest: schema.additionalItems === undefined || schema.additionalItems === true ? unknownType : schemaType(schema.additionalItems, scope)}
  }
  const items = schema.items === undefined ? unknownType : schemaType(schema.items, scope)
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0
  if (minItems >= 1 && minItems <= maxTupleItems && schema.maxItems === undefined) return {kind: 'tuple', items: Array.from({length: minItems}, () => items), rest: items}
  return {kind: 'array', items}
}

function typeOfTypeKeyword(name: string, schema: JsonSchema, scope: Scope): TypeNode {
  if (name === 'object') return objectType(schema, scope)
  if (name === 'array') return arrayType(schema, scope)
  return keywordOf[name] ?? unknownType
}

/** The TypeScript type of a JSON Schema (draft-07, as plans are written). */
export function schemaType(schema: unknown, scope: Scope): TypeNode {
  if (schema === false) return {kind: 'keyword', name: 'never'}
  if (!isPlainObject(schema)) return unknownType
  if (typeof schema.$ref === 'string') return refType(schema.$ref, scope)
  let base: TypeNode
  if (Object.hasOwn(schema, 'const')) base = literalType(schema.const)
  else if (Array.isArray(schema.enum)) base = union(schema.enum.map(literalType))
  else if (typeof schema.type === 'string') base = typeOfTypeKeyword(schema.type, schema, scope)
  else if (Array.isArray(schema.type)) base = union(schema.type.map((name) => typeOfTypeKeyword(String(name), schema, scope)))
  else if (schema.properties !== undefined || schema.required !== undefined || schema.additionalProperties !== undefined || schema.patternProperties !== undefined) base = objectType(schema, scope)
  else if (schema.items !== undefined) base = arrayType(schema, scope)
  else base = unknownType
  // allOf first, as a person writes it: Product & {cart_id: string}.
  const parts = Array.isArray(schema.allOf) ? schema.allOf.map((part) => schemaType(part, scope)) : []
  parts.push(base)
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = schema[keyword]
    if (Array.isArray(branches)) parts.push(union(branches.map((branch) => schemaType(branch, scope))))
  }
  return intersection(parts)
}

/** The declaration of a rule's part (an event's properties, identify's traits): named, described, its definitions named alongside. */
export function declare(namer: TypeNamer, name: string, schema: JsonSchema, definitions: Record<string, unknown> | undefined, description?: string): Declaration {
  return {name: namer.claim(name), description: description ?? descriptionOf(schema), type: schemaType(schema, {namer, definitions: definitions ?? {}})}
}
