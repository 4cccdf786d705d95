import type * as TS from 'typescript'

/**
 * Where source code sends tracking calls, found on the TypeScript syntax tree (never with regular
 * expressions: a call inside a comment or a string is no call, and a call split over lines is
 * one). Pure: a file's text and name in, call sites out. `cdp plan status` feeds it each file.
 */

export type TypeScript = typeof TS

let typescript: TypeScript | undefined

/** The TypeScript compiler, imported on first use (it is large, and most commands never need it). */
export async function loadTypeScript(): Promise<TypeScript> {
  if (typescript === undefined) {
    const imported = (await import('typescript')) as TypeScript & {default?: TypeScript}
    typescript = imported.default ?? imported
  }
  return typescript
}

export interface SourcePosition {
  /** As given to the scanner (the service passes paths relative to the workspace). */
  file: string
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
}

/** A call of a generated client's function: `tracker.orderCompleted(…)`, `orderCompleted(…)`. */
export interface ClientCall extends SourcePosition {
  kind: 'client'
  /** The function called (a name from `methods`). */
  method: string
  /** The callee as written, shortened: `tracker.orderCompleted`. */
  callee: string
}

/** A raw SDK call with a literal event name: `analytics.track('Order Completed', …)`, `client.track({event: 'Order Completed', …})`; `cond ? 'A' : 'B'` is a call site of each. */
export interface RawCall extends SourcePosition {
  kind: 'raw'
  event: string
  callee: string
}

/** A track call whose event name is not a literal (`analytics.track(name)`): reported, never guessed. */
export interface DynamicCall extends SourcePosition {
  kind: 'dynamic'
  callee: string
  /** The event argument as written, shortened. */
  argument: string
}

export type FoundCall = ClientCall | RawCall | DynamicCall

export interface ScanOptions {
  /** The generated client's function names. */
  methods: ReadonlySet<string>
  /** Whether an import specifier (`./analytics`, `../analytics/index.js`) names the generated client's module, seen from this file. */
  isClientModule?: (specifier: string) => boolean
}

/**
 * A receiver that reads as a tracking client (`tracker`, `analytics`, `typewriter`, `ampli`,
 * `this.analytics`, `segment`, `rudderanalytics`): where a file does not import the generated
 * module itself, `X.orderCompleted()` counts only on such an X, so that an event named "Search"
 * or "Click" does not turn every `api.search()` or `button.click()` into a call site.
 */
const trackerName = /track|analytic|typewriter|ampli|avo|segment|rudder|cdp/i

const extensionKinds: Record<string, keyof typeof TS.ScriptKind> = {
  '.ts': 'TS',
  '.mts': 'TS',
  '.cts': 'TS',
  '.tsx': 'TSX',
  '.js': 'JS',
  '.mjs': 'JS',
  '.cjs': 'JS',
  '.jsx': 'JSX',
}

function scriptKind(ts: TypeScript, fileName: string): TS.ScriptKind {
  const dot = fileName.lastIndexOf('.')
  const kind = extensionKinds[dot === -1 ? '' : fileName.slice(dot).toLowerCase()]
  // JS files may hold JSX (create-react-app's .js components): the JS kind parses it.
  return kind ? ts.ScriptKind[kind] : ts.ScriptKind.TS
}

