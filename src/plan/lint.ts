import {followsCasing, type Casing} from './conventions.js'
import type {EventRule, JsonSchema, PlanProblem, TrackingPlan} from './types.js'
import {isPlainObject} from '../message/json-value.js'
import {walkSchema} from './schema-walk.js'

export interface Conventions {
  eventName?: Casing
  propertyName?: Casing
}

// ajv-formats' formats, as `cdp dev` validates them; any other format would be silently ignored.
const knownFormats = new Set('date time date-time iso-time iso-date-time duration uri uri-reference uri-template url email hostname ipv4 ipv6 regex uuid json-pointer json-pointer-uri-fragment relative-json-pointer byte int32 int64 float double password binary'.split(' '))

const bounds: [string, string][] = [
  ['minimum', 'maximum'],
  ['exclusiveMinimum', 'exclusiveMaximum'],
  ['minLength', 'maxLength'],
  ['minItems', 'maxItems'],
  ['minProperties', 'maxProperties'],
]

function lintSchema(schema: JsonSchema, file: string, pointer: string, conventions: Conventions, problems: PlanProblem[]): void {
  walkSchema(schema, pointer, (node, at, propertyName) => {
    for (const [low, high] of bounds) {
      if (typeof node[low] === 'number' && typeof node[high] === 'number' && (node[low] as number) > (node[high] as number)) {
        problems.push({severity: 'error', file, pointer: at, message: `${low} ${node[low]} is above ${high} ${node[high]}: no value can pass`})
      }
    }
    if (typeof node.format === 'string' && !knownFormats.has(node.format)) {
      problems.push({severity: 'error', file, pointer: `${at}/format`, message: `unknown format "${node.format}": use one of ${[...knownFormats].slice(0, 8).join(', ')}, …`})
    }
    if (Array.isArray(node.required) && isPlainObject(node.properties) && node.additionalProperties === false) {
      for (const name of node.required) {
        if (typeof name === 'string' && !(name in node.properties)) {
          problems.push({severity: 'error', file, pointer: `${at}/required`, message: `"${name}" is required but not among the properties, and no other property is allowed`})
        }
      }
    }
    if (propertyName !== undefined) {
      const typed = ['type', '$ref', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', 'not'].some((key) => key in node)
      if (!typed) problems.push({severity: 'warning', file, pointer: at, message: `property "${propertyName}" has no type: any value passes`})
      if (conventions.propertyName && !followsCasing(propertyName, conventions.propertyName)) {
        problems.push({severity: 'warning', file, pointer: at, message: `property "${propertyName}" is not ${conventions.propertyName}, the convention in cdp.json`})
      }
    }
  })
}

function lintEvent(rule: EventRule, conventions: Conventions, problems: PlanProblem[]): void {
  if (!rule.description) problems.push({severity: 'warning', file: rule.file, pointer: '/description', message: `event "${rule.name}" has no description`})
  if (conventions.eventName && !followsCasing(rule.name, conventions.eventName)) {
    problems.push({severity: 'warning', file: rule.file, pointer: '/name', message: `event name "${rule.name}" is not ${conventions.eventName}, the convention in cdp.json`})
  }
  lintSchema(rule.properties, rule.file, '/properties', conventions, problems)
  if (rule.context) lintSchema(rule.context, rule.file, '/context', conventions, problems)
  if (rule.traits) lintSchema(rule.traits, rule.file, '/traits', conventions, problems)
  for (const [name, schema] of Object.entries(rule.definitions ?? {})) lintSchema(schema, rule.file, `/definitions/${name}`, conventions, problems)
}

/** What JSON Schema validity does not catch: contradictions (errors), dubious rules and naming (warnings). */
export function lintPlan(plan: TrackingPlan, conventions: Conventions = {}): PlanProblem[] {
  const problems: PlanProblem[] = []
  for (const versions of plan.events.values()) for (const rule of versions.values()) lintEvent(rule, conventions, problems)
  for (const rule of [plan.identify, plan.group]) if (rule) lintSchema(rule.traits, rule.file, '/traits', conventions, problems)
  for (const rule of Object.values(plan.rules)) {
    for (const part of ['properties', 'context', 'traits'] as const) {
      const schema = rule[part]
      if (schema) lintSchema(schema, rule.file, `/${part}`, conventions, problems)
    }
  }
  if (plan.definitions) lintSchema(plan.definitions.document, plan.definitions.file, '', {}, problems)
  return problems
}
