import path from 'node:path'
import {execa} from 'execa'
import {ExitCode, UserError} from '../errors.js'

/** A git working tree: its root, and the workspace's place in it. */
export interface Repository {
  root: string
  /** The workspace folder relative to the root, with a trailing slash ("" at the root, "app/"). */
  prefix: string
}

interface GitResult {
  exitCode: number
  stdout: Uint8Array
  stderr: string
}

async function git(args: string[], cwd: string, input?: string): Promise<GitResult> {
  // C locale: the messages matched below are git's English ones.
  const result = await execa('git', args, {cwd, input, reject: false, encoding: 'buffer', env: {LC_ALL: 'C', LANGUAGE: 'C', GIT_OPTIONAL_LOCKS: '0'}})
  if (result.code === 'ENOENT' && result.exitCode === undefined) {
    throw new UserError('git is not installed (or not on PATH); cdp plan diff reads the base plan with it.', {
      hint: 'Install git (https://git-scm.com/downloads) and make sure `git --version` works in this shell.',
      exitCode: ExitCode.environment,
      code: 'git_not_found',
    })
  }
  const stderr = Buffer.from(result.stderr).toString('utf8').trim()
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr}
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

function gitFailed(args: string[], result: GitResult): UserError {
  return new UserError(`git ${args.join(' ')} failed: ${result.stderr || `exit ${result.exitCode}`}`, {
    hint: 'Run that git command yourself in the workspace to see what git needs.',
    exitCode: ExitCode.environment,
    code: 'git_failed',
  })
}

/** The repository the workspace folder is in. */
export async function findRepository(dir: string): Promise<Repository> {
  const args = ['rev-parse', '--show-toplevel', '--show-prefix']
  const result = await git(args, dir)
  if (result.exitCode !== 0) {
    if (/not a git repository/i.test(result.stderr)) {
      throw new UserError(`${dir} is not in a git repository, so there is no earlier plan to compare with.`, {
        hint: 'Run cdp plan diff inside a git clone (or --dir DIR pointing into one); `git init` and a first commit start one.',
        exitCode: ExitCode.notARepository,
        code: 'not_a_git_repository',
      })
    }
    throw gitFailed(args, result)
  }
  const [root, prefix = ''] = text(result.stdout).split('\n')
  return {root, prefix}
}

/** The full commit id a revision names; a UserError that names the revision when git does not know it. */
export async function resolveRevision(repository: Repository, revision: string): Promise<string> {
  const result = revision.startsWith('-') ? undefined : await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], repository.root)
  if (!result || result.exitCode !== 0) {
    throw new UserError(`Unknown revision "${revision}": git knows no commit by that name in ${repository.root}.`, {
      hint: 'Name a commit, branch or tag that exists (`git log --oneline`, `git branch -a`); in a shallow CI clone, fetch the base first (`git fetch origin main`). A new repository needs a first commit.',
      exitCode: ExitCode.unknownRevision,
      code: 'unknown_revision',
    })
  }
  return text(result.stdout).trim()
}

/**
 * The path, from the repository root, of a folder given relative to the workspace; undefined when
 * the folder is outside the repository.
 */
export function repositoryPath(repository: Repository, workspace: string, folder: string): string | undefined {
  const relative = path.relative(path.resolve(workspace), path.resolve(folder)).split(path.sep).join('/')
  const joined = path.posix.normalize(`${repository.prefix}${relative}`).replace(/\/$/, '')
  if (joined === '..' || joined.startsWith('../')) return undefined
  return joined === '.' ? '' : joined
}

/**
 * The files of a folder at a commit, relative to that folder, for the paths `wanted` accepts.
 * One `git ls-tree` and one `git cat-file --batch`, however many files the plan has.
 */
export async function readFolderAt(repository: Repository, commit: string, folder: string, wanted: (relative: string) => boolean): Promise<Map<string, string>> {
  const listArgs = ['ls-tree', '-r', '-z', '--name-only', commit, '--', folder === '' ? '.' : `${folder}/`]
  const listed = await git(listArgs, repository.root)
  if (listed.exitCode !== 0) throw gitFailed(listArgs, listed)
  const base = folder === '' ? '' : `${folder}/`
  const paths = text(listed.stdout)
    .split('\0')
    .filter((file) => file.startsWith(base) && wanted(file.slice(base.length)) && !file.includes('\n'))
  const files = new Map<string, string>()
  if (paths.length === 0) return files

  const batchArgs = ['cat-file', '--batch']
  const batch = await git(batchArgs, repository.root, paths.map((file) => `${commit}:${file}\n`).join(''))
  if (batch.exitCode !== 0) throw gitFailed(batchArgs, batch)
  // Each answer is "<id> <type> <size>\n<size bytes>\n", in the order asked.
  const out = Buffer.from(batch.stdout)
  let offset = 0
  for (const file of paths) {
    const newline = out.indexOf(0x0a, offset)
    const header = out.subarray(offset, newline).toString('utf8').split(' ')
    offset = newline + 1
    if (header[1] === 'missing' || header.length < 3) continue
    const size = Number(header[2])
    if (header[1] === 'blob') files.set(file.slice(base.length), out.subarray(offset, offset + size).toString('utf8'))
    offset += size + 1
  }
  return files
}
