#!/usr/bin/env node
import {followLauncher, needsRelaunch, relaunch} from './relaunch.js'

if (needsRelaunch()) {
  await relaunch()
} else {
  followLauncher()
  const {execute} = await import('@oclif/core')
  // React (cdp tail's view) runs its production build unless told otherwise: the development build
  // costs a third more CPU at 1,000 events/s.
  process.env.NODE_ENV ??= 'production'
  await execute({dir: import.meta.url})
}
