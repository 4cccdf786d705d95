import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {functionsFolder} from '../config/functions.js'
import {functionNamePattern} from '../config/functions-schema.js'
import {configFileName, workspacePaths} from '../config/workspace.js'
import {ExitCode, UserError} from '../errors.js'
import {jsonErrorWhere} from '../functions/test-cases.js'
import {functionKinds, type FunctionKind, type JsonObject} from '../functions/types.js'
import {isPlainObject} from '../message/json-value.js'
import {FnExit} from './fn-workspace.js'

export interface FnNewOptions {
  dir: string
  name: string
  kind?: FunctionKind
  /** A template of the library (templates/functions/templates.json). */
  from?: string
}

/** The entry `cdp fn new` adds to cdp.json's functions. */
export interface FunctionEntry {
  name: string
  kind: FunctionKind
  source?: string
  settings?: JsonObject
  allowedHosts?: string[]
}

export interface FnNewResult {
  name: string
  kind: FunctionKind
  template: string
  files: {path: string; action: 'created' | 'updated'}[]
  entry: FunctionEntry
  /** What the user must know: secrets read from the environment, the source a source function emits as. */
  notes: string[]
}

interface TemplateInfo {
  kind: FunctionKind
  description: string
  settings?: JsonObject
  allowedHosts?: string[]
  notes?: string[]
}

interface TemplateManifest {
  starters: Record<FunctionKind, TemplateInfo>
  library: Record<string, TemplateInfo>
}

const templateDir = new URL('../../templates/functions/', import.meta.url)
const namePattern = new RegExp(functionNamePattern)
const namePlaceholder = /\{\{name\}\}/g

/** The templates `cdp fn new --from` takes, with what each does. */
export function functionTemplates(): {name: string; kind: FunctionKind; description: string}[] {
  const manifest = readManifest()
  return Object.entries(manifest.library).map(([name, info]) => ({name, kind: info.kind, description: info.description}))
}

function readManifest(): TemplateManifest {
  return JSON.parse(readFileSync(new URL('templates.json', templateDir), 'utf8')) as TemplateManifest
}

function badInput(message: string, hint?: string, code = 'bad_input'): UserError {
  return new UserError(message, {hint, exitCode: FnExit.badInput, code})
}

