import {checkEmitted} from '../functions/emitted.js'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {ExitCode, UserError} from '../errors.js'
import {junitXml, type JunitSuite} from '../functions/junit.js'
import {loadFunction} from '../functions/runtime/load.js'
import {cannedFetch, readTestFile, testFileOf, type TestCase} from '../functions/test-cases.js'
import {FunctionLoadError, type ConsoleLine, type FunctionDefinition, type FunctionFailure, type FunctionRuntime, type SourceRequest} from '../functions/types.js'
import {FnExit, problemsOf, readFunctionsWorkspace} from './fn-workspace.js'

export interface FnTestOptions {
  dir: string
  /** Only these functions; all of cdp.json's when empty. */
  names: string[]
  /** Write a JUnit XML report here (relative to the current folder). */
  junit?: string
  env?: NodeJS.ProcessEnv
}

export interface CaseResult {
  name: string
  passed: boolean
  ms: number
  /** Why it failed, one sentence. */
  message?: string
  /** When the failure is a difference of values: what the case expects and what the function did. */
  expected?: unknown
  actual?: unknown
  console: ConsoleLine[]
}

export interface FunctionTestResult {
  name: string
  kind: FunctionDefinition['kind']
  file: string
  /** The test file; undefined when the function has none. */
  testFile?: string
  status: 'passed' | 'failed' | 'no tests'
  cases: CaseResult[]
  /** The test file's problems, each with its JSON path: no case runs then. */
  problems: string[]
  /** The function does not load: no case runs. */
  loadError?: string
  /** cdp.json's problems about this function (an unset environment variable), for the reader. */
  notes: string[]
}

export interface FnTestResult {
  functions: FunctionTestResult[]
  passed: number
  failed: number
  /** Functions with no test file. */
  untested: number
  /** Where the JUnit report was written. */
  junit?: string
}

/** Runs each function's cases (functions/NAME.test.json) and compares what it does with what they expect. */
export async function runFunctionTests(options: FnTestOptions): Promise<FnTestResult> {
  const env = options.env ?? process.env
  const workspace = readFunctionsWorkspace(options.dir, env)
  if (workspace === undefined) {
    throw new UserError(`There is no cdp.json in ${path.resolve(options.dir)}, so there are no functions to test.`, {
      hint: 'Run `cdp init`, then `cdp fn new NAME --kind insert`; or pass --dir.',
      exitCode: FnExit.badInput,
      code: 'no_config',
    })
  }
  const known = workspace.definitions.map((definition) => definition.name)
  const unknown = options.names.filter((name) => !known.includes(name))
  if (unknown.length > 0) {
    throw new UserError(`cdp.json declares no function named ${unknown.map((name) => `"${name}"`).join(', ')}.`, {
      hint: known.length === 0 ? 'cdp.json declares no functions: add one with `cdp fn new NAME --kind insert`.' : `Functions in cdp.json: ${known.join(', ')}.`,
      exitCode: FnExit.badInput,
      code: 'unknown_function',
    })
  }
  const chosen = options.names.length === 0 ? workspace.definitions : workspace.definitions.filter((definition) => options.names.includes(definition.name))
  const functions: FunctionTestResult[] = []
  for (const definition of chosen) functions.push(await testFunction(definition, problemsOf(workspace, definition.name)))

  const cases = functions.flatMap((fn) => fn.cases)
  const result: FnTestResult = {
    functions,
    passed: cases.filter((c) => c.passed).length,
    failed: cases.filter((c) => !c.passed).length,
    untested: functions.filter((fn) => fn.status === 'no tests').length,
  }
  if (options.junit !== undefined) {
    const file = path.resolve(options.junit)
    try {
      mkdirSync(path.dirname(file), {recursive: true})
      writeFileSync(file, junitXml(junitSuites(functions)))
    } catch (error) {
      throw new UserError(`Cannot write the JUnit report ${file}: ${(error as Error).message}`, {hint: 'Choose a file you can write with --junit.', exitCode: ExitCode.environment, code: 'not_writable'})
    }
    result.junit = file
  }
  return result
}

/** 0 when every case passed, 1 when one failed or a function or test file is broken. */
export function testExitCode(result: FnTestResult): number {
  return result.functions.some((fn) => fn.status === 'failed') ? FnExit.failed : FnExit.ok
}

