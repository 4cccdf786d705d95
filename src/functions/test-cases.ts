import {existsSync, readFileSync} from 'node:fs'
import {isPlainObject} from '../message/json-value.js'
import type {FunctionKind, JsonObject, SourceRequest} from './types.js'
import {escapePointer} from '../plan/schema-walk.js'

/**
 * `functions/NAME.test.json`: the cases `cdp fn test` runs a function against. A JSON list of
 * `{name, input, settings?, fetch?, expect}`; every problem is reported at once with its JSON path.
 */

/** A canned answer to one fetch() a case's function makes: the network is never reached. */
export interface FetchAnswer {
  url: string
  /** Matches any method when absent. */
  method?: string
  status: number
  /** A string is the body as is; any other JSON value is sent as JSON (content-type application/json). */
  body?: unknown
  headers?: {[name: string]: string}
}

export type CaseExpectation =
  /** Insert: the event(s) that go on; source: the emitted messages; destination: each event's outcome. */
  | {output: unknown}
  /** The error class the call fails with (ValidationError, RetryError, TimeoutError, TypeError…). */
  | {error: string}
  /** Insert functions: the event is dropped. */
  | {dropped: true}
  /** Destination functions: every event is delivered. */
  | {delivered: true}

export interface TestCase {
  name: string
  /** Insert and destination functions: the events (one, or a batch); source functions: one request. */
  input: JsonObject[] | SourceRequest
  /** Whether input was a single event (its output is then compared as one event, not a list). */
  single: boolean
  /** Merged over the function's settings from cdp.json. */
  settings?: JsonObject
  fetch: FetchAnswer[]
  expect: CaseExpectation
}

export interface TestFile {
  file: string
  cases: TestCase[]
  /** Every problem of the file, each with its JSON path ("/2/expect: …"). */
  problems: string[]
}

const caseKeys = new Set(['name', 'input', 'settings', 'fetch', 'expect'])
const expectKeys = ['output', 'error', 'dropped', 'delivered'] as const
const fetchKeys = new Set(['url', 'method', 'status', 'body', 'headers'])
const requestKeys = new Set(['body', 'headers', 'url'])

/** The test file of a function file: functions/crm.js → functions/crm.test.json. */
export function testFileOf(functionFile: string): string {
  return functionFile.replace(/\.(m?js|ts)$/, '') + '.test.json'
}

/** Reads and checks a test file; undefined when there is none. */
export function readTestFile(file: string, kind: FunctionKind, functionName: string): TestFile | undefined {
  if (!existsSync(file)) return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return {file, cases: [], problems: [`cannot read it: ${(error as Error).message}`]}
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return {file, cases: [], problems: [`not valid JSON: ${jsonErrorWhere(text, error)}`]}
  }
  return {file, ...checkTestCases(value, kind, functionName)}
}

/** A JSON.parse error with its line and column, when the message gives a position. */
export function jsonErrorWhere(text: string, error: unknown): string {
  // Node quotes the text near the error, line breaks and all: one line here.
  const message = (error as Error).message.replace(/\r?\n/g, '\\n')
  const position = /at position (\d+)/.exec(message)
  // Node 20 gives no position for an unexpected token: find it.
  const offset = position === null ? jsonErrorOffset(text) : Number(position[1])
  if (offset === undefined) return message
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - before.lastIndexOf('\n')
  return `${message} (line ${line}, column ${column})`
}

/** Where the first syntax error of a JSON text is (the offset of the character that is wrong), or undefined when it parses. */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }
  const fail = (): never => {
    throw i
  }
  const literal = (word: string) => {
    for (const char of word) if (text[i++] !== char) (i--, fail())
  }
  const string = () => {
    i++
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail()
      if (text[i] === '\\') {
        i++
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) (i += k, fail())
          i += 4
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x') || i >= text.length) fail()
      }
      i++
    }
    if (i >= text.length) fail()
    i++
  }
  const value = (): void => {
    space()
    const char = text[i]
    if (char === '{') {
      i++
      space()
      if (text[i] === '}') return void i++
      for (;;) {
        space()
        if (text[i] !== '"') fail()
        string()
        space()
        if (text[i] !== ':') fail()
        i++
        value()
        space()
        if (text[i] === ',') i++
        else if (text[i] === '}') return void i++
        else fail()
      }
    }
    if (char === '[') {
      i++
      space()
      if (text[i] === ']') return void i++
      for (;;) {
        value()
        space()
        if (text[i] === ',') i++
        else if (text[i] === ']') return void i++
        else fail()
      }
    }
    if (char === '"') return string()
    if (char === 't') return literal('true')
    if (char === 'f') return literal('false')
    if (char === 'n') return literal('null')
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (number === null) fail()
    i += number![0].length
  }
  try {
    value()
    space()
    return i < text.length ? i : undefined
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : undefined
  }
}

function pointer(...tokens: (string | number)[]): string {
  return tokens.map((token) => '/' + escapePointer(String(token))).join('')
}

