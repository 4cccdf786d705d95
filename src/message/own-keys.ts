/**
 * Copying parsed JSON without letting its keys reach the prototype. JSON.parse makes a
 * `"__proto__"` key an ordinary own property, but assigning it (`copy[key] = value`,
 * Object.assign) calls the prototype setter instead: the copy loses the key and inherits the
 * value's fields, which then read as the message's own but are never stored. `constructor` and
 * `prototype` are safe to assign but read through to Object when absent, so walks over data must
 * follow own properties only (`ownValue`).
 */

/** Whether assigning this object's keys one by one would set a prototype. One own-property check: cheap enough for every message. */
export function hasProtoKey(object: object): boolean {
  return Object.hasOwn(object, '__proto__')
}

/** Sets a key as an own property, whatever its name. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, {value, enumerable: true, writable: true, configurable: true})
  else target[key] = value
}

/**
 * Object.assign({}, ...sources) that keeps a `__proto__` key as an own property. Object.assign is
 * much the faster (and objects it builds stay fast to add fields to), so callers take this path
 * only when hasProtoKey says a source needs it.
 */
export function assignOwn(...sources: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const target: Record<string, unknown> = {}
  for (const source of sources) {
    if (source === undefined) continue
    for (const key of Object.keys(source)) setOwn(target, key, source[key])
  }
  return target
}

/** The value of an own property, or undefined: never one inherited from Object.prototype (`constructor`, `__proto__`, `toString`). */
export function ownValue(object: unknown, key: string | number): unknown {
  if (object === null || typeof object !== 'object') return undefined
  return Object.hasOwn(object, key) ? (object as Record<string | number, unknown>)[key] : undefined
}
