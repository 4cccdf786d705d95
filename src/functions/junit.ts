/**
 * JUnit XML, the report CI systems read (GitHub Actions reporters, GitLab, Jenkins): one
 * <testsuite> per function, one <testcase> per case. Names, messages and diffs are data from user
 * files and function output: escaped, with characters XML 1.0 cannot hold made visible.
 */

export interface JunitCase {
  name: string
  /** Seconds. */
  time: number
  /** The case ran and its result differs from what it expects. */
  failure?: {message: string; type: string; details?: string}
  /** More failures of the same case, each its own <failure> element (`cdp test`: one per violation). */
  failures?: {message: string; type: string; details?: string}[]
  /** The case could not run: the function does not load, the test file is broken. */
  error?: {message: string; type: string; details?: string}
  skipped?: string
  /** Text for the case's <system-out>: what it found that fails nothing. */
  output?: string
}

export interface JunitSuite {
  name: string
  /** The test file, shown as the suite's file attribute. */
  file?: string
  cases: JunitCase[]
}

// Characters XML 1.0 does not allow at all, not even as references: C0 controls but tab, LF, CR;
// lone surrogates; U+FFFE and U+FFFF.
const notXmlChar = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function visible(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** Text for an attribute value or element content: markup characters escaped, forbidden characters made visible. */
export function escapeXml(text: string): string {
  return text
    .replace(notXmlChar, visible)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // Attribute values are normalised by parsers (a raw newline becomes a space): keep them.
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;')
}

function attribute(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;')
}

function seconds(time: number): string {
  return (Math.round(time * 1000) / 1000).toFixed(3)
}

function problem(tag: 'failure' | 'error', detail: {message: string; type: string; details?: string}): string {
  const open = `<${tag} message="${attribute(detail.message)}" type="${attribute(detail.type)}"`
  return detail.details === undefined || detail.details === '' ? `${open}/>` : `${open}>${escapeXml(detail.details)}</${tag}>`
}

/** The report as an XML document. */
export function junitXml(suites: readonly JunitSuite[], options: {name?: string} = {}): string {
  const failed = (c: JunitCase) => c.failure !== undefined || (c.failures?.length ?? 0) > 0
  const count = (suite: JunitSuite, what: 'failure' | 'error' | 'skipped') => suite.cases.filter((c) => (what === 'failure' ? failed(c) : c[what] !== undefined)).length
  const sum = (f: (suite: JunitSuite) => number) => suites.reduce((total, suite) => total + f(suite), 0)
  const time = (suite: JunitSuite) => suite.cases.reduce((total, c) => total + c.time, 0)
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>']
  lines.push(
    `<testsuites name="${attribute(options.name ?? 'cdp fn test')}" tests="${sum((s) => s.cases.length)}" failures="${sum((s) => count(s, 'failure'))}" errors="${sum((s) => count(s, 'error'))}" skipped="${sum((s) => count(s, 'skipped'))}" time="${seconds(sum(time))}">`,
  )
  for (const suite of suites) {
    const file = suite.file === undefined ? '' : ` file="${attribute(suite.file)}"`
    lines.push(
      `  <testsuite name="${attribute(suite.name)}" tests="${suite.cases.length}" failures="${count(suite, 'failure')}" errors="${count(suite, 'error')}" skipped="${count(suite, 'skipped')}" time="${seconds(time(suite))}"${file}>`,
    )
    for (const testCase of suite.cases) {
      const open = `    <testcase classname="${attribute(suite.name)}" name="${attribute(testCase.name)}" time="${seconds(testCase.time)}"`
      const inner: string[] = []
      if (testCase.failure) inner.push(problem('failure', testCase.failure))
      for (const failure of testCase.failures ?? []) inner.push(problem('failure', failure))
      if (testCase.error) inner.push(problem('error', testCase.error))
      if (testCase.skipped !== undefined) inner.push(`<skipped message="${attribute(testCase.skipped)}"/>`)
      if (testCase.output !== undefined && testCase.output !== '') inner.push(`<system-out>${escapeXml(testCase.output)}</system-out>`)
      lines.push(inner.length === 0 ? `${open}/>` : `${open}>\n${inner.map((line) => `      ${line}`).join('\n')}\n    </testcase>`)
    }
    lines.push('  </testsuite>')
  }
  lines.push('</testsuites>')
  return lines.join('\n') + '\n'
}
