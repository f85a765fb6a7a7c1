// The floor for the 1 GiB upload row: a bare node:net server that reads and drops bytes (64 KiB Buffers,
// freed only when GC runs), answering a bare HTTP 200 once `bytes` arrived. Usage: node net-sink.mjs PATH BYTES.
import { createServer } from 'node:net'

const [path = '', bytes = '0'] = process.argv.slice(2)
const total = Number(bytes)
createServer((socket) => {
  let received = 0
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    if (received >= total) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n')
  })
}).listen(path, () => process.stdout.write(`listening ${path}\n`))
