// What both sides of a FastCGI connection share: bytes in through the record reader, events out,
// records out through the outbox, and the error state (after a protocol error, nothing more).
import { TsgiError } from '../../errors.js'
import type { ClosedEvent, NeedData } from './events.js'
import { NEED_DATA } from './events.js'
import { Outbox } from './outbox.js'
import { RecordReader } from './reader.js'
import type { Padding } from './record.js'

export abstract class ConnectionBase<E> {
  protected readonly reader = new RecordReader()
  protected readonly outbox: Outbox
  #error: TsgiError | undefined
  #closed: ClosedEvent | undefined

  constructor(padding: Padding = 'none') {
    if (padding !== 'none' && padding !== 'align8') {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid padding ${String(padding)}`)
    }
    this.outbox = new Outbox(padding)
  }

  /**
   * Feed bytes received from the peer; an empty array means EOF. The connection keeps views of
   * the bytes (events hand them out): do not modify them afterwards. Bytes after a protocol
   * error are dropped; bytes after EOF are a caller error (ERR_INVALID_STATE).
   */
  receiveData(bytes: Uint8Array): void {
    if (this.reader.eof) {
      if (bytes.length === 0) return
      throw new TsgiError('ERR_INVALID_STATE', 'fcgi: data received after end of input')
    }
    if (this.#error !== undefined) return
    if (bytes.length === 0) this.reader.pushEof()
    else this.reader.push(bytes)
  }

  /**
   * The next event, or NEED_DATA when no whole record is buffered. In-protocol replies (GET_VALUES,
   * UNKNOWN_TYPE, refused BEGINs) are queued in the outbox on the way: after NEED_DATA, write
   * takeOutput(). Throws only a TsgiError with an ERR_FCGI_* code when the peer broke the
   * protocol; the connection is then dead and every later call throws the same error.
   */
  nextEvent(): E | ClosedEvent | NeedData {
    if (this.#error !== undefined) throw this.#error
    const reader = this.reader
    try {
      while (reader.next()) {
        const event = this.handleRecord()
        if (event !== undefined) return event
      }
    } catch (err) {
      if (err instanceof TsgiError) {
        this.#error = err
        this.onError()
      }
      throw err
    }
    if (reader.eof) {
      this.#closed ??= {
        type: 'closed',
        midRecord: reader.midRecord,
        activeRequestIds: this.activeRequestIds(),
      }
      return this.#closed
    }
    return NEED_DATA
  }

  /** The protocol error that ended this connection, if any. */
  get error(): TsgiError | undefined {
    return this.#error
  }

  /**
   * Received bytes held and not yet part of an event: bytes queued since the last NEED_DATA plus
   * the partial header or gathered content of a record in progress (at most 65535 + 8 bytes).
   */
  get bufferedSize(): number {
    return this.reader.buffered
  }

  /** Bytes waiting in the outbox. */
  get outputSize(): number {
    return this.outbox.size
  }

  /** Take the queued output, in order, for one writev (the arrays are ours no longer). */
  takeOutput(): Uint8Array[] {
    return this.outbox.take()
  }

  /**
   * Every array takeOutput() returned so far has been written and is referenced no more (a socket
   * write that completed synchronously): the outbox may write over that memory again.
   */
  recycleOutput(): void {
    this.outbox.recycle()
  }

  /** Take the queued output as one array (copies only when it is in several parts). */
  takeOutputBytes(): Uint8Array {
    return this.outbox.takeBytes()
  }

  /** Throw ERR_INVALID_STATE when the connection failed: nothing is sent after a protocol error. */
  protected checkUsable(): void {
    if (this.#error !== undefined) {
      throw new TsgiError('ERR_INVALID_STATE', `fcgi: connection failed: ${this.#error.message}`)
    }
  }

  /** Turn the record the reader holds into an event, or undefined when it yields none. */
  protected abstract handleRecord(): E | undefined
  /** Ids of the requests an EOF leaves unfinished. */
  protected abstract activeRequestIds(): number[]
  /** Forget all requests after a protocol error. */
  protected abstract onError(): void
}
