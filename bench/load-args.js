// The arguments both load generators take (bench/load.js, bench/cannon.js), read in one place so
// that either can stand in for the other.

import {parseArgs} from 'node:util'

/** The generator's arguments, its target checked to be this machine (127.0.0.1) or the process exits 2. */
export function readLoadArgs(name, {connections}) {
  const {values: args} = parseArgs({
    options: {
      url: {type: 'string'},
      path: {type: 'string', default: '/v1/track'},
      key: {type: 'string', default: ''},
      batch: {type: 'string', default: '0'},
      connections: {type: 'string', default: String(connections)},
      warmup: {type: 'string', default: '1'},
      duration: {type: 'string', default: '5'},
      'server-pid': {type: 'string'},
    },
  })
  const target = new URL(args.url ?? '')
  if (target.hostname !== '127.0.0.1') {
    console.error(`${name} only targets 127.0.0.1`)
    process.exit(2)
  }
  return {args, target}
}
