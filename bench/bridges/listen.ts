// Listens on argv[2] (a port or a socket path), keeps connections for the whole run, says where.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export function listenAndSay(server: Server): void {
  const listen = process.argv[2] ?? '0'
  server.keepAliveTimeout = 120_000
  server.listen(/^\d+$/.test(listen) ? { host: '127.0.0.1', port: Number(listen) } : { path: listen }, () => {
    const address = server.address() as AddressInfo | string
    process.stdout.write(`listening ${typeof address === 'string' ? address : `127.0.0.1:${address.port}`}\n`)
  })
  process.on('SIGTERM', () => server.close(() => undefined).closeAllConnections())
}
