import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    // Real child processes and servers: forks isolate them; two cores, so two workers.
    pool: 'forks',
    // isolated-vm (functions) needs V8 without Node's startup snapshot; the CLI relaunches itself
    // with this flag, tests that load the runtime in-process get it here.
    execArgv: ['--no-node-snapshot'],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