/** Checks parsed test cases for a function of this kind: every problem with its path, and the cases when there is none. */
export function checkTestCases(value: unknown, kind: FunctionKind, functionName = 'NAME'): {cases: TestCase[]; problems: string[]} {
  const problems: string[] = []
  if (!Array.isArray(value)) return {cases: [], problems: ['(top level): must be a list of cases, [{"name", "input", "expect"}, …]']}
  const cases: TestCase[] = []
  const names = new Map<string, number>()
  value.forEach((item: unknown, index) => {
    const at = pointer(index)
    if (!isPlainObject(item)) {
      problems.push(`${at}: must be an object {"name", "input", "expect"}`)
      return
    }
    const before = problems.length
    for (const key of Object.keys(item)) if (!caseKeys.has(key)) problems.push(`${pointer(index, key)}: unknown field "${key}" (a case has name, input, settings, fetch, expect)`)
    const name = item.name
    if (typeof name !== 'string' || name.trim() === '') problems.push(`${at}/name: must be a non-empty string`)
    else if (names.has(name)) problems.push(`${at}/name: "${name}" is also the name of /${names.get(name)}; each case needs its own`)
    else names.set(name, index)
    const input = checkInput(item, kind, at, problems, functionName)
    const settings = item.settings
    if (settings !== undefined && !isPlainObject(settings)) problems.push(`${at}/settings: must be an object (merged over the function's settings in cdp.json)`)
    const fetch = checkFetch(item.fetch, at, problems)
    const expect = checkExpect(item.expect, kind, at, problems)
    if (problems.length === before && input !== undefined && expect !== undefined) {
      cases.push({
        name: name as string,
        input: input.value,
        single: input.single,
        ...(settings === undefined ? {} : {settings: settings as JsonObject}),
        fetch,
        expect,
      })
    }
  })
  return {cases: problems.length === 0 ? cases : [], problems}
}

function checkInput(item: JsonObject, kind: FunctionKind, at: string, problems: string[], functionName: string): {value: JsonObject[] | SourceRequest; single: boolean} | undefined {
  const input = item.input
  if (!Object.hasOwn(item, 'input')) {
    problems.push(`${at}: missing required field "input" (${kind === 'source' ? 'the request: {"body", "headers"}' : 'the event'})`)
    return undefined
  }
  if (kind === 'source') {
    if (!isPlainObject(input)) {
      problems.push(`${at}/input: must be the request, an object {"body", "headers"?, "url"?}`)
      return undefined
    }
    const before = problems.length
    for (const key of Object.keys(input)) if (!requestKeys.has(key)) problems.push(`${at}/input/${key}: unknown field "${key}" (a request has body, headers, url)`)
    if (!Object.hasOwn(input, 'body')) problems.push(`${at}/input: missing required field "body" (a string is sent as is, any other JSON value as JSON)`)
    const headers: {[name: string]: string} = {}
    if (input.headers !== undefined) {
      if (!isPlainObject(input.headers)) problems.push(`${at}/input/headers: must be an object of header names and string values`)
      else {
        for (const key of Object.keys(input.headers)) {
          const header = input.headers[key]
          if (typeof header !== 'string') problems.push(`${at}/input/headers${pointer(key)}: must be a string`)
          else headers[key.toLowerCase()] = header
        }
      }
    }
    if (input.url !== undefined && typeof input.url !== 'string') problems.push(`${at}/input/url: must be a string`)
    if (problems.length > before) return undefined
    const body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body)
    if (typeof input.body !== 'string' && headers['content-type'] === undefined) headers['content-type'] = 'application/json'
    const url = typeof input.url === 'string' ? input.url : `http://localhost:8237/v1/functions/${encodeURIComponent(functionName)}`
    return {value: {body, headers, url}, single: true}
  }
  if (isPlainObject(input)) return {value: [input], single: true}
  if (Array.isArray(input) && input.length > 0 && input.every(isPlainObject)) return {value: input as JsonObject[], single: false}
  problems.push(`${at}/input: must be an event object, or a non-empty list of events (a batch)`)
  return undefined
}

function checkFetch(value: unknown, at: string, problems: string[]): FetchAnswer[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    problems.push(`${at}/fetch: must be a list of canned answers [{"url", "status", "body"}]`)
    return []
  }
  const answers: FetchAnswer[] = []
  value.forEach((answer: unknown, index) => {
    const where = `${at}/fetch/${index}`
    if (!isPlainObject(answer)) {
      problems.push(`${where}: must be an object {"url", "method"?, "status", "body"?, "headers"?}`)
      return
    }
    const before = problems.length
    for (const key of Object.keys(answer)) if (!fetchKeys.has(key)) problems.push(`${where}/${key}: unknown field "${key}" (an answer has url, method, status, body, headers)`)
    if (typeof answer.url !== 'string' || answer.url === '') problems.push(`${where}/url: must be the URL the function fetches, a string`)
    if (answer.method !== undefined && (typeof answer.method !== 'string' || !/^[A-Za-z]+$/.test(answer.method))) problems.push(`${where}/method: must be an HTTP method such as "POST"`)
    const status = answer.status ?? 200
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) problems.push(`${where}/status: must be an HTTP status from 200 to 599`)
    const headers: {[name: string]: string} = {}
    if (answer.headers !== undefined) {
      if (!isPlainObject(answer.headers)) problems.push(`${where}/headers: must be an object of header names and string values`)
      else {
        for (const key of Object.keys(answer.headers)) {
          const header = answer.headers[key]
          if (typeof header !== 'string') problems.push(`${where}/headers${pointer(key)}: must be a string`)
          else headers[key] = header
        }
      }
    }
    if (problems.length > before) return
    answers.push({
      url: answer.url as string,
      ...(answer.method === undefined ? {} : {method: (answer.method as string).toUpperCase()}),
      status: status as number,
      ...(answer.body === undefined ? {} : {body: answer.body}),
      ...(answer.headers === undefined ? {} : {headers}),
    })
  })
  return answers
}

