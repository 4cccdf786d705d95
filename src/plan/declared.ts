import {isAbsolute} from 'node:path'
import type {JsonSchema, TrackingPlan} from './types.js'
import {isPlainObject} from '../message/json-value.js'
import {ownValue} from '../message/own-keys.js'

/**
 * Resolves the $refs a plan uses: "#/definitions/x" in the rule's own definitions, and
 * "…definitions.json#/definitions/x" in the shared file. Others are left unresolved.
 */
export function resolver(plan: TrackingPlan, local: Record<string, JsonSchema> | undefined) {
  const shared = plan.definitions && isPlainObject(plan.definitions.document.definitions) ? (plan.definitions.document.definitions as Record<string, JsonSchema>) : {}
  return (ref: string, inShared: boolean): JsonSchema | undefined => {
    const name = /#\/definitions\/([^/]+)$/.exec(ref)?.[1]
    if (name === undefined || isAbsolute(ref)) return undefined
    // Own definitions only: "#/definitions/constructor" must not resolve to Object.
    return (ref.includes('definitions.json#') || inShared ? ownValue(shared, name) : ownValue(local, name)) as JsonSchema | undefined
  }
}

/** Every property path a schema declares: "properties.order_id", "properties.products[].price". */
export function declaredPaths(plan: TrackingPlan, schema: JsonSchema, root: string, local?: Record<string, JsonSchema>): Set<string> {
  const resolve = resolver(plan, local)
  const paths = new Set<string>()
  const seen = new Set<unknown>()
  const visit = (node: unknown, path: string, inShared: boolean, depth: number) => {
    if (!isPlainObject(node) || depth > 12 || seen.has(node)) return
    seen.add(node)
    if (typeof node.$ref === 'string') {
      const target = resolve(node.$ref, inShared)
      visit(target, path, inShared || node.$ref.includes('definitions.json#'), depth + 1)
    }
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(node[key])) for (const branch of node[key] as unknown[]) visit(branch, path, inShared, depth + 1)
    }
    if (isPlainObject(node.properties)) {
      for (const [name, child] of Object.entries(node.properties)) {
        const childPath = `${path}.${name}`
        paths.add(childPath)
        visit(child, childPath, inShared, depth + 1)
      }
    }
    if (isPlainObject(node.items)) visit(node.items, `${path}[]`, inShared, depth + 1)
    seen.delete(node)
  }
  visit(schema, root, false, 0)
  return paths
}
