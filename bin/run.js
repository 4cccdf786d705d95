#!/usr/bin/env node
import {followLauncher, needsRelaunch, relaunch} from './relaunch.js'

/**
 * Help and the version run no command, and so no user function: they need no second node. As
 * oclif reads them: anywhere before a `--` (after it, `cdp test -- npm test --help` runs a command).
 */
function describesItself(argv) {
  const args = argv.slice(2)
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '--version')
}

if (needsRelaunch() && !describesItself(process.argv)) {
  await relaunch()
} else {
  followLauncher()
  // The execute entry alone: the package's index also loads the parser, flags, args and every
  // other export, and checks node's version with semver, before anything runs (about a sixth of
  // `cdp --help`'s time). Commands import what they use themselves.
  const {execute} = await import('@oclif/core/execute')
  // React (cdp tail's view) runs its production build unless told otherwise: the development build
  // costs a third more CPU at 1,000 events/s.
  process.env.NODE_ENV ??= 'production'
  await execute({dir: import.meta.url})
}
