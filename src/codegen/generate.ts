import {readFileSync} from 'node:fs'
import {re2Translations} from '../plan/regexp.js'
import {selfContained, type RuleSchemas} from '../plan/self-contained.js'
import type {EventRule, JsonSchema, TrackingPlan} from '../plan/types.js'
import {setOwn} from '../message/own-keys.js'
import {generatedMarker} from './marker.js'
import {methodNames, pascalCase} from './names.js'
import {docComment, printDeclaration, printTypedef} from './print-types.js'
import {declare, TypeNamer, type Declaration} from './type-model.js'

export {generatedMarker}

export type CodegenTarget = 'node' | 'browser'
/** TypeScript, or plain JavaScript (ESM) with the same types as JSDoc. */
export type CodegenLanguage = 'ts' | 'js'
export const codegenLanguages: readonly CodegenLanguage[] = ['ts', 'js']

export interface GenerateOptions {
  target: CodegenTarget
  /** Default: ts. */
  language?: CodegenLanguage
  validate: boolean
  version: string
  planHash: string
}

export interface GeneratedFile {
  /** Relative to the output folder. */
  path: string
  content: string
}

const templateDir = new URL('../../templates/codegen/', import.meta.url)
const template = (name: string) => readFileSync(new URL(name, templateDir), 'utf8')

function render(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    if (!(key in values)) throw new Error(`template placeholder {{${key}}} has no value`)
    return values[key]
  })
}

/** Names the templates declare: a plan's definition never takes one. */
const templateTypeNames = ['Id', 'Identity', 'CallOptions', 'Violation', 'TrackerOptions', 'AnalyticsLike', 'TrackParams', 'IdentifyParams', 'GroupParams', 'BrowserOptions', 'IdentifyTraits', 'GroupTraits', 'TrackingPlanCalls']

function hasRequired(schema: JsonSchema | undefined): boolean {
  return Array.isArray(schema?.required) && (schema.required as unknown[]).length > 0
}

/** The newest version of each event, by name: the one the client sends (and says so). */
function newestRules(plan: TrackingPlan): EventRule[] {
  return [...plan.events.keys()].sort().map((name) => {
    const versions = plan.events.get(name) as Map<number, EventRule>
    return versions.get(Math.max(...versions.keys())) as EventRule
  })
}

/** [pattern, RE2 translation] pairs as the entries of a Map literal, one a line. */
function patternEntries(translations: [string, string][]): string {
  if (translations.length === 0) return '[]'
  return `[\n${translations.map(([pattern, re2]) => `  [${JSON.stringify(pattern)}, ${JSON.stringify(re2)}],`).join('\n')}\n]`
}

interface CallPart {
  /** The event name, "identify" or "group": the key of the run-time schemas. */
  key: string
  typeName: string
  field: 'properties' | 'traits'
  description?: string
  /** The rule's properties or traits; every $ref leads into definitions (selfContained). */
  schema: JsonSchema
  definitions?: Record<string, JsonSchema>
}

function callPart(plan: TrackingPlan, key: string, typeName: string, field: CallPart['field'], rule: RuleSchemas): CallPart {
  const contained = selfContained(plan, rule)
  return {key, typeName, field, description: rule.description, schema: (contained[field] ?? {type: 'object'}) as JsonSchema, definitions: contained.definitions}
}

/**
 * The client's types: every event's properties, identify's and group's traits, the definitions
 * they use (each declared once, in name order), and TrackingPlanCalls naming them all.
 */
