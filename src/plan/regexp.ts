import {Ajv} from 'ajv'
import {RE2JS} from 're2js'

/**
 * How plan patterns are matched: the one place that knows it. JSON Schema patterns are ECMAScript
 * regular expressions, and V8's backtracking engine takes exponential time on some of them:
 * "^(a+)+$" against 34 a's and a "!" took 76 s and held the daemon's only thread. Plan patterns
 * are translated to RE2 syntax with the same meaning (ECMAScript's \s, "." and [^] differ from
 * RE2's and are spelled out) and matched by re2js, RE2 ported to plain JavaScript, in time linear
 * in the input. re2js rather than the native re2 binding: no install script (re2 1.27 compiles
 * abseil and RE2 for minutes at npm ci here and asks for Node 22), and the same engine runs in a
 * generated browser client. What no linear-time engine has (lookaround, backreferences) is
 * refused with a reason and a way out, never approximated.
 */

/** Why a pattern cannot be used, and what to do instead. */
export interface UnusablePattern {
  pattern: string
  /** What follows the pattern in a sentence: "is not a valid …", "cannot be matched in linear time: …". */
  reason: string
  hint: string
}

export class UnusablePatternError extends Error {
  constructor(readonly unusable: UnusablePattern) {
    super(unusablePatternMessage(unusable))
    this.name = 'UnusablePatternError'
  }
}

/** The sentence a plan report shows for a refused pattern. */
export function unusablePatternMessage(unusable: UnusablePattern): string {
  return `pattern ${JSON.stringify(unusable.pattern)} ${unusable.reason}. ${unusable.hint}`
}

/**
 * The largest compiled pattern accepted, in RE2 program instructions. Matching is linear in the
 * input but its factor grows with the program: measured on a 32 KB value (Segment's message
 * limit), programs of up to about 1,000 instructions took at most ~20 ms, programs of 2,000
 * (such as "[^x]{1000}[^x]{1000}") up to 700 ms, once RE2's DFA cache overflows.
 */
export const maxProgramSize = 1000

/** RE2's own limit on a counted repeat such as {1,1000}. */
const maxRepeat = 1000

const rewriteHint = 'cdp dev checks every event against the plan on its one thread, so plan patterns are matched by a linear-time engine (RE2).'
const hints = {
  lookaround: `${rewriteHint} Write it without lookaround: each condition as its own pattern under "allOf", a forbidden one under "not".`,
  backreference: `${rewriteHint} No linear-time engine can match a backreference: write the pattern without it, accepting a little more.`,
  modifier: `${rewriteHint} Write it without the inline modifier.`,
  size: `${rewriteHint} Counted repeats multiply its size: use minLength and maxLength for lengths, or smaller counts.`,
  syntax: `${rewriteHint} Rewrite it in the syntax both ECMAScript and RE2 accept.`,
  invalid: 'JSON Schema patterns are ECMAScript regular expressions (with the "u" flag): fix its syntax.',
}

const linear = 'cannot be matched in linear time: '

const refuse = (pattern: string, reason: string, hint: string): never => {
  throw new UnusablePatternError({pattern, reason, hint})
}

const hex = (code: number) => `\\x{${code.toString(16)}}`

// ECMAScript's \s: WhiteSpace and LineTerminator. RE2's \s is only [\t\n\f\r ].
const whitespaceRanges: [number, number][] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]
const rangeText = (ranges: [number, number][]) => ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')
const complement = (ranges: [number, number][]): [number, number][] => {
  const out: [number, number][] = []
  let next = 0
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1])
    next = hi + 1
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff])
  return out
}
const whitespace = rangeText(whitespaceRanges)
const notWhitespace = rangeText(complement(whitespaceRanges))
// ECMAScript's "." (without the s flag) stops at every line terminator; RE2's only at \n.
const anyButLineTerminator = `[^${rangeText([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]])}]`
const everything = rangeText([[0, 0x10ffff]])

// General_Category long names → the short names RE2 knows (ECMAScript accepts both).
const categoryNames: Record<string, string> = {
  Letter: 'L', Cased_Letter: 'LC', Uppercase_Letter: 'Lu', Lowercase_Letter: 'Ll', Titlecase_Letter: 'Lt', Modifier_Letter: 'Lm', Other_Letter: 'Lo',
  Mark: 'M', Combining_Mark: 'M', Nonspacing_Mark: 'Mn', Spacing_Mark: 'Mc', Enclosing_Mark: 'Me',
  Number: 'N', Decimal_Number: 'Nd', digit: 'Nd', Letter_Number: 'Nl', Other_Number: 'No',
  Punctuation: 'P', punct: 'P', Connector_Punctuation: 'Pc', Dash_Punctuation: 'Pd', Open_Punctuation: 'Ps', Close_Punctuation: 'Pe', Initial_Punctuation: 'Pi', Final_Punctuation: 'Pf', Other_Punctuation: 'Po',
  Symbol: 'S', Math_Symbol: 'Sm', Currency_Symbol: 'Sc', Modifier_Symbol: 'Sk', Other_Symbol: 'So',
  Separator: 'Z', Space_Separator: 'Zs', Line_Separator: 'Zl', Paragraph_Separator: 'Zp',
  Other: 'C', Control: 'Cc', cntrl: 'Cc', Format: 'Cf', Surrogate: 'Cs', Private_Use: 'Co', Unassigned: 'Cn',
}

