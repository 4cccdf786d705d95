import {describe, expectTypeOf, it} from 'vitest'
import type {DestinationSettings} from '../../src/config/destinations.js'
import type {DestinationConfig, RetrySettings, SourceConfig, WorkspaceConfig} from '../../src/config/schema.js'

// Checked by the type checker (npm run typecheck), not at run time: the types of cdp.json come from
// its JSON Schema, so a setting added, made required or retyped there changes them here.
describe('cdp.json types derived from its schema', () => {
  it('each destination type has its own settings: a webhook\'s url is a string, a file\'s path too', () => {
    expectTypeOf<DestinationSettings<'webhook'>['url']>().toEqualTypeOf<string>()
    expectTypeOf<DestinationSettings<'webhook'>['headers']>().toEqualTypeOf<{[header: string]: string} | undefined>()
    expectTypeOf<DestinationSettings<'webhook'>>().not.toHaveProperty('path')
    expectTypeOf<DestinationSettings<'file'>['path']>().toEqualTypeOf<string>()
    expectTypeOf<DestinationSettings<'file'>['maxBytes']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<DestinationSettings<'segment'>['writeKey']>().toEqualTypeOf<string>()
    expectTypeOf<DestinationSettings<'postgres'>['connectionString']>().toEqualTypeOf<string>()
    expectTypeOf<DestinationSettings<'postgres'>>().not.toHaveProperty('url')
  })

  it('a destination narrowed on its type has that type\'s settings, and every one has the common ones', () => {
    const url = (destination: DestinationConfig) => (destination.type === 'webhook' ? destination.url : undefined)
    expectTypeOf(url).returns.toEqualTypeOf<string | undefined>()
    expectTypeOf<DestinationConfig['type']>().toEqualTypeOf<'webhook' | 'file' | 'segment' | 'postgres' | 'function'>()
    expectTypeOf<DestinationConfig['batchSize']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<RetrySettings>().toEqualTypeOf<{maxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number}>()
  })

  it('sources, conventions and functions as the schema has them', () => {
    expectTypeOf<SourceConfig['writeKey']>().toEqualTypeOf<string>()
    expectTypeOf<NonNullable<SourceConfig['protocols']>['violations']>().toEqualTypeOf<'allow' | 'block' | 'omit-properties' | undefined>()
    expectTypeOf<NonNullable<WorkspaceConfig['conventions']>['eventName']>().toEqualTypeOf<
      'Object Action' | 'Title Case' | 'snake_case' | 'camelCase' | 'PascalCase' | 'kebab-case' | undefined
    >()
    expectTypeOf<WorkspaceConfig['destinations']>().toEqualTypeOf<DestinationConfig[] | undefined>()
    expectTypeOf<NonNullable<WorkspaceConfig['functions']>[number]['kind']>().toEqualTypeOf<'source' | 'insert' | 'destination'>()
    expectTypeOf<NonNullable<WorkspaceConfig['functions']>[number]['timeoutMs']>().toEqualTypeOf<number | undefined>()
  })
})
