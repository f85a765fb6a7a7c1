// Writing a connection's queued records: one write for one part, a corked batch (one writev) for more.
import type { Socket } from 'node:net'

export function writeRecords(socket: Socket, parts: Uint8Array[]): void {
  if (parts.length === 1) socket.write(parts[0]!)
  else if (parts.length > 1) {
    socket.cork()
    for (const part of parts) socket.write(part)
    socket.uncork()
  }
}
