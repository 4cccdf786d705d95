import {describe, expect, it} from 'vitest'
import {printDeclaration, printTypedef} from '../../src/codegen/print-types.js'
import {declare, TypeNamer} from '../../src/codegen/type-model.js'

/** The TypeScript and JSDoc text of one schema's declaration, with the definitions it names. */
function print(schema: Record<string, unknown>, definitions?: Record<string, unknown>, reserved: string[] = []) {
  const namer = new TypeNamer(reserved)
  const declaration = declare(namer, 'ThingProperties', schema, definitions)
  const all = [...namer.declarations.values(), declaration]
  return {ts: all.map(printDeclaration).join('\n\n'), js: all.map(printTypedef).join('\n\n')}
}

describe('JSON Schema to printed types', () => {
  it('objects: members in the plan\'s order, optional unless required, closed without additionalProperties', () => {
    const {ts} = print({type: 'object', description: 'A thing.', properties: {b: {type: 'string', description: 'Bee'}, a: {type: 'integer'}}, required: ['a'], additionalProperties: false})
    expect(ts).toBe('/** A thing. */\nexport interface ThingProperties {\n  /** Bee */\n  b?: string\n  a: number\n}')
  })

  it('unions, intersections, tuples, nulls, literals and nested objects', () => {
    const {ts} = print({
      type: 'object',
      properties: {
        either: {anyOf: [{type: 'string'}, {type: 'number'}]},
        maybe: {type: ['string', 'null']},
        pair: {type: 'array', items: [{const: 'x'}, {type: 'boolean'}], additionalItems: false},
        some: {type: 'array', items: {enum: ['a', 'b']}, minItems: 1},
        nested: {type: 'object', properties: {deep: {type: 'object', properties: {n: {type: 'number'}}}}},
      },
    })
    expect(ts).toContain('  either?: string | number\n')
    expect(ts).toContain('  maybe?: string | null\n')
    expect(ts).toContain('  pair?: ["x", boolean]\n')
    expect(ts).toContain('  some?: ["a" | "b", ...("a" | "b")[]]\n')
    expect(ts).toContain('  nested?: {\n    deep?: {\n      n?: number\n      [k: string]: unknown\n    }\n    [k: string]: unknown\n  }\n')
  })

  it('a recursive definition refers to itself; a definition never takes a name the client uses', () => {
    const {ts} = print({type: 'object', properties: {root: {$ref: '#/definitions/call_options'}}}, {call_options: {type: 'object', properties: {children: {type: 'array', items: {$ref: '#/definitions/call_options'}}}}}, ['CallOptions'])
    expect(ts).toContain('export interface CallOptions2 {\n  children?: CallOptions2[]\n')
    expect(ts).toContain('  root?: CallOptions2\n')
  })

  it('hostile text cannot end a comment or inject code: */ in descriptions and enum values, odd property names', () => {
    const {ts, js} = print({type: 'object', description: 'ends */ here', properties: JSON.parse('{"a b": {"enum": ["*/ x"]}, "__proto__": {"type": "string", "description": "*/"}}')})
    for (const text of [ts, js]) {
      expect(text).not.toMatch(/\*\/ (here|x)/)
      expect(text).toContain('*\\/')
    }
    expect(ts).toContain('  "a b"?: "*\\/ x"\n')
    expect(ts).toContain('  /** *\\/ */\n  __proto__?: string\n')
    expect(js).toMatch(/^ \* @typedef \{\{$/m)
  })

  it('a property name with */ cannot end the JSDoc typedef that holds it (the JavaScript client would run the rest as code)', () => {
    const name = 'a*/ process.exit(7) /*b'
    const {ts, js} = print({type: 'object', properties: {[name]: {type: 'string', description: 'd'}, [`*/${name}`]: {const: {[name]: 1}}}})
    // Each comment in the JSDoc text opens once and closes once, at its end.
    for (const comment of js.split(/(?<=\*\/)\n*/).filter(Boolean)) expect(comment).toMatch(/^\/\*\*(?:(?!\*\/)[\s\S])*\*\/$/)
    expect(js).toContain('"a*\\/ process.exit(7) /*b"?: string')
    expect(js).toContain(' * - "a*\\/ process.exit(7) /*b": d')
    // The same names in TypeScript: "\/" is "/" in a string literal.
    expect(ts).toContain('  "a*\\/ process.exit(7) /*b"?: string\n')
  })

  it('a $ref that leads nowhere, or is malformed, is unknown rather than a crash', () => {
    const {ts} = print({type: 'object', properties: {gone: {$ref: '#/definitions/missing'}, bad: {$ref: '#/definitions/%E0%A4%A'}}})
    expect(ts).toContain('  gone?: unknown\n  bad?: unknown\n')
  })

  it('JSDoc: the same type expression inside @typedef, member descriptions listed in its text', () => {
    const {js} = print({type: 'object', description: 'A thing.', properties: {id: {type: 'string', description: 'Its id'}}, required: ['id']})
    expect(js).toBe('/**\n * A thing.\n *\n * - id: Its id\n *\n * @typedef {{\n *   id: string\n *   [k: string]: unknown\n * }} ThingProperties\n */')
  })
})
