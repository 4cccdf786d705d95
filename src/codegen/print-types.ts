import type {Declaration, Member, TypeNode} from './type-model.js'

/**
 * Prints the type model as a person would write it: two-space indentation, one member a line,
 * members in the plan's order, no semicolons (the style of this repository and of most
 * formatters' defaults). Written here rather than formatted afterwards: the TypeScript printer
 * costs a second to load and print a 300-event client, and indents by four.
 */

const indentUnit = '  '

/** Text that may stand inside a block comment (descriptions and literal types in JSDoc). */
export function commentSafe(text: string): string {
  return text.replace(/\*\//g, '*\\/')
}

/**
 * A property name as TypeScript writes it. A quoted one is made comment-safe too (commentSafe), as
 * a JSDoc typedef holds it inside a comment: the escaped slash names the same property and cannot
 * end the comment, where the plain one let the rest of the name run as code in the JS client.
 */
function memberName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : commentSafe(JSON.stringify(name))
}

/** One-line descriptions as `/** … *\/`, longer ones as a block, each line prefixed. */
export function docComment(text: string | undefined, indent: string): string[] {
  if (!text) return []
  const lines = commentSafe(text).split('\n')
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`]
  return [`${indent}/**`, ...lines.map((line) => `${indent} *${line ? ` ${line}` : ''}`), `${indent} */`]
}

interface PrintOptions {
  /** Member descriptions as comments (TypeScript); a JSDoc type expression cannot hold comments. */
  memberDocs: boolean
}

function needsParens(type: TypeNode, inside: 'array' | 'union' | 'intersection'): boolean {
  if (type.kind === 'union') return true
  if (type.kind === 'intersection') return inside !== 'intersection'
  return false
}

function printMember(member: Member, indent: string, options: PrintOptions): string[] {
  const docs = options.memberDocs ? docComment(member.description, indent) : []
  return [...docs, `${indent}${memberName(member.name)}${member.optional ? '?' : ''}: ${printType(member.type, indent, options)}`]
}

/** The type's text; lines after the first start at `indent` (the column of the line it starts on). */
export function printType(type: TypeNode, indent: string, options: PrintOptions): string {
  switch (type.kind) {
    case 'keyword':
      return type.name
    case 'literal':
      return commentSafe(type.text)
    case 'ref':
      return type.name
    case 'array': {
      const items = printType(type.items, indent, options)
      return needsParens(type.items, 'array') ? `(${items})[]` : `${items}[]`
    }
    case 'tuple': {
      const items = type.items.map((item) => printType(item, indent, options))
      if (type.rest) {
        const rest = printType(type.rest, indent, options)
        items.push(`...${needsParens(type.rest, 'array') ? `(${rest})` : rest}[]`)
      }
      return `[${items.join(', ')}]`
    }
    case 'object': {
      const inner = indent + indentUnit
      const lines = type.members.flatMap((member) => printMember(member, inner, options))
      if (type.index) lines.push(`${inner}[k: string]: ${printType(type.index, inner, options)}`)
      if (lines.length === 0) return '{}'
      if (type.members.length === 0) return `{${lines[0].trim()}}`
      return `{\n${lines.join('\n')}\n${indent}}`
    }
    case 'union':
    case 'intersection': {
      const separator = type.kind === 'union' ? ' | ' : ' & '
      return type.types
        .map((part) => {
          const text = printType(part, indent, options)
          return needsParens(part, type.kind) && part.kind !== type.kind ? `(${text})` : text
        })
        .join(separator)
    }
  }
}

/** TypeScript: `export interface` for an object type, `export type` for any other. */
export function printDeclaration(declaration: Declaration): string {
  const options = {memberDocs: true}
  const docs = docComment(declaration.description, '')
  const {type} = declaration
  const body = type.kind === 'object' && type.members.length > 0 ? `export interface ${declaration.name} ${printType(type, '', options)}` : `export type ${declaration.name} = ${printType(type, '', options)}`
  return [...docs, body].join('\n')
}

/**
 * JSDoc: a typedef holding the same type expression as the TypeScript declaration, so that
 * // @ts-check reports the same errors; member descriptions are listed in its text.
 */
export function printTypedef(declaration: Declaration): string {
  const {type} = declaration
  const text: string[] = declaration.description ? commentSafe(declaration.description).split('\n') : []
  const described = type.kind === 'object' ? type.members.filter((member) => member.description) : []
  if (described.length > 0) {
    if (text.length > 0) text.push('')
    for (const member of described) text.push(`- ${memberName(member.name)}: ${commentSafe(member.description as string).replace(/\n/g, ' ')}`)
  }
  if (text.length > 0) text.push('')
  const typedef = `@typedef {${printType(type, '', {memberDocs: false})}} ${declaration.name}`.split('\n')
  return ['/**', ...[...text, ...typedef].map((line) => (line === '' ? ' *' : ` * ${line}`)), ' */'].join('\n')
}
