// The validator's body wrapper (SPEC §5): checks every chunk on its way to the gateway, and that the
// gateway closes the body (SPEC §5.3), which wsgiref can only check when the body is garbage-collected.
import type { Body, Chunk } from '../../app.js'
import type { AppResponse } from './app-response.js'
import { describe, type Report, violation } from './common.js'

/** Watches that the gateway calls return(): a timer once iteration stopped, and the garbage collector. */
export class CloseWatch {
  readonly #report: Report
  readonly #timeoutMs: number
  #active = false
  #closed = false
  #reported = false
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(report: Report, timeoutMs: number) {
    this.#report = report
    this.#timeoutMs = timeoutMs
  }

  /** Starts watching a body handed to the gateway. */
  watch(body: object): void {
    this.#active = true
    collected.register(body, this, this)
  }

  /** The body ended or failed: the gateway now has `timeoutMs` to close it. */
  stopped(why: string): void {
    if (!this.#active || this.#closed || this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#fail(`the gateway did not call the body's return() within ${this.#timeoutMs} ms after ${why} (SPEC §5.3)`)
    }, this.#timeoutMs)
    // A run-once CGI process must not live on for this timer.
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  closed(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    collected.unregister(this)
  }

  /** A late gateway-side violation: nobody is there to catch a throw. */
  report(message: string): void {
    this.#report(message)
  }

  collected(): void {
    if (!this.#closed)
      this.#fail('the body was garbage-collected but the gateway never called its return() (SPEC §5.3)')
  }

  #fail(message: string): void {
    if (this.#reported || this.#closed) return
    this.#reported = true
    this.#report(message)
  }
}

const collected = new FinalizationRegistry<CloseWatch>((watch) => watch.collected())

/** Checks what the app returned and gives the gateway a body that validates itself as it is read. */
export function wrapBody(body: unknown, exchange: AppResponse, watch: CloseWatch): Body {
  const b = body as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null
  if (typeof b !== 'object' || b === null || body instanceof Uint8Array) {
    throw violation(`the app returned ${describe(body)}: a body is an iterable or async iterable of chunks (SPEC §5.1)`)
  }
  if (Array.isArray(body)) return checkArray(body, exchange)
  let wrapped: Body
  if (typeof b[Symbol.asyncIterator] === 'function')
    wrapped = new AsyncBody(body as AsyncIterable<unknown>, exchange, watch)
  else if (typeof b[Symbol.iterator] === 'function') wrapped = new SyncBody(body as Iterable<unknown>, exchange, watch)
  else throw violation(`the app returned ${describe(body)}, which is not iterable (SPEC §5.1)`)
  watch.watch(wrapped)
  return wrapped
}

// An array's chunks are all known now and no app code runs while the gateway sends them: check them
// at once, and hand the gateway a real array so it can still add Content-Length (SPEC §5.2).
function checkArray(body: unknown[], exchange: AppResponse): Chunk[] {
  exchange.beginBody()
  try {
    for (const chunk of body) exchange.chunk(chunk, 'the body')
  } catch (err) {
    exchange.ended = true
    throw err
  }
  exchange.end()
  return body.slice() as Chunk[]
}

/** What both flavours share: the order of calls the gateway may make (SPEC §5.3). */
class Cursor {
  readonly exchange: AppResponse
  readonly watch: CloseWatch
  opened = false
  closed = false
  pending = false

  constructor(exchange: AppResponse, watch: CloseWatch) {
    this.exchange = exchange
    this.watch = watch
  }

  open(): void {
    if (this.opened) throw violation('the gateway opened the body twice (SPEC §5.3)')
    this.opened = true
  }

  beforeNext(): void {
    if (this.closed) throw violation("the gateway called the body's next() after return() (SPEC §5.3)")
    if (this.pending) throw violation("the gateway called the body's next() while another was pending")
    // The gateway is back for more: whatever came before went out, and the headers with it (SPEC §4.2).
    if (this.exchange.bytes > 0) this.exchange.headersSent = true
    this.exchange.beginBody()
  }

  afterNext(step: unknown): IteratorResult<Chunk> {
    try {
      if (typeof step !== 'object' || step === null) {
        throw violation(`the body's next() returned ${describe(step)}, not an iterator result`)
      }
      const result = step as IteratorResult<unknown>
      if (result.done === true) {
        this.watch.stopped('the body ended')
        this.exchange.end()
      } else {
        this.exchange.chunk(result.value, 'the body')
      }
      return result as IteratorResult<Chunk>
    } catch (err) {
      return this.failed(err)
    }
  }

  failed(err: unknown): never {
    this.exchange.ended = true
    this.watch.stopped('the body failed')
    throw err
  }

  /** True the first time; a second return() is reported, not thrown (it comes from cleanup code). */
  close(): boolean {
    if (this.closed) {
      this.watch.report("the gateway called the body's return() twice (SPEC §5.3)")
      return false
    }
    this.closed = true
    this.exchange.ended = true
    this.watch.closed()
    return true
  }
}

class SyncBody implements Iterable<Chunk>, Iterator<Chunk> {
  readonly #body: Iterable<unknown>
  readonly #cursor: Cursor
  #iterator: Iterator<unknown> | undefined

  constructor(body: Iterable<unknown>, exchange: AppResponse, watch: CloseWatch) {
    this.#body = body
    this.#cursor = new Cursor(exchange, watch)
  }

  [Symbol.iterator](): Iterator<Chunk> {
    this.#cursor.open()
    this.#iterator = this.#body[Symbol.iterator]()
    return this
  }

  next(): IteratorResult<Chunk> {
    this.#cursor.beforeNext()
    if (this.#iterator === undefined) this[Symbol.iterator]()
    let step: unknown
    try {
      step = this.#iterator!.next()
    } catch (err) {
      return this.#cursor.failed(err)
    }
    return this.#cursor.afterNext(step)
  }

  return(value?: unknown): IteratorResult<Chunk> {
    if (!this.#cursor.close()) return { done: true, value: undefined }
    const result = this.#iterator?.return?.(value)
    return (result as IteratorResult<Chunk> | undefined) ?? { done: true, value: undefined }
  }
}

class AsyncBody implements AsyncIterable<Chunk>, AsyncIterator<Chunk> {
  readonly #body: AsyncIterable<unknown>
  readonly #cursor: Cursor
  #iterator: AsyncIterator<unknown> | undefined

  constructor(body: AsyncIterable<unknown>, exchange: AppResponse, watch: CloseWatch) {
    this.#body = body
    this.#cursor = new Cursor(exchange, watch)
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk> {
    this.#cursor.open()
    this.#iterator = this.#body[Symbol.asyncIterator]()
    return this
  }

  async next(): Promise<IteratorResult<Chunk>> {
    const cursor = this.#cursor
    cursor.beforeNext()
    if (this.#iterator === undefined) this[Symbol.asyncIterator]()
    cursor.pending = true
    let step: unknown
    try {
      step = await this.#iterator!.next()
    } catch (err) {
      cursor.pending = false
      return cursor.failed(err)
    }
    cursor.pending = false
    return cursor.afterNext(step)
  }

  async return(value?: unknown): Promise<IteratorResult<Chunk>> {
    if (!this.#cursor.close()) return { done: true, value: undefined }
    const result = await this.#iterator?.return?.(value)
    return (result as IteratorResult<Chunk> | undefined) ?? { done: true, value: undefined }
  }
}
