// The arguments both load generators take (bench/load.js, bench/cannon.js), and the JSON line both
// print, made in one place so that either can stand in for the other.

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

/**
 * The JSON line a generator prints: what it measured, with the rates derived once (events/s counts
 * only the 2xx requests' events). `generator`, and the CPU fields each can measure, ride along.
 */
export function loadResultLine({requests, non2xx, seconds, eventsPerRequest, ...rest}) {
  return (
    JSON.stringify({
      ...rest,
      eventsPerRequest,
      seconds,
      requests,
      requestsPerSec: requests / seconds,
      eventsPerSec: ((requests - non2xx) * eventsPerRequest) / seconds,
      non2xx,
    }) + '\n'
  )
}
