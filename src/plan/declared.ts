import type {JsonSchema, TrackingPlan} from './types.js'
import {isPlainObject} from '../message/json-value.js'

/**
 * Every property path a schema declares: "properties.order_id", "properties.products[].price".
 * $refs lead where loading the plan resolved them (plan.refs), in any file of the plan.
 */
export function declaredPaths(plan: TrackingPlan, schema: JsonSchema, root: string): Set<string> {
  const paths = new Set<string>()
  const seen = new Set<unknown>()
  const visit = (node: unknown, path: string, depth: number) => {
    if (!isPlainObject(node) || depth > 12 || seen.has(node)) return
    seen.add(node)
    visit(plan.refs.target(node)?.schema, path, depth + 1)
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(node[key])) for (const branch of node[key] as unknown[]) visit(branch, path, depth + 1)
    }
    if (isPlainObject(node.properties)) {
      for (const [name, child] of Object.entries(node.properties)) {
        const childPath = `${path}.${name}`
        paths.add(childPath)
        visit(child, childPath, depth + 1)
      }
    }
    if (isPlainObject(node.items)) visit(node.items, `${path}[]`, depth + 1)
    seen.delete(node)
  }
  visit(schema, root, 0)
  return paths
}
