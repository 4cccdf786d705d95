/**
 * A function file made ready for the isolate: `.ts` transpiled (no type check), the name stacks
 * show ("functions/NAME.js"), and positions in the code the isolate runs mapped back to the file.
 */
import path from 'node:path'
import {SourceMap} from 'node:module'
import {FunctionLoadError} from '../types.js'

export interface PreparedSource {
  /** What the isolate compiles. */
  code: string
  /** The file's text as written. */
  original: string
  /** An ES module (import/export syntax) rather than a script; decided when first compiled. */
  module: boolean
  /** "functions/NAME.js": the file name in stacks, locations and messages. */
  displayName: string
  /** A position in `code` (1-based) → the same place in the file. */
  mapPosition(line: number, column: number): {line: number; column: number}
  /** An error from compiling or running the top level, as a FunctionLoadError with file:line:column. */
  loadError(error: unknown, memoryMb: number | undefined, timeoutMs: number): FunctionLoadError
  /** "functions/NAME.js:LINE:COL" of the first frame of the user's file in a stack, mapped. */
  locate(stack: string): string | undefined
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The file as people see it in errors: functions/NAME.js for a workspace's function (wherever the
 * daemon was started), else relative to the current folder when inside it, else whole.
 */
function shownPath(file: string): string {
  if (path.basename(path.dirname(file)) === 'functions') return `functions/${path.basename(file)}`
  const relative = path.relative(process.cwd(), file)
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file
}

export async function prepareSource(file: string, code: string): Promise<PreparedSource> {
  const displayName = shownPath(file)
  let compiled = code
  let map: SourceMap | undefined
  if (/\.[mc]?ts$/.test(file)) {
    const result = await transpile(code, displayName)
    compiled = result.code
    map = result.map
  }
  const position = new RegExp(`${escapeRegExp(displayName)}:(\\d+):(\\d+)`)
  const mapPosition = (line: number, column: number) => {
    if (map === undefined) return {line, column}
    const entry = map.findEntry(line - 1, column - 1) as {originalLine?: number; originalColumn?: number}
    if (entry.originalLine === undefined || entry.originalColumn === undefined) return {line, column}
    return {line: entry.originalLine + 1, column: entry.originalColumn + 1}
  }
  const source: PreparedSource = {
    code: compiled,
    original: code,
    module: false,
    displayName,
    mapPosition,
    locate(stack) {
      const match = position.exec(stack)
      if (!match) return undefined
      const at = mapPosition(Number(match[1]), Number(match[2]))
      return `${displayName}:${at.line}:${at.column}`
    },
    loadError(error, memoryMb, timeoutMs) {
      if (error instanceof FunctionLoadError) return error
      const message = error instanceof Error ? error.message : String(error)
      const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : ''
      if (memoryMb !== undefined || /memory limit/i.test(message)) {
        return new FunctionLoadError(`its top-level code exceeded the function's memory limit of ${memoryMb ?? '?'} MB (memoryMb)`, displayName)
      }
      if (/timed out/i.test(message)) {
        return new FunctionLoadError(`its top-level code did not finish within ${timeoutMs} ms (the function's time limit, timeoutMs)`, displayName)
      }
      // Syntax errors: "Unexpected token [functions/x.js:2:1]"; runtime errors: a stack frame.
      const syntax = /^(.*) \[(?:.*):(\d+):(\d+)\]$/.exec(message)
      if (syntax) {
        const at = mapPosition(Number(syntax[2]), Number(syntax[3]))
        const kind = error instanceof Error && error.name ? error.name : 'SyntaxError'
        return new FunctionLoadError(`${kind}: ${syntax[1]}`, displayName, at.line, at.column)
      }
      const frame = position.exec(stack)
      const name = error instanceof Error && error.name ? error.name : 'Error'
      const text = `its top-level code threw ${name}: ${message}`
      if (!frame) return new FunctionLoadError(text, displayName)
      const at = mapPosition(Number(frame[1]), Number(frame[2]))
      return new FunctionLoadError(text, displayName, at.line, at.column)
    },
  }
  return source
}

type TypeScript = typeof import('typescript')
let typescript: TypeScript | undefined

async function transpile(code: string, displayName: string): Promise<{code: string; map: SourceMap}> {
  if (typescript === undefined) {
    const imported = (await import('typescript')) as TypeScript & {default?: TypeScript}
    typescript = imported.default ?? imported
  }
  const ts = typescript
  const result = ts.transpileModule(code, {
    fileName: displayName,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: true,
      inlineSources: false,
      removeComments: false,
      importHelpers: false,
      noEmitHelpers: true,
      verbatimModuleSyntax: false,
      isolatedModules: true,
    },
  })
  const error = result.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error)
  if (error) {
    const text = ts.flattenDiagnosticMessageText(error.messageText, '\n')
    if (error.file && error.start !== undefined) {
      const at = error.file.getLineAndCharacterOfPosition(error.start)
      throw new FunctionLoadError(`TypeScript: ${text}`, displayName, at.line + 1, at.character + 1)
    }
    throw new FunctionLoadError(`TypeScript: ${text}`, displayName)
  }
  let output = result.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n')
  // TypeScript adds "use strict" to every file; a script written without it stays sloppy, as it
  // would run as .js. The line stays (empty) so the source map still lines up.
  if (output.startsWith('"use strict";\n') && !/^\s*(['"])use strict\1/.test(code)) output = output.slice('"use strict";'.length)
  return {code: output, map: new SourceMap(JSON.parse(result.sourceMapText ?? '{}'))}
}
