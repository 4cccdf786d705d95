import {UserError} from '../errors.js'

function words(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
}

/** "Order Completed" → "OrderCompleted" */
export function pascalCase(name: string): string {
  const joined = words(name)
    .map((word) => word[0].toUpperCase() + word.slice(1).toLowerCase())
    .join('')
  return /^[0-9]/.test(joined) ? `Event${joined}` : joined || 'Event'
}

/** "Order Completed" → "orderCompleted" */
export function camelCase(name: string): string {
  const pascal = pascalCase(name)
  return pascal[0].toLowerCase() + pascal.slice(1)
}

const reserved = new Set(['identify', 'group', 'track', 'page', 'screen', 'alias', 'constructor', 'prototype', 'toString'])

/** The function name of each event; two events that would share one, or a reserved one, are refused. */
export function methodNames(events: readonly string[]): Map<string, string> {
  const byMethod = new Map<string, string>()
  for (const event of events) {
    const method = camelCase(event)
    if (reserved.has(method)) {
      throw new UserError(`The event "${event}" would generate the function ${method}(), which the client uses for another call.`, {hint: 'Rename the event in the plan.', code: 'codegen_name'})
    }
    const earlier = byMethod.get(method)
    if (earlier !== undefined) {
      throw new UserError(`The events "${earlier}" and "${event}" would both generate the function ${method}().`, {hint: 'Rename one of them in the plan.', code: 'codegen_name'})
    }
    byMethod.set(method, event)
  }
  return new Map([...byMethod].map(([method, event]) => [event, method]))
}
