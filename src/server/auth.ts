import type {IncomingMessage} from 'node:http'
import type {SourceConfig} from '../config/schema.js'
import {HttpError} from './http-error.js'

/**
 * The write key of a request from HTTP Basic auth: the key is the user name, with or without the
 * trailing colon, as Segment's SDKs send it. Undefined when there is no Basic header.
 */
export function writeKeyFromHeader(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (!header) return undefined
  const match = /^basic\s+(\S+)\s*$/i.exec(header)
  if (!match) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const key = colon === -1 ? decoded : decoded.slice(0, colon)
  return key === '' ? undefined : key
}

/** The sources a daemon serves, by write key. */
export class SourceRegistry {
  private byKey = new Map<string, SourceConfig>()

  constructor(sources: readonly SourceConfig[]) {
    this.replace(sources)
  }

  replace(sources: readonly SourceConfig[]): void {
    this.byKey = new Map(sources.map((source) => [source.writeKey, source]))
  }

  get sources(): SourceConfig[] {
    return [...this.byKey.values()]
  }

  find(writeKey: string | undefined): SourceConfig | undefined {
    return writeKey === undefined ? undefined : this.byKey.get(writeKey)
  }

  /**
   * The source of a write key, or the 401 a client gets for a missing or unknown one. `where` tells
   * a client without a key where this route reads it.
   */
  authenticate(writeKey: string | undefined, where = 'as the HTTP Basic auth user name, or as "writeKey" in the JSON body'): SourceConfig {
    if (writeKey === undefined || writeKey === '') {
      throw new HttpError(401, 'missing_write_key', `no write key: send it ${where}`)
    }
    const source = this.byKey.get(writeKey)
    if (!source) {
      const shown = writeKey.length > 12 ? `${writeKey.slice(0, 8)}…` : writeKey
      throw new HttpError(401, 'unknown_write_key', `unknown write key "${shown}": use the write key of a source in cdp.json (cdp dev prints them at start)`)
    }
    return source
  }
}
