// One connection of the FastCGI client: a socket, its sans-IO WebServerConnection and the requests
// active on it.
import type { Socket } from 'node:net'
import { SocketOutput } from '../../net/socket-output.js'
import { WebServerConnection } from '../../protocol/fastcgi/index.js'
import type { ClientExchange } from './client-exchange.js'

/** One socket and its protocol state; `requests` maps active ids to their exchanges. */
export class ClientConnection {
  readonly proto = new WebServerConnection()
  readonly requests = new Map<number, ClientExchange>()
  readonly pausedBy = new Set<ClientExchange>()
  readonly valueWaiters: Array<{ resolve: (values: Record<string, string>) => void; reject: (err: unknown) => void }> =
    []
  /** Requests begun on this connection; without KEEP_CONN only one ever is. */
  begun = 0
  dead = false
  error: unknown

  readonly #output: SocketOutput

  constructor(readonly socket: Socket) {
    this.#output = new SocketOutput(socket, this.proto)
  }

  /** Writes the queued records now; false when the socket asks us to wait for 'drain'. */
  flush(): boolean {
    if (this.dead) return true
    this.#output.write()
    return !this.socket.writableNeedDrain
  }

  /** Settles once the socket takes more, or the connection is gone. */
  drained(): Promise<void> {
    if (this.dead) return Promise.resolve()
    return this.#output.whenWritable() ?? Promise.resolve()
  }

  /** Wakes the writers waiting in drained() (the connection is gone). */
  wake(): void {
    this.#output.wake()
  }
}
