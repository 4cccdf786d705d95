import {unusablePattern, unusablePatternMessage} from './regexp.js'
import {escapePointer, walkSchema} from './schema-walk.js'
import type {JsonSchema, PlanProblem} from './types.js'

/**
 * A rule's document nests each part under /properties (/properties/properties/…), as the plan
 * compiles it; its file has the part at the top (/properties/…). A pointer into the one, as a
 * pointer into the other.
 */
export function ruleFilePointer(documentPointer: string): string {
  return documentPointer.replace(/^\/properties\/(properties|context|traits)/, '/$1')
}

/**
 * Every pattern and patternProperties key of a schema that the linear-time engine refuses, as
 * problems with their pointer (mapped to the file's by toFile). True when there were any. The one
 * check of `cdp plan validate` (compile.ts) and of codegen's plan check (codegen/plan-check.ts).
 */
export function reportUnusablePatterns(schema: JsonSchema, file: string, pointer: string, problems: PlanProblem[], toFile: (pointer: string) => string = (p) => p): boolean {
  let found = false
  const report = (pattern: string, at: string) => {
    const unusable = unusablePattern(pattern)
    if (!unusable) return
    found = true
    problems.push({severity: 'error', file, pointer: toFile(at), message: unusablePatternMessage(unusable)})
  }
  walkSchema(schema, pointer, (node, at) => {
    if (typeof node.pattern === 'string') report(node.pattern, `${at}/pattern`)
    if (node.patternProperties !== null && typeof node.patternProperties === 'object' && !Array.isArray(node.patternProperties)) {
      for (const key of Object.keys(node.patternProperties)) report(key, `${at}/patternProperties/${escapePointer(key)}`)
    }
  })
  return found
}