function checkExpect(value: unknown, kind: FunctionKind, at: string, problems: string[]): CaseExpectation | undefined {
  const where = `${at}/expect`
  const allowed = kind === 'insert' ? 'output, error or dropped' : kind === 'destination' ? 'delivered, error or output' : 'output or error'
  if (!isPlainObject(value)) {
    problems.push(value === undefined ? `${at}: missing required field "expect" (one of ${allowed})` : `${where}: must be an object with one of ${allowed}`)
    return undefined
  }
  const keys = Object.keys(value)
  const unknown = keys.filter((key) => !(expectKeys as readonly string[]).includes(key))
  for (const key of unknown) problems.push(`${where}/${key}: unknown field "${key}" (expect has one of ${allowed})`)
  const given = keys.filter((key) => (expectKeys as readonly string[]).includes(key))
  if (given.length !== 1) {
    if (unknown.length === 0) problems.push(`${where}: must have exactly one of ${allowed}${given.length > 1 ? `, not ${given.join(' and ')}` : ''}`)
    return undefined
  }
  const [key] = given
  switch (key) {
    case 'output':
      return {output: value.output}
    case 'error':
      if (typeof value.error !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(value.error)) {
        problems.push(`${where}/error: must be an error class name such as "ValidationError"`)
        return undefined
      }
      return {error: value.error}
    case 'dropped':
      if (kind !== 'insert') {
        problems.push(`${where}/dropped: only insert functions drop events; expect ${allowed}`)
        return undefined
      }
      if (value.dropped !== true) {
        problems.push(`${where}/dropped: must be true (expect output when the event goes on)`)
        return undefined
      }
      return {dropped: true}
    default:
      if (kind !== 'destination') {
        problems.push(`${where}/delivered: only destination functions deliver; expect ${allowed}`)
        return undefined
      }
      if (value.delivered !== true) {
        problems.push(`${where}/delivered: must be true (expect error when delivery fails)`)
        return undefined
      }
      return {delivered: true}
  }
}

/** What one case's canned network saw: requests with no answer, answers never asked for. */
export interface CannedFetch {
  fetch: (url: string, init: {method: string; headers: [string, string][]; body?: string | Uint8Array}) => Promise<Response>
  /** Requests no canned answer matched ("POST https://…"). */
  unmatched: string[]
  /** Requests made, in order ("POST https://…"). */
  requests: string[]
  /** Answers no request used. */
  unused: () => FetchAnswer[]
}

const nullBodyStatus = new Set([204, 205, 304])

/**
 * A fetch that answers from a case's canned answers: the first unused answer whose URL (and method,
 * when it names one) matches the request. A request nothing matches is refused, and recorded so the
 * case fails saying which.
 */
export function cannedFetch(answers: readonly FetchAnswer[]): CannedFetch {
  const used = new Set<number>()
  const unmatched: string[] = []
  const requests: string[] = []
  return {
    unmatched,
    requests,
    unused: () => answers.filter((_, index) => !used.has(index)),
    fetch: async (url, init) => {
      const method = (init.method || 'GET').toUpperCase()
      const request = `${method} ${url}`
      requests.push(request)
      const index = answers.findIndex((answer, i) => !used.has(i) && sameUrl(answer.url, url) && (answer.method === undefined || answer.method === method))
      if (index === -1) {
        unmatched.push(request)
        throw new Error(`no canned answer for ${request} in this case's "fetch"`)
      }
      used.add(index)
      const answer = answers[index]
      const headers = new Headers(answer.headers ?? {})
      let body: string | null = null
      if (answer.body !== undefined && !nullBodyStatus.has(answer.status)) {
        if (typeof answer.body === 'string') body = answer.body
        else {
          body = JSON.stringify(answer.body)
          if (!headers.has('content-type')) headers.set('content-type', 'application/json')
        }
      }
      return new Response(body, {status: answer.status, headers})
    },
  }
}

function sameUrl(expected: string, actual: string): boolean {
  if (expected === actual) return true
  try {
    return new URL(expected).href === new URL(actual).href
  } catch {
    return false
  }
}
