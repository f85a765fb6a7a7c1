// A protocol connection's queued records, written to its socket: in one write, or one corked writev,
// at the end of the current turn of the event loop when asked to wait (docs/performance.md, "One write
// per response"), and 'drain' backpressure for the writers. Shared by the FastCGI responder and client.
import type { Socket } from 'node:net'

/** The sans-IO side of the connection: output to take, and a buffer it may reuse once written. */
export interface OutputSource {
  takeOutput(): Uint8Array[]
  recycleOutput(): void
}

export interface SocketOutputOptions {
  /** Runs for a scheduled write instead of write() (the owner may have more to do then). */
  onTurnEnd?: () => void
  /** A peer that reads nothing for `ms` while a writer waits holds it, and its memory: `onStall` runs. */
  stall?: { ms: number; onStall: () => void }
}

export class SocketOutput {
  #scheduled = false
  #waiters: Array<() => void> = []
  #stallTimer: NodeJS.Timeout | undefined
  readonly #onTurnEnd: () => void
  readonly #stall: SocketOutputOptions['stall']

  constructor(
    readonly socket: Socket,
    readonly source: OutputSource,
    options: SocketOutputOptions = {},
  ) {
    this.#onTurnEnd = options.onTurnEnd ?? (() => this.write())
    this.#stall = options.stall
    socket.on('drain', () => this.wake())
  }

  /** Writes what is queued now. */
  write(): void {
    const parts = this.source.takeOutput()
    const socket = this.socket
    if (parts.length === 1) socket.write(parts[0]!)
    else if (parts.length > 1) {
      socket.cork()
      for (const part of parts) socket.write(part)
      socket.uncork()
    }
    // The kernel took every byte during write(): nothing refers to the source's buffer any more.
    if (socket.writableLength === 0) this.source.recycleOutput()
  }

  /** Runs onTurnEnd after this turn of the event loop, promise jobs included; once however often asked. */
  schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#turnEnd)
  }

  readonly #turnEnd = (): void => {
    this.#scheduled = false
    this.#onTurnEnd()
  }

  /** Undefined when the socket takes more now; else a promise settled by its 'drain' (or wake()). */
  whenWritable(): Promise<void> | undefined {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return undefined
    const stall = this.#stall
    if (stall !== undefined) this.#stallTimer ??= setTimeout(stall.onStall, stall.ms).unref()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Wakes every writer waiting for 'drain': the socket drained, or it is gone. */
  wake(): void {
    clearTimeout(this.#stallTimer)
    this.#stallTimer = undefined
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}