/** Characters with a meaning of their own in RE2 outside and inside a class; escaped when literal. */
const specialOutside = new Set('\\.+*?()|[]{}^$')
const specialInside = new Set('\\[]^-')

function literal(code: number, inClass: boolean): string {
  if (code < 0x20 || code > 0x7e) return hex(code)
  const char = String.fromCharCode(code)
  return (inClass ? specialInside : specialOutside).has(char) ? `\\${char}` : char
}

/** Translates one ECMAScript pattern ("u" flag) to RE2 syntax with the same meaning, or throws UnusablePatternError. */
export function toRe2Syntax(pattern: string): string {
  try {
    // V8 parses and compiles it without matching: safe, and it settles what valid ECMAScript is.
    new RegExp(pattern, 'u')
  } catch (error) {
    refuse(pattern, `is not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')})`, hints.invalid)
  }
  const chars = Array.from(pattern) // code points: with "u", an astral character is one
  let at = 0
  let out = ''
  const peek = (offset = 0) => chars[at + offset]

  const hexDigits = (count: number): number => {
    const digits = chars.slice(at, at + count).join('')
    at += count
    return Number.parseInt(digits, 16)
  }

  /** After a backslash: one escape as RE2 text, or a single code point for class ranges. */
  const escape = (inClass: boolean): {text: string; code?: number} => {
    const c = chars[at++]
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return {text: `\\${c}`}
      case 's':
        return {text: inClass ? whitespace : `[${whitespace}]`}
      case 'S':
        return {text: inClass ? notWhitespace : `[${notWhitespace}]`}
      case 'b':
        return inClass ? {text: hex(8), code: 8} : {text: '\\b'}
      case 'B':
        return {text: '\\B'}
      case 't':
        return {text: hex(9), code: 9}
      case 'n':
        return {text: hex(10), code: 10}
      case 'v':
        return {text: hex(11), code: 11}
      case 'f':
        return {text: hex(12), code: 12}
      case 'r':
        return {text: hex(13), code: 13}
      case '0':
        return {text: hex(0), code: 0}
      case 'c': {
        const code = (chars[at++].codePointAt(0) as number) % 32
        return {text: hex(code), code}
      }
      case 'x': {
        const code = hexDigits(2)
        return {text: hex(code), code}
      }
      case 'u': {
        let code: number
        if (peek() === '{') {
          const close = chars.indexOf('}', at)
          code = Number.parseInt(chars.slice(at + 1, close).join(''), 16)
          at = close + 1
        } else {
          code = hexDigits(4)
          // A surrogate pair written as two escapes is one code point under "u".
          if (code >= 0xd800 && code <= 0xdbff && peek() === '\\' && peek(1) === 'u' && /^[dD][c-fC-F][0-9a-fA-F]{2}$/.test(chars.slice(at + 2, at + 6).join(''))) {
            at += 2
            code = 0x10000 + ((code - 0xd800) << 10) + (hexDigits(4) - 0xdc00)
          }
        }
        return {text: hex(code), code}
      }
      case 'p':
      case 'P': {
        const close = chars.indexOf('}', at)
        const body = chars.slice(at + 1, close).join('')
        at = close + 1
        if (body === 'ASCII') {
          // RE2 has no \p{ASCII}: the same set as a range.
          const ranges = rangeText(c === 'p' ? [[0, 0x7f]] : [[0x80, 0x10ffff]])
          return {text: inClass ? ranges : `[${ranges}]`}
        }
        return {text: `\\${c}{${unicodeProperty(pattern, body)}}`}
      }
      case 'k':
        return refuse(pattern, `${linear}it has the backreference \\k<…>`, hints.backreference)
      default: {
        if (c >= '1' && c <= '9') refuse(pattern, `${linear}it has the backreference \\${c}`, hints.backreference)
        // Under "u" only syntax characters, "/" and (in a class) "-" may be escaped: a literal.
        const code = c.codePointAt(0) as number
        return {text: literal(code, inClass), code}
      }
    }
  }

  const characterClass = (): string => {
    let negated = false
    if (peek() === '^') {
      negated = true
      at++
    }
    let body = ''
    let empty = true
    while (peek() !== ']') {
      const atom = classAtom()
      empty = false
      if (peek() === '-' && peek(1) !== ']' && peek(1) !== undefined) {
        at++
        const high = classAtom()
        // ECMAScript (with "u") allows a range only between single characters, in order.
        body += `${literal(atom.code as number, true)}-${literal(high.code as number, true)}`
      } else body += atom.text
    }
    at++
    // ECMAScript's [] matches nothing and [^] any character; in RE2 both would be syntax errors.
    if (empty) return negated ? `[${everything}]` : `[^${everything}]`
    return `[${negated ? '^' : ''}${body}]`
  }

  const classAtom = (): {text: string; code?: number} => {
    const c = chars[at++]
    if (c === '\\') return escape(true)
    const code = c.codePointAt(0) as number
    return {text: literal(code, true), code}
  }

  const group = (): string => {
    if (peek() !== '?') return '('
    const next = peek(1)
    if (next === ':') {
      at += 2
      return '(?:'
    }
    if (next === '=' || next === '!') refuse(pattern, `${linear}it has the lookahead (?${next}…)`, hints.lookaround)
    if (next === '<' && (peek(2) === '=' || peek(2) === '!')) refuse(pattern, `${linear}it has the lookbehind (?<${peek(2)}…)`, hints.lookaround)
    if (next === '<') {
      // A named group: names do not matter to a yes/no match, and RE2 allows fewer of them.
      at = chars.indexOf('>', at) + 1
      return '(?:'
    }
    return refuse(pattern, `${linear}it has the inline modifier group (?${next}…)`, hints.modifier)
  }

  while (at < chars.length) {
    const c = chars[at++]
    if (c === '\\') out += escape(false).text
    else if (c === '[') out += characterClass()
    else if (c === '(') out += group()
    else if (c === '.') out += anyButLineTerminator
    else if ('^$|)*+?'.includes(c)) out += c
    else if (c === '{') {
      // Under "u" a "{" always opens a quantifier.
      const close = chars.indexOf('}', at)
      const counts = chars.slice(at, close).join('')
      at = close + 1
      const largest = Math.max(...counts.split(',').filter(Boolean).map(Number))
      if (largest > maxRepeat) refuse(pattern, `${linear}it repeats {${counts}} times, more than RE2's ${maxRepeat}`, hints.size)
      out += `{${counts}}`
    } else out += literal(c.codePointAt(0) as number, false)
  }
  return out
}

