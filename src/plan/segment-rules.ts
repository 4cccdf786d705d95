import {UserError} from '../errors.js'
import {eventFile} from './file-names.js'
import {selfContained, type RuleSchemas} from './self-contained.js'
import {messageRuleFiles, type EventRule, type JsonSchema, type MessageRuleKind, type TrackingPlan} from './types.js'
import {isPlainObject} from '../message/json-value.js'

/** A rule as Segment's Public API returns it (GET /tracking-plans/{id}/rules). */
export interface SegmentRule {
  type: 'TRACK' | 'IDENTIFY' | 'GROUP' | 'PAGE' | 'SCREEN' | 'COMMON'
  key?: string
  jsonSchema: JsonSchema
  version: number
}

/** A plan file to write: its path in the plan folder and its JSON. */
export interface PlanFile {
  file: string
  content: Record<string, unknown>
}

const ruleTypes = new Set(['TRACK', 'IDENTIFY', 'GROUP', 'PAGE', 'SCREEN', 'COMMON'])
const draft07 = 'http://json-schema.org/draft-07/schema#'

/** The parts of a rule's message schema: properties.properties, .context, .traits. */
function parts(jsonSchema: JsonSchema): {properties?: JsonSchema; context?: JsonSchema; traits?: JsonSchema} {
  const properties = isPlainObject(jsonSchema.properties) ? jsonSchema.properties : {}
  const pick = (key: string) => (isPlainObject(properties[key]) ? (properties[key] as JsonSchema) : undefined)
  return {properties: pick('properties'), context: pick('context'), traits: pick('traits')}
}

function describe(jsonSchema: JsonSchema): {description?: string} {
  return typeof jsonSchema.description === 'string' ? {description: jsonSchema.description} : {}
}

function definitionsOf(jsonSchema: JsonSchema): {definitions?: JsonSchema} {
  return isPlainObject(jsonSchema.definitions) ? {definitions: jsonSchema.definitions} : {}
}

/** Typewriter's identify_traits may be the traits schema itself or a whole message schema. */
function asMessageSchema(schema: JsonSchema): JsonSchema {
  const properties = isPlainObject(schema.properties) ? schema.properties : {}
  const keys = Object.keys(properties)
  const wrapsTraits = keys.length > 0 && keys.every((key) => ['context', 'traits', 'properties'].includes(key)) && isPlainObject(properties.traits)
  return wrapsTraits ? schema : {type: 'object', properties: {traits: schema}, ...describe(schema)}
}

/**
 * Reads an import file into Segment rules: the Public API's answer ({"data": {"rules": [...]}}),
 * a bare list of rules, or a Typewriter / Config API plan.json ({name, rules: {events, global,
 * identify_traits, group_traits}}).
 */
export function readSegmentRules(document: unknown, file: string): SegmentRule[] {
  const bad = (message: string) => new UserError(`${file}: ${message}`, {hint: 'Export the plan with Segment\'s Public API (GET /tracking-plans/{id}/rules) or use Typewriter\'s plan.json.', code: 'invalid_import'})
  let list: unknown
  if (Array.isArray(document)) list = document
  else if (isPlainObject(document) && isPlainObject(document.data) && Array.isArray(document.data.rules)) list = document.data.rules
  else if (isPlainObject(document) && Array.isArray(document.rules)) list = document.rules
  else if (isPlainObject(document) && isPlainObject(document.rules)) return readTypewriterRules(document.rules, bad)
  else throw bad('not a tracking plan: expected {"data": {"rules": [...]}}, a list of rules, or a plan.json with "rules"')

  return (list as unknown[]).map((rule, index) => {
    if (!isPlainObject(rule)) throw bad(`rule ${index} is not an object`)
    const type = String(rule.type ?? '').toUpperCase()
    if (!ruleTypes.has(type)) throw bad(`rule ${index} has type ${JSON.stringify(rule.type)}; expected one of ${[...ruleTypes].join(', ')}`)
    if (!isPlainObject(rule.jsonSchema)) throw bad(`rule ${index} (${type} ${rule.key ?? ''}) has no jsonSchema object`)
    if (type === 'TRACK' && (typeof rule.key !== 'string' || rule.key === '')) throw bad(`rule ${index} is a TRACK rule without a key (the event name)`)
    const version = typeof rule.version === 'number' && Number.isInteger(rule.version) && rule.version >= 1 ? rule.version : 1
    return {type: type as SegmentRule['type'], key: typeof rule.key === 'string' ? rule.key : undefined, jsonSchema: rule.jsonSchema, version}
  })
}