function declarations(parts: CallPart[]): Declaration[] {
  const namer = new TypeNamer(templateTypeNames)
  // Claimed first: the calls' own types keep their names whatever a definition is called.
  for (const part of parts) namer.claim(part.typeName)
  const calls = parts.map((part) => declare(namer, part.typeName, part.schema, part.definitions, part.description))
  const index: Declaration = {
    name: 'TrackingPlanCalls',
    description: 'Every planned call by name, with the properties or traits it takes.',
    type: {kind: 'object', members: parts.map((part) => ({name: part.key, optional: false, type: {kind: 'ref', name: part.typeName}}))},
  }
  const shared = [...namer.declarations.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return [...shared, ...calls, index]
}

/** The schemas the --validate client checks calls against, by call. */
function runtimeSchemas(parts: CallPart[]): Record<string, JsonSchema> {
  const schemas: Record<string, JsonSchema> = {}
  // Plan files are hostile input: an event named __proto__ stays an ordinary key.
  for (const part of parts) setOwn(schemas, part.key, {type: 'object', properties: {[part.field]: part.schema}, ...(part.definitions ? {definitions: part.definitions} : {})})
  return schemas
}

/** One client function per event; its parameters typed in TypeScript or in JSDoc. */
function methodSource(rule: EventRule, method: string, eventVersion: string, options: GenerateOptions): string {
  const type = `${pascalCase(rule.name)}Properties`
  const required = hasRequired(rule.properties)
  const optional = required ? '' : '?'
  const name = JSON.stringify(rule.name)
  const description = rule.description ?? `"${rule.name}"`
  const indent = '    '
  if (options.language === 'js') {
    const params =
      options.target === 'node'
        ? [`@param {Identity & CallOptions & {properties${optional}: ${type}}} message`]
        : [`@param {${type}} ${required ? 'properties' : '[properties]'}`, '@param {CallOptions} [callOptions]']
    const doc = docComment(`${description}\n${params.join('\n')}`, indent).join('\n')
    return options.target === 'node'
      ? `${doc}\n${indent}${method}(message) {\n${indent}  track(${name}, ${eventVersion}, message)\n${indent}},`
      : `${doc}\n${indent}${method}(properties, callOptions = {}) {\n${indent}  return track(${name}, ${eventVersion}, properties, callOptions)\n${indent}},`
  }
  const doc = docComment(description, indent).join('\n')
  return options.target === 'node'
    ? `${doc}\n${indent}${method}(message: Identity & CallOptions & {properties${optional}: ${type}}): void {\n${indent}  track(${name}, ${eventVersion}, message)\n${indent}},`
    : `${doc}\n${indent}${method}(properties${optional}: ${type}, callOptions: CallOptions = {}) {\n${indent}  return track(${name}, ${eventVersion}, properties, callOptions)\n${indent}},`
}

/**
 * The typed client for a plan: one function per event (camelCase of its name) taking its typed
 * properties, typed identify and group traits, JSDoc from the descriptions. In TypeScript, or in
 * JavaScript with the same types as JSDoc typedefs. Deterministic: the same plan and options give
 * the same bytes.
 */
export async function generateClient(plan: TrackingPlan, options: GenerateOptions): Promise<GeneratedFile[]> {
  const language = options.language ?? 'ts'
  const rules = newestRules(plan)
  const methods = methodNames(rules.map((rule) => rule.name))
  const parts: CallPart[] = [
    ...rules.map((rule) => callPart(plan, rule.name, `${pascalCase(rule.name)}Properties`, 'properties', rule)),
    callPart(plan, 'identify', 'IdentifyTraits', 'traits', plan.identify ?? {traits: {type: 'object'}}),
    callPart(plan, 'group', 'GroupTraits', 'traits', plan.group ?? {traits: {type: 'object'}}),
  ]
  const types = declarations(parts)
    .map((declaration) => (language === 'js' ? printTypedef(declaration) : printDeclaration(declaration)))
    .join('\n\n')

  const methodsSource = rules
    .map((rule) => {
      const version = (plan.events.get(rule.name) as Map<number, EventRule>).size > 1 ? String(rule.version) : 'undefined'
      return methodSource(rule, methods.get(rule.name) as string, version, {...options, language})
    })
    .join('\n\n')

  const flags = [`target ${options.target}`, ...(language === 'js' ? ['language js'] : []), ...(options.validate ? ['--validate'] : [])]
  const header = [
    `${generatedMarker} (cdp ${options.version}, ${flags.join(', ')}) from plan ${options.planHash}.`,
    '// Do not edit: change the plan and run `cdp plan codegen` again.',
    '/* eslint-disable */',
  ].join('\n')
  const validation = options.validate
    ? (() => {
        const schemas = runtimeSchemas(parts)
        return render(template(`validation.${language}.tpl`), {schemas: JSON.stringify(schemas, null, 2), patterns: patternEntries(re2Translations(Object.values(schemas)))})
      })()
    : template(`no-validation.${language}.tpl`)
  const content = render(template(`${options.target}.${language}.tpl`), {
    header,
    validationImports: options.validate ? template(`validation-imports.${language}.tpl`) : '',
    types,
    generator: JSON.stringify({name: 'cdp', version: options.version, plan: options.planHash}),
    validation,
    methods: methodsSource,
    identifyOptional: hasRequired(plan.identify?.traits) ? '' : '?',
    groupOptional: hasRequired(plan.group?.traits) ? '' : '?',
    // JSDoc writes an optional parameter in brackets.
    identifyTraitsParam: hasRequired(plan.identify?.traits) ? 'traits' : '[traits]',
    groupTraitsParam: hasRequired(plan.group?.traits) ? 'traits' : '[traits]',
  })
  // Optional parts (validation imports) leave empty lines behind: one blank line between blocks.
  return [{path: `index.${language}`, content: `${content.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`}]
}
