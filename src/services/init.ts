import {appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import path from 'node:path'
import {UserError, ExitCode} from '../errors.js'
import {configProblems} from '../config/load.js'
import type {WorkspaceConfig} from '../config/schema.js'
import {generateWriteKey, workspacePaths} from '../config/workspace.js'

export interface InitOptions {
  dir: string
  /** Overwrite cdp.json when it exists. */
  force: boolean
  sourceName: string
}

export interface InitFile {
  path: string
  action: 'created' | 'overwritten' | 'updated' | 'unchanged'
}

export interface InitResult {
  dir: string
  config: WorkspaceConfig
  files: InitFile[]
}

const templateDir = new URL('../../templates/init/', import.meta.url)
const ignoreLine = '.cdp/'

/** Scaffolds a workspace: cdp.json with one source and a fresh write key, plan/, and .gitignore for .cdp/. */
export function initWorkspace(options: InitOptions): InitResult {
  const paths = workspacePaths(options.dir)
  const config: WorkspaceConfig = {
    sources: [{name: options.sourceName, writeKey: generateWriteKey()}],
    destinations: [],
    functions: [],
  }
  const problems = configProblems(config)
  if (problems.length > 0) {
    throw new UserError(`Cannot use "${options.sourceName}" as a source name: ${problems.join('; ')}`, {
      hint: 'Use letters, digits, dots, dashes and underscores, starting with a letter or digit.',
    })
  }
  const configExists = existsSync(paths.config)
  if (configExists && !options.force) {
    throw new UserError(`${paths.config} already exists; cdp init will not overwrite it.`, {
      hint: 'Run `cdp init --force` to replace it (its sources get new write keys), or edit it by hand.',
      code: 'exists',
    })
  }
  try {
    mkdirSync(paths.dir, {recursive: true})
    const files: InitFile[] = []
    writeFileSync(paths.config, JSON.stringify(config, null, 2) + '\n')
    files.push({path: paths.config, action: configExists ? 'overwritten' : 'created'})

    // An example plan goes only into a new plan folder: an existing plan is never touched.
    const planExisted = existsSync(paths.planDir)
    if (!planExisted) cpSync(fileURLToPath(new URL('plan/', templateDir)), paths.planDir, {recursive: true})
    files.push({path: paths.planDir + path.sep, action: planExisted ? 'unchanged' : 'created'})

    const gitignore = path.join(paths.dir, '.gitignore')
    if (!existsSync(gitignore)) {
      writeFileSync(gitignore, readFileSync(new URL('gitignore', templateDir), 'utf8'))
      files.push({path: gitignore, action: 'created'})
    } else {
      // An existing .gitignore is extended, never replaced.
      const text = readFileSync(gitignore, 'utf8')
      const lines = text.split(/\r?\n/).map((line) => line.trim())
      if (lines.includes(ignoreLine) || lines.includes('.cdp') || lines.includes('/.cdp/')) {
        files.push({path: gitignore, action: 'unchanged'})
      } else {
        appendFileSync(gitignore, `${text.endsWith('\n') || text === '' ? '' : '\n'}${ignoreLine}\n`)
        files.push({path: gitignore, action: 'updated'})
      }
    }
    return {dir: paths.dir, config, files}
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EEXIST') {
      throw new UserError(`Cannot write the workspace in ${paths.dir}: ${(error as Error).message}`, {
        hint: 'Choose a folder you can write to.',
        exitCode: ExitCode.environment,
        code: 'not_writable',
      })
    }
    throw error
  }
}
