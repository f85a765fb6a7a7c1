// One connection of the FastCGI client: a socket, its sans-IO WebServerConnection, the requests active on
// it, and the errors the client reports when a connection fails.
import type { Socket } from 'node:net'
import { TsgiError } from '../../errors.js'
import type { Exchange } from './exchange.js'
import { WebServerConnection } from '../../protocol/fastcgi/index.js'
import { writeRecords } from '../../net/write.js'

/** One socket and its protocol state; `requests` maps active ids to their exchanges. */
export class Connection {
  readonly proto = new WebServerConnection()
  readonly requests = new Map<number, Exchange>()
  readonly pausedBy = new Set<Exchange>()
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

export function aborted(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason
  return reason instanceof TsgiError ? reason : new TsgiError('ERR_ABORTED', 'fcgi: request aborted', { cause: reason })
}

export function closedError(connection: Connection, midRecord: boolean): TsgiError {
  const cause = connection.error
  const why = cause instanceof Error ? `: ${cause.message}` : midRecord ? ' in the middle of a record' : ''
  const code = cause instanceof TsgiError ? cause.code : 'ERR_FCGI_CONNECTION_CLOSED'
  return new TsgiError(code, `fcgi: connection closed before END_REQUEST${why}`, { cause, status: 502 })
}

export function positive(name: string, value: number): number {
  if (!(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid ${name} ${String(value)}`)
  }
  return value
}
