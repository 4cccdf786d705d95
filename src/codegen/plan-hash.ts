import {createHash} from 'node:crypto'
import type {PlanFiles} from '../plan/load.js'

/** sha256 over a plan's files, by relative path: it changes when any rule does. */
export function planHash(files: PlanFiles): string {
  const hash = createHash('sha256')
  for (const file of [...files.keys()].sort()) hash.update(`${file}\0${files.get(file)}\0`)
  return `sha256:${hash.digest('hex').slice(0, 16)}`
}
