import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'
import {UserError} from '../errors.js'
import {isPlainObject} from '../message/json-value.js'
import {escapePointer} from '../plan/schema-walk.js'
import {printable} from '../printable.js'
import type {FunctionDefinition} from '../functions/types.js'
import {functionDefinitions} from './functions.js'
import {allowedHostPattern} from './functions-schema.js'
import {transformationPathMeaning, transformationPathPattern} from './transformations-schema.js'
import {destinationSchemas, destinationTypes, fileModePattern, headerNamePattern, headerValuePattern} from './destinations.js'
import {configSchema, type ConfigFile, type WorkspaceConfig} from './schema.js'
import {configFileName, workspacePaths} from './workspace.js'

// ownProperties: a field is present only as the file's own key, never found on Object.prototype.
const ajv = new Ajv({allErrors: true, strict: true, ownProperties: true})
// Compiled on first use, not at import: every command that reads cdp.json imports this, and
// compiling all six schemas took ~0.37 s of each start (issue 16); a destination type's
// validator is compiled when a cdp.json first names that type.
let configValidator: ValidateFunction<ConfigFile> | undefined
const validateConfig = (value: unknown): value is ConfigFile => (configValidator ??= ajv.compile<ConfigFile>(configSchema))(value)
const destinationValidators = new Map<string, ValidateFunction>()
function destinationValidator(type: string): ValidateFunction | undefined {
  if (!Object.hasOwn(destinationSchemas, type)) return undefined
  let validate = destinationValidators.get(type)
  if (!validate) destinationValidators.set(type, (validate = ajv.compile(destinationSchemas[type as keyof typeof destinationSchemas])))
  return validate
}

export interface LoadedConfig {
  config: WorkspaceConfig
  /** The file it came from; undefined when the workspace has none and defaults apply. */
  file?: string
  /** Its functions, resolved: files found, settings' environment variables read. */
  functions: FunctionDefinition[]
}

/** What a pattern means, for the patterns whose regular expression would not tell a user. */
const patternMeanings = new Map<string, string>([
  [headerNamePattern, "is not an HTTP header name: use letters, digits and !#$%&'*+-.^_`|~ only"],
  [headerValuePattern, 'holds a line break (CR or LF) or another control character, which would end the header or garble it: use printable text only'],
  [transformationPathPattern, transformationPathMeaning],
  [allowedHostPattern, 'is not a host fetch() may reach: write a name or address ("api.example.com", "127.0.0.1"), optionally with ":port" or a leading "*." for subdomains; no scheme, no path'],
  [fileModePattern, 'is not a file mode you can read and write: use four octal digits starting 06 or 07, such as "0600" or "0640"'],
])

