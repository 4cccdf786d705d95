/** Naming conventions a workspace can require in cdp.json ("conventions"). */
export const casings = ['Object Action', 'Title Case', 'snake_case', 'camelCase', 'PascalCase', 'kebab-case'] as const
export type Casing = (typeof casings)[number]

const patterns: Record<Casing, RegExp> = {
  // Segment's recommended event naming: a noun then a past-tense verb, each capitalised.
  'Object Action': /^[A-Z][A-Za-z0-9]*( [A-Z][A-Za-z0-9]*)+$/,
  'Title Case': /^[A-Z][A-Za-z0-9]*( [A-Z][A-Za-z0-9]*)*$/,
  snake_case: /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/,
  camelCase: /^[a-z][a-zA-Z0-9]*$/,
  PascalCase: /^[A-Z][a-zA-Z0-9]*$/,
  'kebab-case': /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
}

export function followsCasing(name: string, casing: Casing): boolean {
  return patterns[casing].test(name)
}