async function testFunction(definition: FunctionDefinition, notes: string[]): Promise<FunctionTestResult> {
  const testFile = testFileOf(definition.file)
  const base = {name: definition.name, kind: definition.kind, file: definition.file, notes, cases: [], problems: []}
  const tests = readTestFile(testFile, definition.kind, definition.name)
  if (tests === undefined) return {...base, status: 'no tests'}
  if (tests.problems.length > 0) return {...base, testFile, status: 'failed', problems: tests.problems}
  const cases: CaseResult[] = []
  for (const testCase of tests.cases) {
    const outcome = await runCase(definition, testCase)
    if ('loadError' in outcome) return {...base, testFile, status: 'failed', loadError: outcome.loadError}
    cases.push(outcome)
  }
  return {...base, testFile, status: cases.every((c) => c.passed) ? 'passed' : 'failed', cases}
}

async function runCase(definition: FunctionDefinition, testCase: TestCase): Promise<CaseResult | {loadError: string}> {
  const canned = cannedFetch(testCase.fetch)
  const started = performance.now()
  let runtime: FunctionRuntime
  try {
    runtime = await loadFunction({...definition, settings: {...definition.settings, ...testCase.settings}}, {fetch: canned.fetch})
  } catch (error) {
    if (error instanceof FunctionLoadError) return {loadError: error.message}
    throw error
  }
  try {
    const judged = await judge(runtime, definition, testCase)
    const ms = Math.round(performance.now() - started)
    const result: CaseResult = {name: testCase.name, ms, console: judged.console, passed: judged.message === undefined}
    if (judged.message !== undefined) {
      result.message = judged.message
      if (judged.compare) {
        result.expected = judged.compare.expected
        result.actual = judged.compare.actual
      }
    }
    // The network of a case is what it lists: a request nothing answers, or an answer nobody asked for, fails it.
    if (canned.unmatched.length > 0) {
      result.passed = false
      const listed = testCase.fetch.map((answer) => `${answer.method ?? 'any'} ${answer.url}`)
      result.message = `the function fetched ${canned.unmatched.join(', ')}, which no canned answer in the case's "fetch" matches (${listed.length === 0 ? 'it lists none' : `it lists ${listed.join(', ')}`})`
      delete result.expected
      delete result.actual
    } else if (result.passed && canned.unused().length > 0) {
      result.passed = false
      result.message = `the case's "fetch" answers ${canned.unused().map((a) => `${a.method ?? 'any'} ${a.url}`).join(', ')}, but the function never requested it`
    }
    return result
  } finally {
    runtime.dispose()
  }
}

interface Judgement {
  console: ConsoleLine[]
  message?: string
  compare?: {expected: unknown; actual: unknown}
}

function failure(error: FunctionFailure): string {
  return `${error.errorClass}: ${error.message}${error.location ? ` (${error.location})` : ''}`
}

