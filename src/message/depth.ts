/**
 * Whether a parsed JSON value nests objects and arrays deeper than `max`. Iterative, so a hostile
 * payload cannot overflow the stack here, and it stops as soon as the limit is passed.
 */
export function exceedsDepth(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false
  const stack: unknown[] = [value]
  const depths: number[] = [1]
  while (stack.length > 0) {
    const current = stack.pop() as object
    const depth = depths.pop() as number
    if (depth > max) return true
    if (Array.isArray(current)) {
      for (const child of current) {
        if (child !== null && typeof child === 'object') {
          stack.push(child)
          depths.push(depth + 1)
        }
      }
    } else {
      for (const key in current) {
        const child = (current as Record<string, unknown>)[key]
        if (child !== null && typeof child === 'object') {
          stack.push(child)
          depths.push(depth + 1)
        }
      }
    }
  }
  return false
}
