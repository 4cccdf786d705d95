#!/usr/bin/env node
import {followLauncher, needsRelaunch, relaunch} from './relaunch.js'

if (needsRelaunch()) {
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