/** Writes functions/NAME.js and its test cases from a template, and declares the function in cdp.json. */
export function newFunction(options: FnNewOptions): FnNewResult {
  const {name} = options
  if (!namePattern.test(name) || name.length > 64) {
    throw badInput(`Cannot use "${name}" as a function name.`, 'Use up to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit.', 'bad_name')
  }
  const manifest = readManifest()
  let template: string
  let info: TemplateInfo
  if (options.from !== undefined) {
    if (!Object.hasOwn(manifest.library, options.from)) {
      const list = Object.entries(manifest.library).map(([key, value]) => `${key} (${value.kind})`)
      throw badInput(`There is no function template named "${options.from}".`, `Templates: ${list.join(', ')}.`, 'unknown_template')
    }
    template = options.from
    info = manifest.library[template]
    if (options.kind !== undefined && options.kind !== info.kind) {
      throw badInput(`Template ${template} makes ${article(info.kind)} function, not ${article(options.kind)} one.`, `Leave out --kind (the template sets it), or choose a ${options.kind} template.`, 'kind_conflict')
    }
  } else {
    if (options.kind === undefined) throw badInput('Say what kind of function to write.', `Pass --kind ${functionKinds.join('|')}, or --from TEMPLATE.`, 'no_kind')
    template = options.kind
    info = manifest.starters[options.kind]
  }

  const paths = workspacePaths(options.dir)
  if (!existsSync(paths.config)) {
    throw new UserError(`There is no ${configFileName} in ${paths.dir} to declare the function in.`, {
      hint: `Run \`cdp init\` first${options.dir === '.' ? '' : ` (cdp init ${options.dir})`}, or pass --dir with the workspace.`,
      exitCode: FnExit.badInput,
      code: 'no_config',
    })
  }
  let text = readFileSync(paths.config, 'utf8')
  const bom = text.charCodeAt(0) === 0xfeff
  if (bom) text = text.slice(1)
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (error) {
    throw badInput(`${paths.config} is not valid JSON: ${jsonErrorWhere(text, error)}`, `Fix the JSON syntax in ${configFileName} first.`, 'invalid_config')
  }
  if (!isPlainObject(config)) throw badInput(`${paths.config} must hold a JSON object.`, undefined, 'invalid_config')
  const functions = config.functions ?? []
  if (!Array.isArray(functions)) throw badInput(`${paths.config} /functions must be a list.`, undefined, 'invalid_config')
  const existing = functions.findIndex((entry: unknown) => isPlainObject(entry) && entry.name === name)
  if (existing !== -1) {
    throw new UserError(`${configFileName} already declares a function named "${name}" (/functions/${existing}).`, {hint: 'Choose another name, or edit that function.', exitCode: FnExit.failed, code: 'exists'})
  }

  const folder = path.join(paths.dir, functionsFolder)
  const file = path.join(folder, `${name}.js`)
  const testFile = path.join(folder, `${name}.test.json`)
  for (const taken of [file, path.join(folder, `${name}.ts`), testFile]) {
    if (existsSync(taken)) {
      throw new UserError(`${taken} already exists; cdp fn new will not overwrite it.`, {hint: 'Choose another name, or move the file.', exitCode: FnExit.failed, code: 'exists'})
    }
  }

  const entry: FunctionEntry = {name, kind: info.kind}
  const notes = [...(info.notes ?? [])]
  if (info.kind === 'source') {
    const sources = Array.isArray(config.sources) ? config.sources.filter(isPlainObject) : []
    if (!sources.some((source) => source.name === name)) {
      const first = sources.find((source) => typeof source.name === 'string')
      if (first !== undefined) {
        entry.source = first.name as string
        notes.push(`Its messages enter as source "${entry.source}" (its plan, insert function and destinations apply); change "source" in ${configFileName} to use another.`)
      } else {
        notes.push(`A source function emits as a source: add one to "sources" in ${configFileName}, and name it with "source".`)
      }
    }
  }
  if (info.settings !== undefined && Object.keys(info.settings).length > 0) entry.settings = info.settings
  if (info.allowedHosts !== undefined && info.allowedHosts.length > 0) entry.allowedHosts = info.allowedHosts
  for (const [key, value] of Object.entries(entry.settings ?? {})) {
    if (isPlainObject(value) && typeof value.env === 'string') notes.push(`settings.${key} is read from the environment variable ${value.env}: set it before \`cdp dev\` (the cases of \`cdp fn test\` bring their own).`)
  }

  const templatePath = options.from === undefined ? template : `library/${template}`
  const source = readTemplate(`${templatePath}.js`, name)
  const cases = readTemplate(`${templatePath}.test.json`, name)
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? '  '
  config.functions = [...functions, entry]
  try {
    mkdirSync(folder, {recursive: true})
    writeFileSync(file, source, {flag: 'wx'})
    writeFileSync(testFile, cases, {flag: 'wx'})
    writeFileSync(paths.config, (bom ? '\ufeff' : '') + JSON.stringify(config, null, indent) + '\n')
  } catch (error) {
    throw new UserError(`Cannot write the function: ${(error as Error).message}`, {hint: 'Check that you can write to the workspace.', exitCode: ExitCode.environment, code: 'not_writable'})
  }
  return {
    name,
    kind: info.kind,
    template,
    files: [
      {path: file, action: 'created'},
      {path: testFile, action: 'created'},
      {path: paths.config, action: 'updated'},
    ],
    entry,
    notes,
  }
}

function readTemplate(file: string, name: string): string {
  return readFileSync(fileURLToPath(new URL(file, templateDir)), 'utf8').replace(namePlaceholder, name)
}

function article(kind: FunctionKind): string {
  return `${kind === 'insert' ? 'an' : 'a'} ${kind}`
}
