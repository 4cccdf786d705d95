import {mkdtempSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'cdp-test-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

export function writeConfig(dir: string, config: unknown): void {
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'cdp.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2))
}

export const testSources = [
  {name: 'web', writeKey: 'web-write-key-0001'},
  {name: 'server', writeKey: 'server-write-key-0002'},
]

/** A fresh temporary folder, removed with the file's other cleanups (cleanupsAfterEach). */
export function tempFolder(cleanups: (() => Promise<void> | void)[]): string {
  const {dir, cleanup} = tempDir()
  cleanups.push(cleanup)
  return dir
}
