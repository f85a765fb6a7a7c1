// The request body stream behind tsgi.input (SPEC §3.3): gateways push bytes in, the app pulls.
// Buffering above a high-water mark asks the gateway to pause its source (backpressure). Pure code.
import type { InputStream } from '../app.js'
import { TsgiError } from '../errors.js'

export interface BodyInputOptions {
  /** CONTENT_LENGTH when known: bytes past it are dropped; ending short fails with ERR_BODY_INCOMPLETE. */
  expectedLength?: number
  /** Largest body accepted; more fails reads with ERR_BODY_TOO_LARGE (status 413). */
  limit?: number
  /** Buffered bytes above which onPause is called (default 64 KiB). */
  highWaterMark?: number
  /** Start paused: the source is read only once the app reads (CGI reads stdin lazily). */
  paused?: boolean
  /** Stop reading the source (socket.pause()). */
  onPause?: () => void
  /** Start reading the source again. */
  onResume?: () => void
}

const EMPTY = new Uint8Array(0)
const DEFAULT_HIGH_WATER_MARK = 64 * 1024

export class BodyInput implements InputStream {
  #queue: Uint8Array[] = []
  #buffered = 0
  #received = 0
  #ended = false
  #error: unknown = undefined
  #paused: boolean
  #waiters: Array<() => void> = []
  readonly #expected: number | undefined
  readonly #limit: number
  readonly #hwm: number
  readonly #onPause: (() => void) | undefined
  readonly #onResume: (() => void) | undefined

  constructor(options: BodyInputOptions = {}) {
    this.#expected = options.expectedLength
    this.#limit = options.limit ?? Infinity
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.#paused = options.paused ?? false
    this.#onPause = options.onPause
    this.#onResume = options.onResume
    if (this.#expected !== undefined && this.#expected > this.#limit) this.#error = tooLarge(this.#limit)
  }

  /** An input that is already at its end. */
  static empty(): BodyInput {
    const input = new BodyInput({ expectedLength: 0 })
    input.end()
    return input
  }

  /** True once the whole body was received. */
  get ended(): boolean {
    return this.#ended || (this.#expected !== undefined && this.#received >= this.#expected)
  }

  /** Bytes received so far (never more than CONTENT_LENGTH). */
  get received(): number {
    return this.#received
  }

  /** CONTENT_LENGTH, when the body's length was declared. */
  get expected(): number | undefined {
    return this.#expected
  }

  /** Bytes received and not yet read by the app. */
  get buffered(): number {
    return this.#buffered
  }

  /** True when the gateway should not read its source. */
  get paused(): boolean {
    return this.#paused
  }

  /** Gateway side: bytes arrived. Bytes past CONTENT_LENGTH are dropped (RFC 3875 §4.2, FastCGI §6.2). */
  push(chunk: Uint8Array): void {
    if (this.ended || this.#error !== undefined || chunk.byteLength === 0) return
    if (this.#expected !== undefined && this.#received + chunk.byteLength > this.#expected) {
      chunk = chunk.subarray(0, this.#expected - this.#received)
    }
    this.#received += chunk.byteLength
    if (this.#received > this.#limit) {
      this.fail(tooLarge(this.#limit))
      return
    }
    this.#queue.push(chunk)
    this.#buffered += chunk.byteLength
    if (this.#buffered > this.#hwm) this.#pause()
    this.#wake()
  }

  /** Gateway side: the source ended (EOF, or the empty STDIN record). */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    // Nothing more will come for this body: a source paused for it must flow again (a kept FastCGI
    // connection carries the next request on the same socket).
    if (this.#paused) {
      this.#paused = false
      this.#onResume?.()
    }
    if (this.#expected !== undefined && this.#received < this.#expected && this.#error === undefined) {
      this.#error = new TsgiError(
        'ERR_BODY_INCOMPLETE',
        `tsgi: request body ended after ${this.#received} of ${this.#expected} bytes`,
        { status: 400 },
      )
    }
    this.#wake()
  }

  /** Gateway side: the source failed (connection lost, abort). Reads reject once the buffer is empty. */
  fail(error: unknown): void {
    if (this.#error !== undefined) return
    this.#error = error
    this.#wake()
  }

  /** Read up to `size` bytes (all the rest without `size`); an empty array at the end (SPEC §3.3). */
  async read(size?: number): Promise<Uint8Array> {
    if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `tsgi: read() size must be a non-negative integer, got ${size}`)
    }
    if (size === 0) return EMPTY
    for (;;) {
      if (size !== undefined && this.#buffered >= size) return this.#take(size)
      if (this.ended && this.#error === undefined) return this.#take(size ?? this.#buffered)
      if (this.#error !== undefined) {
        if (size !== undefined && this.#buffered > 0) return this.#take(size)
        throw this.#error
      }
      await this.#wait()
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#queue.shift()
      if (chunk !== undefined) {
        this.#buffered -= chunk.byteLength
        this.#maybeResume()
        yield chunk
        continue
      }
      if (this.#error !== undefined) throw this.#error
      if (this.ended) return
      await this.#wait()
    }
  }

  /** Read and drop the rest of the body; resolves to the bytes dropped. Never rejects. */
  async discard(): Promise<number> {
    let dropped = 0
    for (;;) {
      dropped += this.#buffered
      this.#queue = []
      this.#buffered = 0
      if (this.ended || this.#error !== undefined) return dropped
      this.#maybeResume()
      await this.#wait()
    }
  }

  #take(size: number): Uint8Array {
    size = Math.min(size, this.#buffered)
    if (size === 0) return EMPTY
    const first = this.#queue[0]!
    let out: Uint8Array
    if (first.byteLength === size) {
      out = first
      this.#queue.shift()
    } else if (first.byteLength > size) {
      out = first.subarray(0, size)
      this.#queue[0] = first.subarray(size)
    } else {
      out = new Uint8Array(size)
      let offset = 0
      while (offset < size) {
        const head = this.#queue[0]!
        const n = Math.min(head.byteLength, size - offset)
        out.set(head.subarray(0, n), offset)
        offset += n
        if (n === head.byteLength) this.#queue.shift()
        else this.#queue[0] = head.subarray(n)
      }
    }
    this.#buffered -= size
    this.#maybeResume()
    return out
  }

  #wait(): Promise<void> {
    const waiting = new Promise<void>((resolve) => {
      this.#waiters.push(resolve)
    })
    // The app is waiting for bytes: make sure the source flows (this starts a lazy CGI stdin). The waiter
    // is registered first, so a source that pushes or ends synchronously in onResume still wakes it.
    this.#resume()
    return waiting
  }

  #wake(): void {
    if (this.#waiters.length === 0) return
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  #pause(): void {
    if (this.#paused) return
    this.#paused = true
    this.#onPause?.()
  }

  #maybeResume(): void {
    if (this.#buffered <= this.#hwm / 2) this.#resume()
  }

  #resume(): void {
    if (!this.#paused || this.ended || this.#error !== undefined) return
    this.#paused = false
    this.#onResume?.()
  }
}

function tooLarge(limit: number): TsgiError {
  return new TsgiError('ERR_BODY_TOO_LARGE', `tsgi: request body is larger than the limit of ${limit} bytes`, {
    status: 413,
  })
}
