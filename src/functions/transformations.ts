/**
 * Declarative transformations (Segment Protocols "Transformations"): a cdp.json list of
 * rename-event, rename-properties and drop-properties entries, compiled once into one function
 * that the pipeline (a source's list) and delivery (a destination's list) call per message.
 *
 * Meaning (the schema in src/config/transformations-schema.ts documents it for users):
 * - Entries apply in order, each to the message the entries before it left (a renamed event
 *   matches the next entries under its new name).
 * - `event` matches a track's `event` or a page's/screen's `name`, exactly; `type` the message
 *   type. Absent means any.
 * - Within an entry: renameEvent, then renameProperties (all read before any is written, so a
 *   swap works), then dropProperties (paths as they are after the renames).
 * - Paths: dot-separated keys, `\.` a dot inside a key, `\\` a backslash. A first key of
 *   `properties`, `traits` or `context` starts at the top of the message; any other path starts
 *   in `properties` (track, page, screen) or `traits` (identify, group); alias has neither, so
 *   bare paths do nothing there. An identify's or group's traits are where messageTraits finds
 *   them (src/message/traits.ts): top-level `traits`, else `context.traits`, where RudderStack's
 *   browser SDK sends them; so `email` and `traits.email` reach `context.traits.email` there.
 *   Paths only go through plain objects, never arrays.
 * - A rename onto an existing path replaces its value, and objects replace whatever is missing or
 *   not an object on the way to it (as lodash's set); a rename from a missing path does nothing.
 *
 * Keys are data: `__proto__`, `constructor` are ordinary keys, read with Object.hasOwn and
 * written with setOwn. The input is never mutated: the objects on a changed path are copied
 * (once per call), everything else is shared with the input.
 */
import {transformationMessageTypes, type TransformationConfig} from '../config/transformations-schema.js'
import {setOwn} from '../message/own-keys.js'
import {messageTraits} from '../message/traits.js'
import type {SegmentMessage} from '../message/types.js'
import type {JsonObject} from './types.js'

/**
 * Transforms one message. Returns the input itself when no entry changed anything (so
 * `result !== message` says whether it changed), otherwise a new object sharing the untouched
 * subtrees with the input.
 */
export type Transformer = (message: JsonObject) => JsonObject

/** A path as compiled: where it starts, and its keys below that. */
interface CompiledPath {
  /** 'properties' | 'traits' | 'context' from the message's top; null: the type's own root (properties or traits). */
  root: string | null
  keys: string[]
}

interface CompiledEntry {
  /** Message types it applies to; null: every type. */
  types: Set<string> | null
  /** Names it applies to; null: any message (of the types). */
  events: Set<string> | null
  renameEvent: string | undefined
  renames: {from: CompiledPath; to: CompiledPath}[]
  drops: CompiledPath[]
}

const explicitRoots = new Set(['properties', 'traits', 'context'])

/** Where a bare path starts, per message type. */
const defaultRoots: Record<string, string | undefined> = {
  track: 'properties',
  page: 'properties',
  screen: 'properties',
  identify: 'traits',
  group: 'traits',
}

/** The field holding a message's name, per type (what `event` matches and `renameEvent` changes). */
const nameFields: Record<string, string | undefined> = {track: 'event', page: 'name', screen: 'name'}

/** Splits a path on unescaped dots (`\.` is a dot in a key, `\\` a backslash), or throws saying why it is not one. */
export function parseTransformationPath(path: string): string[] {
  const keys: string[] = []
  let key = ''
  for (let i = 0; i < path.length; i++) {
    const char = path[i]
    if (char === '\\') {
      const next = path[i + 1]
      if (next !== '.' && next !== '\\') throw new Error(`"${path}": a backslash must come before a dot or a backslash`)
      key += next
      i++
    } else if (char === '.') {
      if (key === '') throw new Error(`"${path}": a key is empty`)
      keys.push(key)
      key = ''
    } else key += char
  }
  if (key === '') throw new Error(`"${path}": a key is empty`)
  keys.push(key)
  return keys
}

