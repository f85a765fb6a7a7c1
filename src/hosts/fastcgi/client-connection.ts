// One connection of the FastCGI client: a socket, its sans-IO WebServerConnection and the requests
// active on it.
import type { Socket } from 'node:net'
import { writeRecords } from '../../net/write.js'
import { WebServerConnection } from '../../protocol/fastcgi/index.js'
import type { ClientExchange } from './client-exchange.js'

/** One socket and its protocol state; `requests` maps active ids to their exchanges. */
export class ClientConnection {
  readonly proto = new WebServerConnection()
  readonly requests = new Map<number, ClientExchange>()
  readonly pausedBy = new Set<ClientExchange>()
  readonly valueWaiters: Array<{ resolve: (values: Record<string, string>) => void; reject: (err: unknown) => void }> =
    []
  drainWaiters: Array<() => void> = []
  /** Requests begun on this connection; without KEEP_CONN only one ever is. */
  begun = 0
  dead = false
  error: unknown

  constructor(readonly socket: Socket) {}

  /** Writes the queued records; false when the socket asks us to wait for 'drain'. */
  flush(): boolean {
    if (this.dead) return true
    writeRecords(this.socket, this.proto.takeOutput())
    return !this.socket.writableNeedDrain
  }

  drained(): Promise<void> {
    if (this.dead || !this.socket.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  wake(): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const wake of waiters) wake()
  }
}
