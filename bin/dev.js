#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly (no build), for working on cdp itself.
import {followLauncher, needsRelaunch, relaunch} from './relaunch.js'

if (needsRelaunch()) {
  await relaunch()
} else {
  followLauncher()
  const {execute} = await import('@oclif/core')
  await execute({development: true, dir: import.meta.url})
}
