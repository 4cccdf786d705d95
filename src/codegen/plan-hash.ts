import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

/** sha256 over the plan folder's JSON files, by relative path: it changes when any rule does. */
export function planHash(dir: string): string {
  const hash = createHash('sha256')
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative)).sort()) {
      const child = relative ? `${relative}/${entry}` : entry
      if (statSync(path.join(dir, child)).isDirectory()) walk(child)
      else if (entry.endsWith('.json')) hash.update(`${child}\0${readFileSync(path.join(dir, child), 'utf8')}\0`)
    }
  }
  walk('')
  return `sha256:${hash.digest('hex').slice(0, 16)}`
}
