// The node:http reference: the same hello world bytes as examples/hello.ts, keep-alive, no framework.
// Usage: node http-hello.mjs PORT|/path.sock; prints "listening ADDRESS" once ready.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const HELLO = Buffer.from('Hello world!\n')
const listen = process.argv[2] ?? '0'

const server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length })
  res.end(HELLO)
})
// As many kept connections as the generator opens, for as long as the bench runs.
server.keepAliveTimeout = 120_000
server.listen(/^\d+$/.test(listen) ? { host: '127.0.0.1', port: Number(listen) } : { path: listen }, () => {
  const address = server.address() as AddressInfo | string
  process.stdout.write(`listening ${typeof address === 'string' ? address : `127.0.0.1:${address.port}`}\n`)
})
process.on('SIGTERM', () => server.close(() => undefined).closeAllConnections())