function readTypewriterRules(rules: Record<string, unknown>, bad: (message: string) => UserError): SegmentRule[] {
  const out: SegmentRule[] = []
  const events = rules.events ?? []
  if (!Array.isArray(events)) throw bad('rules.events must be a list')
  events.forEach((event, index) => {
    if (!isPlainObject(event) || typeof event.name !== 'string') throw bad(`rules.events[${index}] has no name`)
    const jsonSchema: JsonSchema = isPlainObject(event.rules) ? {...event.rules} : {type: 'object'}
    if (typeof event.description === 'string' && jsonSchema.description === undefined) jsonSchema.description = event.description
    const version = typeof event.version === 'number' && event.version >= 1 ? event.version : 1
    out.push({type: 'TRACK', key: event.name, jsonSchema, version})
  })
  if (isPlainObject(rules.identify_traits) && Object.keys(rules.identify_traits).length > 0) out.push({type: 'IDENTIFY', jsonSchema: asMessageSchema(rules.identify_traits), version: 1})
  if (isPlainObject(rules.group_traits) && Object.keys(rules.group_traits).length > 0) out.push({type: 'GROUP', jsonSchema: asMessageSchema(rules.group_traits), version: 1})
  if (isPlainObject(rules.global) && Object.keys(rules.global).length > 0) out.push({type: 'COMMON', jsonSchema: rules.global, version: 1})
  return out
}

const kindOf: Record<'PAGE' | 'SCREEN' | 'COMMON', MessageRuleKind> = {PAGE: 'page', SCREEN: 'screen', COMMON: 'common'}

/** The plan files that hold these rules. Two rules for one file are refused, naming both. */
export function rulesToFiles(rules: readonly SegmentRule[], source: string): PlanFile[] {
  const files = new Map<string, {file: PlanFile; rule: SegmentRule}>()
  const add = (file: string, rule: SegmentRule, content: Record<string, unknown>) => {
    const earlier = files.get(file)
    if (earlier) {
      throw new UserError(`${source}: ${rule.type} ${rule.key ?? ''} v${rule.version} and ${earlier.rule.type} ${earlier.rule.key ?? ''} v${earlier.rule.version} would both be ${file}.`, {
        hint: 'cdp keeps one page, screen and common rule, and one file per event and version.',
        code: 'invalid_import',
      })
    }
    files.set(file, {file: {file, content}, rule})
  }
  for (const rule of rules) {
    const {properties, context, traits} = parts(rule.jsonSchema)
    const shared = {...describe(rule.jsonSchema), ...definitionsOf(rule.jsonSchema)}
    if (rule.type === 'TRACK') {
      const key = rule.key as string
      const file = eventFile(key, rule.version)
      add(file, rule, {
        name: key,
        ...(shared.description ? {description: shared.description} : {}),
        ...(rule.version > 1 ? {version: rule.version} : {}),
        properties: properties ?? {type: 'object'},
        ...(context ? {context} : {}),
        ...(traits ? {traits} : {}),
        ...(shared.definitions ? {definitions: shared.definitions} : {}),
      })
    } else if (rule.type === 'IDENTIFY' || rule.type === 'GROUP') {
      add(rule.type === 'IDENTIFY' ? 'identify.json' : 'group.json', rule, {
        ...(shared.description ? {description: shared.description} : {}),
        traits: traits ?? {type: 'object'},
        ...(context ? {context} : {}),
        ...(shared.definitions ? {definitions: shared.definitions} : {}),
      })
    } else {
      add(messageRuleFiles[kindOf[rule.type]], rule, {
        ...(rule.key ? {name: rule.key} : {}),
        ...(shared.description ? {description: shared.description} : {}),
        ...(rule.version > 1 ? {version: rule.version} : {}),
        ...(properties ? {properties} : {}),
        ...(context ? {context} : {}),
        ...(traits ? {traits} : {}),
        ...(shared.definitions ? {definitions: shared.definitions} : {}),
      })
    }
  }
  return [...files.values()].map(({file}) => file)
}

function wholeSchema(part: RuleSchemas): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  for (const key of ['context', 'traits', 'properties'] as const) if (part[key]) properties[key] = part[key] as JsonSchema
  return {
    $schema: draft07,
    type: 'object',
    ...(part.description ? {description: part.description} : {}),
    properties,
    ...(part.definitions ? {definitions: part.definitions} : {}),
  }
}

/** A plan folder as Segment Public API rules, events sorted by name and version. */
export function planToRules(plan: TrackingPlan): SegmentRule[] {
  // Segment rules are self-contained: each carries a copy of the shared definitions it uses.
  const messageSchema = (rule: RuleSchemas) => wholeSchema(selfContained(plan, rule))
  const rules: SegmentRule[] = []
  for (const name of [...plan.events.keys()].sort()) {
    const versions = plan.events.get(name) as Map<number, EventRule>
    for (const version of [...versions.keys()].sort((a, b) => a - b)) {
      const rule = versions.get(version) as EventRule
      rules.push({type: 'TRACK', key: name, version, jsonSchema: messageSchema(rule)})
    }
  }
  if (plan.identify) rules.push({type: 'IDENTIFY', version: 1, jsonSchema: messageSchema(plan.identify)})
  if (plan.group) rules.push({type: 'GROUP', version: 1, jsonSchema: messageSchema(plan.group)})
  for (const [type, kind] of Object.entries(kindOf) as [SegmentRule['type'], MessageRuleKind][]) {
    const rule = plan.rules[kind]
    if (rule) rules.push({type, ...(rule.name ? {key: rule.name} : {}), version: rule.version, jsonSchema: messageSchema(rule)})
  }
  return rules
}