function shorten(text: string, max = 60): string {
  const oneLine = text.replace(/\s+/g, ' ')
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`
}

/** Every tracking call in one file, in source order. */
export function findCallSites(ts: TypeScript, text: string, fileName: string, options: ScanOptions): FoundCall[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, scriptKind(ts, fileName))
  const found: FoundCall[] = []

  const position = (node: TS.Node): SourcePosition => {
    const {line, character} = source.getLineAndCharacterOfPosition(node.getStart(source))
    return {file: fileName, line: line + 1, column: character + 1}
  }

  // Parentheses, `as`, `satisfies` and `!` change nothing about the value.
  const unwrap = (node: TS.Expression): TS.Expression => {
    let current = node
    while (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isSatisfiesExpression(current) || ts.isNonNullExpression(current) || ts.isTypeAssertionExpression(current)) {
      current = current.expression
    }
    return current
  }

  const literalText = (node: TS.Expression): string | undefined => {
    const value = unwrap(node)
    return ts.isStringLiteral(value) || ts.isNoSubstitutionTemplateLiteral(value) ? value.text : undefined
  }

  /** The event names an argument can be when each is written out: a literal, or `cond ? 'A' : 'B'` of literals. */
  const literalNames = (node: TS.Expression): string[] | undefined => {
    const value = unwrap(node)
    if (ts.isConditionalExpression(value)) {
      const whenTrue = literalNames(value.whenTrue)
      const whenFalse = literalNames(value.whenFalse)
      return whenTrue && whenFalse ? [...whenTrue, ...whenFalse] : undefined
    }
    const literal = literalText(value)
    return literal === undefined ? undefined : [literal]
  }

  /** The name a callee is called by: `f` of `f()`, `m` of `a.b.m()` and `a['m']()`. */
  const calleeName = (callee: TS.Expression): {name: string; receiver?: TS.Expression} | undefined => {
    const target = unwrap(callee)
    if (ts.isIdentifier(target)) return {name: target.text}
    if (ts.isPropertyAccessExpression(target) && ts.isIdentifier(target.name)) return {name: target.name.text, receiver: target.expression}
    if (ts.isElementAccessExpression(target)) {
      const key = literalText(target.argumentExpression)
      if (key !== undefined) return {name: key, receiver: target.expression}
    }
    return undefined
  }

  /** The rightmost name of a receiver: `analytics` of `window.analytics`, `this.tracker`, `getTracker()`. */
  const receiverName = (receiver: TS.Expression): string => {
    const value = unwrap(receiver)
    if (ts.isIdentifier(value)) return value.text
    if (ts.isPropertyAccessExpression(value)) return value.name.text
    if (ts.isCallExpression(value)) return receiverName(value.expression)
    if (ts.isElementAccessExpression(value)) return literalText(value.argumentExpression) ?? ''
    return ''
  }

  // Does this file load the generated client? Then every call of one of its names counts.
  let importsClient = false
  const isClient = (specifier: TS.Expression | undefined) => {
    if (!options.isClientModule || specifier === undefined) return false
    const text = literalText(specifier)
    return text !== undefined && options.isClientModule(text)
  }
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && isClient(statement.moduleSpecifier)) importsClient = true
    if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference) && isClient(statement.moduleReference.expression)) importsClient = true
  }

  const visitCall = (call: TS.CallExpression) => {
    // require('./analytics') and import('./analytics') load the client too (they can appear anywhere).
    if (call.arguments.length > 0 && (call.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(call.expression) && call.expression.text === 'require')) && isClient(call.arguments[0])) {
      importsClient = true
      return
    }
    const callee = calleeName(call.expression)
    if (callee === undefined) return
    const calleeText = shorten(call.expression.getText(source))
    if (callee.name === 'track' && callee.receiver !== undefined) {
      const [first] = call.arguments
      if (first === undefined) return
      const value = unwrap(first)
      const literals = literalNames(value)
      if (literals !== undefined) {
        for (const event of new Set(literals)) found.push({kind: 'raw', event, callee: calleeText, ...position(call)})
        return
      }
      // analytics-node style: track({userId, event: 'Order Completed', properties}).
      if (ts.isObjectLiteralExpression(value)) {
        const eventProperty = value.properties.find(
          (property): property is TS.PropertyAssignment | TS.ShorthandPropertyAssignment =>
            (ts.isPropertyAssignment(property) || ts.isShorthandPropertyAssignment(property)) &&
            (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name)) &&
            property.name.text === 'event',
        )
        const eventValues = eventProperty && ts.isPropertyAssignment(eventProperty) ? literalNames(eventProperty.initializer) : undefined
        if (eventValues !== undefined) {
          for (const event of new Set(eventValues)) found.push({kind: 'raw', event, callee: calleeText, ...position(call)})
          return
        }
        const argument = eventProperty ? eventProperty.getText(source) : first.getText(source)
        found.push({kind: 'dynamic', callee: calleeText, argument: shorten(argument), ...position(call)})
        return
      }
      found.push({kind: 'dynamic', callee: calleeText, argument: shorten(first.getText(source)), ...position(call)})
      return
    }
    if (options.methods.has(callee.name)) {
      // Decided after the walk: a require() further down can still mark the file as a client's.
      pending.push({call, name: callee.name, receiver: callee.receiver, callee: calleeText})
    }
  }

  const pending: {call: TS.CallExpression; name: string; receiver?: TS.Expression; callee: string}[] = []
  const visit = (node: TS.Node) => {
    if (ts.isCallExpression(node)) visitCall(node)
    ts.forEachChild(node, visit)
  }
  visit(source)

  for (const candidate of pending) {
    const counts = importsClient || (candidate.receiver !== undefined && trackerName.test(receiverName(candidate.receiver)))
    if (counts) found.push({kind: 'client', method: candidate.name, callee: candidate.callee, ...position(candidate.call)})
  }
  return found.sort((a, b) => a.line - b.line || a.column - b.column)
}
