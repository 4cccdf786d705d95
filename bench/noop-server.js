// The ceiling: a do-nothing node:http server with the daemon's keep-alive settings. It reads each
// request body to the end and answers {"success":true}; it parses and stores nothing.
// Prints {"event":"ready","url":...} on stdout; SIGTERM stops it.

import {createServer} from 'node:http'

const success = Buffer.from('{"success":true}')

const server = createServer({keepAlive: true, requestTimeout: 120_000}, (req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    res.writeHead(200, {'content-type': 'application/json; charset=utf-8', 'content-length': success.length})
    res.end(success)
  })
})
server.keepAliveTimeout = 5_000

server.listen(0, '127.0.0.1', () => {
  const {port} = server.address()
  process.stdout.write(JSON.stringify({event: 'ready', url: `http://127.0.0.1:${port}`, port, sources: [{name: 'noop', writeKey: 'noop'}]}) + '\n')
})

process.on('SIGTERM', () => {
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
