// Plain JS so that bench/ can use it too; types in ports.d.ts.
import {createServer} from 'node:net'

/** A TCP port on 127.0.0.1 that nothing listens on: the system hands one out and it is released at once. */
export function unusedPort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}