function compilePath(path: string, where: string): CompiledPath {
  let keys: string[]
  try {
    keys = parseTransformationPath(path)
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`)
  }
  if (explicitRoots.has(keys[0])) {
    if (keys.length === 1) throw new Error(`${where}: "${path}" is a whole part of the message, not a property in it`)
    return {root: keys[0], keys: keys.slice(1)}
  }
  return {root: null, keys}
}

function toSet(value: string | readonly string[] | undefined): Set<string> | null {
  if (value === undefined) return null
  return new Set(typeof value === 'string' ? [value] : value)
}

/**
 * Compiles a `transformations` list (already checked against its schema) into one function.
 * Throws an Error naming the entry for a path that is not one (the schema's pattern refuses
 * those first).
 */
export function compileTransformations(list: readonly TransformationConfig[] | undefined): Transformer {
  if (list === undefined || list.length === 0) return identity
  const entries: CompiledEntry[] = list.map((entry, index) => {
    const where = `transformations[${index}]`
    const renames: CompiledEntry['renames'] = []
    if (entry.renameProperties !== undefined) {
      for (const from of Object.keys(entry.renameProperties)) {
        const to = (entry.renameProperties as Record<string, string>)[from]
        renames.push({from: compilePath(from, `${where}.renameProperties`), to: compilePath(to, `${where}.renameProperties`)})
      }
    }
    return {
      types: toSet(entry.type),
      events: toSet(entry.event),
      renameEvent: entry.renameEvent,
      renames,
      drops: (entry.dropProperties ?? []).map((path) => compilePath(path, `${where}.dropProperties`)),
    }
  })
  // Per message type, the entries that can apply and every name they match (null: some entry matches any name).
  // A message whose name none of them mentions is returned after one Map and one Set look-up: names
  // change only through entries that matched, so no later entry can match either.
  const plans = new Map<string, {entries: CompiledEntry[]; names: Set<string> | null}>()
  for (const type of transformationMessageTypes) {
    const applicable = entries.filter((entry) => (entry.types === null || entry.types.has(type)) && (entry.events === null || nameFields[type] !== undefined))
    if (applicable.length === 0) continue
    const names = applicable.some((entry) => entry.events === null) ? null : new Set(applicable.flatMap((entry) => [...(entry.events as Set<string>)]))
    plans.set(type, {entries: applicable, names})
  }
  if (plans.size === 0) return identity
  return (message) => {
    // Plain reads first (cheapest); a value counts only once it is known to be the message's own.
    const type = message.type
    const plan = typeof type === 'string' ? plans.get(type) : undefined
    if (plan === undefined || !Object.hasOwn(message, 'type')) return message
    const nameField = nameFields[type as string]
    if (plan.names !== null) {
      const name = nameField === undefined ? undefined : message[nameField]
      if (typeof name !== 'string' || !plan.names.has(name) || !Object.hasOwn(message, nameField as string)) return message
    }
    let current = message
    // Objects this call made (copies): changed in place; everything else is the input's and copied first.
    let fresh: Set<object> | undefined
    for (const entry of plan.entries) {
      if (entry.events !== null) {
        const name = ownOf(current, nameField as string)
        if (typeof name !== 'string' || !entry.events.has(name)) continue
      }
      fresh ??= new Set()
      current = applyEntry(entry, current, type as string, nameField, fresh)
    }
    return current
  }
}

const identity: Transformer = (message) => message

function applyEntry(entry: CompiledEntry, message: JsonObject, type: string, nameField: string | undefined, fresh: Set<object>): JsonObject {
  let root = message
  if (entry.renameEvent !== undefined && nameField !== undefined) {
    const name = ownOf(root, nameField)
    if (typeof name === 'string' && name !== entry.renameEvent) {
      root = writable(root, fresh)
      setOwn(root, nameField, entry.renameEvent)
    }
  }
  if (entry.renames.length > 0) {
    // Every rename reads the message as it was before this entry's renames, so {"a": "b", "b": "a"} swaps.
    const moves: {from: CompiledPath; to: CompiledPath; value: unknown}[] = []
    for (const {from, to} of entry.renames) {
      if (rootKey(to, type) === undefined) continue
      const found = lookup(root, resolve(from, type, root), type)
      if (found !== undefined) moves.push({from, to, value: found.value})
    }
    for (const {from} of moves) root = remove(root, resolve(from, type, root), type, fresh)
    for (const {to, value} of moves) root = put(root, resolve(to, type, root), type, value, fresh)
  }
  for (const path of entry.drops) root = remove(root, resolve(path, type, root), type, fresh)
  return root
}

function ownOf(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The object itself when this call made it, else a copy of it (own keys, `__proto__` kept as a key) recorded as made. */
function writable(object: JsonObject, fresh: Set<object>): JsonObject {
  if (fresh.has(object)) return object
  // Spread defines properties (no setter runs), so a "__proto__" key stays an own key.
  const copy: JsonObject = {...object}
  fresh.add(copy)
  return copy
}

function rootKey(path: CompiledPath, type: string): string | undefined {
  return path.root ?? defaultRoots[type]
}

/**
 * The path as it applies to this message: an identify's or group's traits path (bare, or from
 * `traits.`) goes into `context.traits` when that is where the message's traits are, the one
 * rule of messageTraits; any other path is unchanged.
 */
function resolve(path: CompiledPath, type: string, message: JsonObject): CompiledPath {
  if (rootKey(path, type) !== 'traits' || (type !== 'identify' && type !== 'group')) return path
  if (messageTraits(message as SegmentMessage).place !== 'context.traits') return path
  return {root: 'context', keys: ['traits', ...path.keys]}
}

/** The path's value as {value}, or undefined when the message does not have it. */
function lookup(message: JsonObject, path: CompiledPath, type: string): {value: unknown} | undefined {
  const start = rootKey(path, type)
  if (start === undefined) return undefined
  let node = ownOf(message, start)
  for (const key of path.keys) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined
    node = node[key]
  }
  return {value: node}
}

/** The objects from the message's top to the path's parent, or undefined when one is missing or not an object. */
function parents(message: JsonObject, path: CompiledPath, type: string): JsonObject[] | undefined {
  const start = rootKey(path, type)
  if (start === undefined) return undefined
  const chain: JsonObject[] = [message]
  let node = ownOf(message, start)
  for (let i = 0; i < path.keys.length - 1; i++) {
    if (!isObject(node)) return undefined
    chain.push(node)
    node = ownOf(node, path.keys[i])
  }
  if (!isObject(node)) return undefined
  chain.push(node)
  return chain
}

/** The key under which chain[depth + 1] hangs in chain[depth]: the root's name first, then the path's keys. */
function keyAt(path: CompiledPath, start: string, depth: number): string {
  return depth === 0 ? start : path.keys[depth - 1]
}

/** Makes each object on the chain (message top first) writable, linking each copy into its parent; returns the writable chain. */
function relink(chain: JsonObject[], path: CompiledPath, start: string, fresh: Set<object>): JsonObject[] {
  const copies = chain.map((object) => writable(object, fresh))
  for (let i = 1; i < copies.length; i++) {
    if (copies[i] !== chain[i]) setOwn(copies[i - 1], keyAt(path, start, i - 1), copies[i])
  }
  return copies
}

function remove(message: JsonObject, path: CompiledPath, type: string, fresh: Set<object>): JsonObject {
  const chain = parents(message, path, type)
  const last = path.keys[path.keys.length - 1]
  if (chain === undefined || !Object.hasOwn(chain[chain.length - 1], last)) return message
  const copies = relink(chain, path, rootKey(path, type) as string, fresh)
  delete copies[copies.length - 1][last]
  return copies[0]
}

function put(message: JsonObject, path: CompiledPath, type: string, value: unknown, fresh: Set<object>): JsonObject {
  const start = rootKey(path, type)
  if (start === undefined) return message
  // Walk as far as objects go; from there, objects replace whatever is missing or in the way.
  const chain: JsonObject[] = [message]
  let node: unknown = ownOf(message, start)
  for (let depth = 0; isObject(node); depth++) {
    chain.push(node)
    if (depth === path.keys.length - 1) break
    node = ownOf(node, path.keys[depth])
  }
  const copies = relink(chain, path, start, fresh)
  let parent = copies[copies.length - 1]
  for (let depth = copies.length - 1; depth < path.keys.length; depth++) {
    const created: JsonObject = {}
    fresh.add(created)
    setOwn(parent, keyAt(path, start, depth), created)
    parent = created
  }
  setOwn(parent, path.keys[path.keys.length - 1], value)
  return copies[0]
}