async function judge(runtime: FunctionRuntime, definition: FunctionDefinition, testCase: TestCase): Promise<Judgement> {
  const expect = testCase.expect
  if (definition.kind === 'source') {
    const run = await runtime.runSource(testCase.input as SourceRequest)
    const messages = run.messages.map((message) => ({type: message.type, payload: message.payload}))
    // What cdp dev would refuse fails here too, as the ValidationError it is there.
    const checked = run.error ? undefined : checkEmitted(run.messages, Date.now())
    if (checked?.ok === false) run.error = {errorClass: 'ValidationError', message: `a message Segment would refuse: ${checked.problem}`, retryable: false}
    if ('error' in expect) {
      if (run.error?.errorClass === expect.error) return {console: run.console}
      return {
        console: run.console,
        message: run.error ? `expected ${expect.error}, but it failed with ${failure(run.error)}` : `expected ${expect.error}, but it succeeded and emitted ${count(messages.length, 'message')}`,
      }
    }
    if (run.error) return {console: run.console, message: `it failed with ${failure(run.error)}`}
    const output = (expect as {output: unknown}).output
    if (isDeepStrictEqual(messages, output)) return {console: run.console}
    return {console: run.console, message: 'the emitted messages differ', compare: {expected: output, actual: messages}}
  }

  const events = testCase.input as Parameters<FunctionRuntime['runInsert']>[0]
  if (definition.kind === 'destination') {
    const run = await runtime.runDestination(events)
    const outcomes = run.outcomes.map((outcome) =>
      outcome.result === 'delivered' ? {result: 'delivered'} : {result: 'error', error: outcome.error.errorClass, ...(outcome.status === undefined ? {} : {status: outcome.status})},
    )
    const errors = run.outcomes.flatMap((outcome) => (outcome.result === 'error' ? [outcome.error] : []))
    if ('delivered' in expect) {
      if (errors.length === 0) return {console: run.console}
      return {console: run.console, message: `expected delivery, but it failed with ${failure(errors[0])}`}
    }
    if ('error' in expect) {
      if (errors.some((error) => error.errorClass === expect.error)) return {console: run.console}
      return {console: run.console, message: errors.length > 0 ? `expected ${expect.error}, but it failed with ${failure(errors[0])}` : `expected ${expect.error}, but it was delivered`}
    }
    const output = (expect as {output: unknown}).output
    const actual = testCase.single && !Array.isArray(output) ? outcomes[0] : outcomes
    if (isDeepStrictEqual(actual, output)) return {console: run.console}
    return {console: run.console, message: 'the outcomes differ', compare: {expected: output, actual}}
  }

  const run = await runtime.runInsert(events)
  const errors = run.outcomes.flatMap((outcome) => (outcome.result === 'error' ? [outcome.error] : []))
  const drops = run.outcomes.flatMap((outcome) => (outcome.result === 'dropped' ? [outcome.reason] : []))
  const kept = run.outcomes.flatMap((outcome) => (outcome.result === 'changed' || outcome.result === 'unchanged' ? outcome.events : []))
  const got = errors.length > 0 ? `it failed with ${failure(errors[0])}` : drops.length === run.outcomes.length ? `it dropped the event (${drops[0]})` : undefined
  if ('error' in expect) {
    if (errors.some((error) => error.errorClass === expect.error)) return {console: run.console}
    return {console: run.console, message: `expected ${expect.error}, but ${got ?? 'it returned the event'}`, ...(got === undefined ? {compare: {expected: undefined, actual: single(kept, testCase)}} : {})}
  }
  if ('dropped' in expect) {
    if (errors.length === 0 && drops.length === run.outcomes.length) return {console: run.console}
    return {console: run.console, message: `expected the event to be dropped, but ${got ?? 'it went on'}`, ...(got === undefined ? {compare: {expected: undefined, actual: single(kept, testCase)}} : {})}
  }
  if (errors.length > 0) return {console: run.console, message: got}
  if (testCase.single && drops.length > 0) return {console: run.console, message: `expected an event, but it was dropped (${drops[0]})`}
  const output = (expect as {output: unknown}).output
  const actual = testCase.single && !Array.isArray(output) && kept.length === 1 ? kept[0] : kept
  if (isDeepStrictEqual(actual, output)) return {console: run.console}
  return {console: run.console, message: 'the output differs', compare: {expected: output, actual}}
}

function single(events: unknown[], testCase: TestCase): unknown {
  return testCase.single && events.length === 1 ? events[0] : events
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function junitSuites(functions: readonly FunctionTestResult[]): JunitSuite[] {
  return functions.map((fn) => {
    const suite: JunitSuite = {name: fn.name, ...(fn.testFile === undefined ? {} : {file: fn.testFile}), cases: []}
    if (fn.status === 'no tests') suite.cases.push({name: '(no tests)', time: 0, skipped: `no ${path.basename(testFileOf(fn.file))}`})
    else if (fn.problems.length > 0) suite.cases.push({name: path.basename(fn.testFile!), time: 0, error: {message: `the test file has ${count(fn.problems.length, 'problem')}`, type: 'InvalidTestFile', details: fn.problems.join('\n')}})
    else if (fn.loadError !== undefined) suite.cases.push({name: '(load)', time: 0, error: {message: fn.loadError, type: 'LoadError'}})
    for (const c of fn.cases) {
      suite.cases.push({
        name: c.name,
        time: c.ms / 1000,
        ...(c.passed
          ? {}
          : {
              failure: {
                message: c.message ?? 'failed',
                type: 'AssertionError',
                ...(c.expected !== undefined || c.actual !== undefined ? {details: `expected:\n${pretty(c.expected)}\nactual:\n${pretty(c.actual)}`} : {}),
              },
            }),
      })
    }
    return suite
  })
}

function pretty(value: unknown): string {
  return value === undefined ? '(nothing)' : JSON.stringify(value, null, 2)
}
