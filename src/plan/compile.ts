import {Ajv, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {messageTraits} from '../message/traits.js'
import type {SegmentMessage} from '../message/types.js'
import {reportUnusablePatterns, ruleFilePointer} from './pattern-problems.js'
import {planRegExp, UnusablePatternError} from './regexp.js'
import {planBaseUri, ruleDocument} from './resolve.js'
import type {EventRule, JsonSchema, MessageRule, PlanProblem, TrackingPlan, TraitsRule} from './types.js'
import {unplannedEventViolation, violationsFromAjv, type Violation} from './violations.js'

const addFormats = ((addFormatsModule as unknown as {default?: typeof addFormatsModule}).default ?? addFormatsModule) as unknown as (ajv: Ajv, options: {mode: 'fast'}) => Ajv

export interface CompiledPlan {
  plan: TrackingPlan
  /** False for an empty plan folder: nothing is checked, and events are not marked valid. */
  active: boolean
  /** The message's violations; empty when it follows the plan. */
  check(message: SegmentMessage): Violation[]
}

/** The rule's file as the schema its $refs were resolved against at load, under its address. */
function wrapper(rule: EventRule | TraitsRule | MessageRule): JsonSchema {
  return {$id: planBaseUri + rule.file, ...ruleDocument(rule)}
}

/**
 * Checks the parts of a message a rule describes. Traits are the message's traits wherever it has
 * them (message/traits.ts: an identify from RudderStack's browser SDK has them in context.traits
 * only); a violation inside them names the place the message has them, so that its path reads
 * true to the user and omit-properties removes the value actually sent.
 */
function checkParts(validate: ValidateFunction, message: SegmentMessage, parts: readonly ('properties' | 'context' | 'traits')[], traitsKind: boolean): Violation[] {
  const {traits, place} = messageTraits(message)
  const data: Record<string, unknown> = {}
  for (const part of parts) data[part] = part === 'traits' ? traits : part === 'context' ? message.context : (message.properties ?? {})
  if (validate(data)) return []
  const errors = validate.errors ?? []
  const moved = place === 'traits' ? errors : errors.map((error) => (/^\/traits(\/|$)/.test(error.instancePath) ? {...error, instancePath: `/context${error.instancePath}`} : error))
  return violationsFromAjv(moved, data, traitsKind)
}

function compileOne(ajv: Ajv, plan: TrackingPlan, schema: JsonSchema, file: string, problems: PlanProblem[]): ValidateFunction | undefined {
  if (!ajv.validateSchema(schema)) {
    // Report the deepest complaint: anyOf branches add parents that only restate it.
    const errors = [...(ajv.errors ?? [])].sort((a, b) => b.instancePath.length - a.instancePath.length)
    const first = errors[0]
    const pointer = first ? ruleFilePointer(first.instancePath) : undefined
    problems.push({severity: 'error', file, pointer, message: `invalid JSON Schema: ${pointer ?? ''} ${first?.message ?? 'does not follow draft-07'}`.replace('  ', ' ')})
    return undefined
  }
  if (reportUnusablePatterns(schema, file, '', problems, ruleFilePointer)) return undefined
  try {
    return ajv.compile(schema)
  } catch (error) {
    // The walk above found every pattern of the file itself: this one sits where a $ref leads.
    if (error instanceof UnusablePatternError) {
      problems.push({severity: 'error', file, message: `through a $ref: ${error.message}`})
      return undefined
    }
    const message = (error as Error).message
    const unresolved = /can't resolve reference (\S+)/.exec(message)
    // Loading the plan reported the $refs that lead nowhere, with their files: the same cause.
    if (unresolved && plan.refs.unresolvedIn.size > 0) return undefined
    problems.push({
      severity: 'error',
      file,
      message: unresolved ? `unresolved $ref ${unresolved[1]}: no schema or definition at that address` : `invalid JSON Schema: ${message.replace(/^schema is invalid: /, '')}`,
    })
    return undefined
  }
}

function eventVersion(message: SegmentMessage): number | undefined {
  const protocols = (message.context as {protocols?: {event_version?: unknown}}).protocols
  const version = protocols?.event_version
  return typeof version === 'number' ? version : typeof version === 'string' && /^\d+$/.test(version) ? Number(version) : undefined
}

/**
 * Compiles every rule of a plan once (ajv, all errors, fast formats). Rules that do not compile
 * are reported as problems with their file and left out; the rest still check messages.
 */
export function compilePlan(plan: TrackingPlan): {compiled: CompiledPlan; problems: PlanProblem[]} {
  const problems: PlanProblem[] = []
  // ownProperties: a plan's "constructor" property is checked on the message's own keys, not found on Object.
  // Patterns run on re2js (linear time), never on V8's backtracking engine: see regexp.ts.
  const ajv = new Ajv({allErrors: true, strict: false, ownProperties: true, code: {regExp: planRegExp}})
  addFormats(ajv, {mode: 'fast'})
  if (plan.definitions) {
    reportUnusablePatterns(plan.definitions.document, plan.definitions.file, '', problems)
    try {
      ajv.addSchema({...plan.definitions.document, $id: planBaseUri + plan.definitions.file})
    } catch (error) {
      problems.push({severity: 'error', file: plan.definitions.file, message: `invalid JSON Schema: ${(error as Error).message}`})
    }
  }
  const events = new Map<string, {versions: Map<number, ValidateFunction>; oldest: number}>()
  for (const [name, versions] of plan.events) {
    const compiled = new Map<number, ValidateFunction>()
    for (const [version, rule] of versions) {
      const validate = compileOne(ajv, plan, wrapper(rule), rule.file, problems)
      if (validate) compiled.set(version, validate)
    }
    if (compiled.size > 0) events.set(name, {versions: compiled, oldest: Math.min(...compiled.keys())})
  }
  const traitsValidator = (rule: TraitsRule | undefined) =>
    rule ? compileOne(ajv, plan, wrapper(rule), rule.file, problems) : undefined
  const identify = traitsValidator(plan.identify)
  const group = traitsValidator(plan.group)
  const ruleValidator = (kind: 'page' | 'screen' | 'common') => {
    const rule = plan.rules[kind]
    return rule ? compileOne(ajv, plan, wrapper(rule), rule.file, problems) : undefined
  }
  const page = ruleValidator('page')
  const screen = ruleValidator('screen')
  const common = ruleValidator('common')
  const active = plan.events.size > 0 || plan.identify !== undefined || plan.group !== undefined || Object.keys(plan.rules).length > 0

  const checkCommon = (message: SegmentMessage): Violation[] => (common ? checkParts(common, message, ['properties', 'context', 'traits'], false) : [])

  const check = (message: SegmentMessage): Violation[] => {
    if (!active) return []
    const own = checkOwn(message)
    return common ? [...checkCommon(message), ...own] : own
  }

  const checkOwn = (message: SegmentMessage): Violation[] => {
    if (message.type === 'page' || message.type === 'screen') {
      const validate = message.type === 'page' ? page : screen
      return validate ? checkParts(validate, message, ['properties', 'context'], false) : []
    }
    if (message.type === 'track') {
      const name = message.event as string
      const rule = events.get(name)
      if (!rule) {
        if (plan.events.has(name)) return [] // planned, but its rule did not compile: reported by validate
        return [unplannedEventViolation(name)]
      }
      const wanted = eventVersion(message)
      const validate = (wanted !== undefined && rule.versions.get(wanted)) || (rule.versions.get(rule.oldest) as ValidateFunction)
      return checkParts(validate, message, ['properties', 'context', 'traits'], false)
    }
    const validate = message.type === 'identify' ? identify : message.type === 'group' ? group : undefined
    return validate ? checkParts(validate, message, ['traits', 'context'], true) : []
  }
  return {compiled: {plan, active, check}, problems}
}

export type {Violation}
