import {printable} from '../printable.js'

// Characters JSON.stringify leaves as they are but a terminal acts on (DEL, C1 controls, line
// separators, bidi overrides). They can only occur inside JSON strings, where \uXXXX means the same.
const unsafeInJson = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** A JSON value pretty-printed for a terminal: still valid JSON, with nothing a terminal would act on. */
export function terminalJson(value: unknown): string {
  if (value === undefined) return '(nothing)'
  return JSON.stringify(value, null, 2).replace(unsafeInJson, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** One line of data for a terminal. */
export function line(text: string): string {
  return printable(text)
}

/**
 * actual with its object keys in the order expected has them (keys expected lacks last), so that a
 * line diff of the two shows what differs, not how the keys happen to be ordered.
 */
export function alignKeys(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(actual)) return actual.map((item, index) => alignKeys(item, Array.isArray(expected) ? expected[index] : undefined))
  if (actual === null || typeof actual !== 'object') return actual
  const source = actual as Record<string, unknown>
  const model = expected !== null && typeof expected === 'object' && !Array.isArray(expected) ? (expected as Record<string, unknown>) : {}
  const keys = [...Object.keys(model).filter((key) => Object.hasOwn(source, key)), ...Object.keys(source).filter((key) => !Object.hasOwn(model, key))]
  const aligned: Record<string, unknown> = {}
  for (const key of keys) {
    const value = alignKeys(source[key], Object.hasOwn(model, key) ? model[key] : undefined)
    if (key === '__proto__') Object.defineProperty(aligned, key, {value, enumerable: true, writable: true, configurable: true})
    else aligned[key] = value
  }
  return aligned
}

export type DiffLine = {op: ' ' | '-' | '+'; text: string}

/** A line diff (longest common subsequence) of two texts; past a size where that costs too much, the whole of each. */
export function diffLines(expected: string, actual: string): DiffLine[] {
  const a = expected.split('\n')
  const b = actual.split('\n')
  if (a.length * b.length > 4_000_000) return [...a.map((text) => ({op: '-' as const, text})), ...b.map((text) => ({op: '+' as const, text}))]
  const n = a.length
  const m = b.length
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lengths = Array.from({length: n + 1}, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1])
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({op: ' ', text: a[i]})
      i++
      j++
    } else if (lengths[i + 1][j] >= lengths[i][j + 1]) out.push({op: '-', text: a[i++]})
    else out.push({op: '+', text: b[j++]})
  }
  while (i < n) out.push({op: '-', text: a[i++]})
  while (j < m) out.push({op: '+', text: b[j++]})
  return out
}

/** Only the changed lines and `context` lines around each, with "…" where lines are left out. */
export function withContext(lines: readonly DiffLine[], context = 3): (DiffLine | 'gap')[] {
  const keep = new Array<boolean>(lines.length).fill(false)
  lines.forEach((l, index) => {
    if (l.op === ' ') return
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) keep[k] = true
  })
  const out: (DiffLine | 'gap')[] = []
  lines.forEach((l, index) => {
    if (keep[index]) out.push(l)
    else if (out.at(-1) !== 'gap') out.push('gap')
  })
  return out
}