function unicodeProperty(pattern: string, body: string): string {
  const [name, value] = body.includes('=') ? body.split('=') : [undefined, body]
  const category = Object.hasOwn(categoryNames, value) ? categoryNames[value] : value
  if (name === undefined || name === 'General_Category' || name === 'gc') return category
  if (name === 'Script' || name === 'sc') return value
  return refuse(pattern, `${linear}RE2 has no Unicode property ${name}`, hints.syntax)
}

interface Compiled {
  re: RE2JS
}
const compiled = new Map<string, Compiled | UnusablePattern>()

function compile(pattern: string): Compiled | UnusablePattern {
  let entry = compiled.get(pattern)
  if (entry) return entry
  try {
    const re = RE2JS.compile(toRe2Syntax(pattern))
    const size = re.programSize()
    entry = size > maxProgramSize ? {pattern, reason: `${linear}it compiles to ${size} instructions, more than ${maxProgramSize}`, hint: hints.size} : {re}
  } catch (error) {
    const message = (error as Error).message.replace(/^error parsing regexp: /, '')
    if (error instanceof UnusablePatternError) entry = error.unusable
    // RE2 also refuses nested counted repeats whose product passes its limit, such as (a{100}){20}.
    else if (message.startsWith('invalid repeat count')) entry = {pattern, reason: `${linear}its nested counted repeats multiply past RE2's ${maxRepeat} (${message})`, hint: hints.size}
    else entry = {pattern, reason: `${linear}RE2 refuses it (${message})`, hint: hints.syntax}
  }
  // Plans are compiled once per reload: keep the few patterns a workspace has, bounded all the same.
  if (compiled.size >= 10_000) compiled.clear()
  compiled.set(pattern, entry)
  return entry
}

/** Why the pattern cannot be used in a plan, or undefined when it can. */
export function unusablePattern(pattern: string): UnusablePattern | undefined {
  const entry = compile(pattern)
  return 're' in entry ? undefined : entry
}

/** The pattern in RE2 syntax, as it is matched; throws UnusablePatternError. */
export function re2Source(pattern: string): string {
  const entry = compile(pattern)
  if (!('re' in entry)) throw new UnusablePatternError(entry)
  return entry.re.pattern()
}

/**
 * ajv's `code.regExp` engine for plan schemas: ajv calls it for every pattern and
 * patternProperties key it compiles, and throws what it throws.
 */
export const planRegExp = Object.assign(
  (pattern: string, _flags: string) => {
    const entry = compile(pattern)
    if (!('re' in entry)) throw new UnusablePatternError(entry)
    const {re} = entry
    return {test: (text: string) => re.test(text), toString: () => `re2:${pattern}`}
  },
  {code: 'planRegExp'},
)

/**
 * Every pattern ajv compiles from these schemas (pattern, patternProperties, wherever a $ref
 * leads), with its RE2 translation, sorted: what a generated client needs to match them as cdp
 * dev does. Throws UnusablePatternError for a pattern the plan check should have refused.
 */
export function re2Translations(schemas: object[]): [string, string][] {
  const found = new Map<string, string>()
  const recording = Object.assign(
    (pattern: string) => {
      found.set(pattern, re2Source(pattern))
      return {test: () => true, toString: () => pattern}
    },
    {code: 'recording'},
  )
  const ajv = new Ajv({strict: false, validateFormats: false, logger: false, code: {regExp: recording}})
  for (const schema of schemas) ajv.compile(schema)
  return [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}