/** A sentence for one ajv error, or undefined for an error that only restates another. */
function describeAjvError(error: ErrorObject, prefix = ''): string | undefined {
  // Keys are data: a control character in one must not end the report's line.
  const where = printable(prefix + error.instancePath) || '(top level)'
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}: unknown field "${(error.params as {additionalProperty: string}).additionalProperty}"`
    case 'required':
      return `${where}: missing required field "${(error.params as {missingProperty: string}).missingProperty}"`
    case 'type':
      return `${where}: must be ${(error.params as {type: string}).type}`
    case 'propertyNames':
      // Follows the error of the name's own rule, which says what is wrong with it.
      return undefined
    case 'pattern': {
      const meaning = patternMeanings.get((error.params as {pattern: string}).pattern)
      // A property name's rule reports at its object: name the key in the path.
      if (error.propertyName !== undefined) return `${where}/${printable(escapePointer(error.propertyName))}: the name "${printable(error.propertyName)}" ${meaning ?? error.message}`
      return `${where}: ${meaning ?? error.message}`
    }
    default:
      return `${where}: ${error.message ?? 'is invalid'}`
  }
}

/** Every problem of a config object at once, each with its JSON path. Empty when valid. */
export function configProblems(value: unknown): string[] {
  return validateConfig(value) ? fieldProblems(value) : schemaProblems(configValidator?.errors ?? [])
}

function schemaProblems(errors: readonly ErrorObject[]): string[] {
  return errors.map((error) => describeAjvError(error)).filter((problem) => problem !== undefined)
}

/** What the schema cannot say: names and write keys used twice, a destination's own settings, unknown sources. */
function fieldProblems(config: ConfigFile): string[] {
  const problems: string[] = []
  const seen = {name: new Map<string, number>(), writeKey: new Map<string, number>()}
  config.sources.forEach((source, index) => {
    for (const field of ['name', 'writeKey'] as const) {
      const earlier = seen[field].get(source[field])
      if (earlier === undefined) seen[field].set(source[field], index)
      else problems.push(`/sources/${index}/${field}: the same ${field} as /sources/${earlier}; each source needs its own`)
    }
  })
  const destinationNames = new Map<string, number>()
  config.destinations?.forEach((destination, index) => {
    const earlier = destinationNames.get(destination.name)
    if (earlier === undefined) destinationNames.set(destination.name, index)
    else problems.push(`/destinations/${index}/name: destination "${destination.name}" has the same name as /destinations/${earlier}; each destination needs its own`)
    const validate = destinationValidator(destination.type)
    const valid = validate ? validate(destination) : false
    if (!validate) {
      problems.push(`/destinations/${index}/type: destination "${destination.name}" has unknown type "${destination.type}"; use one of ${destinationTypes.join(', ')}`)
    } else if (!valid) {
      for (const error of validate.errors ?? []) {
        const problem = describeAjvError(error, `/destinations/${index}`)
        if (problem !== undefined) problems.push(`${problem} (destination "${destination.name}")`)
      }
    }
    // Checked whatever the type's schema said, so each unknown source is named with the rest; a list
    // that is not one has its own problem.
    const sources: unknown[] = Array.isArray(destination.sources) ? destination.sources : []
    for (const source of sources) {
      if (!config.sources.some((s) => s.name === source)) problems.push(`/destinations/${index}/sources: destination "${destination.name}" names source "${source}", which cdp.json does not define`)
    }
  })
  return problems
}

/** The error of a cdp.json with problems: every one, each on its line with its path. */
function problemsError(file: string, problems: readonly string[], exitCode?: number): UserError {
  return new UserError(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
    hint: `Fix these fields in ${configFileName}; the README's "The workspace" section describes it.`,
    code: 'invalid_config',
    ...(exitCode === undefined ? {} : {exitCode}),
  })
}

/**
 * cdp.json read and checked against its schema (and what the schema cannot say), without looking at
 * what its functions need from the machine (their files, environment variables): `cdp fn` runs
 * functions with settings of its own, so those are its notes, not refusals. Undefined when the
 * workspace has none. `exitCode` is the exit of a command that refuses the file.
 */
export function readConfig(dir: string, options: {exitCode?: number} = {}): {config: WorkspaceConfig; file: string} | undefined {
  const file = workspacePaths(dir).config
  if (!existsSync(file)) return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
    // Editors on Windows may save UTF-8 with a byte order mark, which JSON.parse refuses.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  } catch (error) {
    throw new UserError(`Cannot read ${file}: ${(error as Error).message}`, {hint: 'Check the file\'s permissions.', ...(options.exitCode === undefined ? {} : {exitCode: options.exitCode})})
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${(error as Error).message}`, {
      hint: `Fix the JSON syntax in ${configFileName}.`,
      code: 'invalid_config',
      ...(options.exitCode === undefined ? {} : {exitCode: options.exitCode}),
    })
  }
  const problems = configProblems(parsed)
  if (problems.length > 0) throw problemsError(file, problems, options.exitCode)
  // No problem left: the schema held, and each destination held its own type's schema too.
  return {config: parsed as WorkspaceConfig, file}
}

/**
 * Loads and validates cdp.json of a workspace, for running it: its functions' files and settings'
 * environment variables must be there too. Undefined when there is none, so callers can fall back
 * to defaults. Every problem is reported at once, with the file.
 */
export function loadConfig(dir: string): LoadedConfig | undefined {
  const read = readConfig(dir)
  if (!read) return undefined
  const functions = functionDefinitions(read.config, path.dirname(read.file))
  if (functions.problems.length > 0) throw problemsError(read.file, functions.problems)
  return {...read, functions: functions.definitions}
}
