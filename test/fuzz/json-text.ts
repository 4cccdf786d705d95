/**
 * JSON text with pieces JSON.stringify cannot make: number literals past a double (1e400),
 * duplicate keys, `__proto__` as an own key (assigning it in JavaScript sets the prototype
 * instead), and nesting thousands of levels deep. Put `raw(...)` where a value goes and
 * `key(...)` where a key goes, then `stringify` swaps the placeholders for the text.
 */
export class JsonText {
  private readonly pieces: string[] = []

  /** A placeholder value that becomes `text` verbatim. */
  raw(text: string): string {
    this.pieces.push(text)
    return `@@R${this.pieces.length - 1}@@`
  }

  /** A placeholder key that becomes the key `name`, even `__proto__` or one already present. */
  key(name: string): string {
    this.pieces.push(JSON.stringify(name))
    return `@@K${this.pieces.length - 1}@@`
  }

  stringify(value: unknown): string {
    const text = JSON.stringify(value)
    if (this.pieces.length === 0) return text
    return text.replace(/"@@[RK](\d+)@@"/g, (_, n: string) => this.pieces[Number(n)])
  }
}

/** `depth` levels of objects or arrays as text, with `leaf` at the bottom. */
export function nestedText(depth: number, shape: 'object' | 'array', leaf = '1'): string {
  return shape === 'object' ? '{"d":'.repeat(depth) + leaf + '}'.repeat(depth) : '['.repeat(depth) + leaf + ']'.repeat(depth)
}

/** The nesting depth of a parsed JSON value as the daemon counts it: a bare object is 1. Iterative: values may be thousands deep. */
export function depthOf(value: unknown): number {
  let max = 0
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number]
    if (current === null || typeof current !== 'object') continue
    if (depth > max) max = depth
    for (const child of Object.values(current)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return max
}
