// The response engine every gateway shares (wsgiref's BaseHandler): runs an App, enforces the
// startResponse rules, validates status and headers before any byte, closes the body, and turns
// app errors into a 500. Gateways supply only the I/O, through a ResponseSink. Pure: no node:* imports.
import type { App, Body, Chunk, Environ, HeaderList, StartResponse, Write } from '../app.js'
import { TsgiError } from '../errors.js'
import { callApp } from './call.js'
import { describeError, isPromise, openBody, signalState, toBytes } from './engine-helpers.js'
import { checkHeaders, getHeader, parseStatus } from './headers.js'

/** The I/O half a gateway implements. Calls arrive in order: head, body*, then end or abort. */
export interface ResponseSink {
  /** Status and validated headers, at most once, before any body byte. */
  head(status: number, reason: string, headers: HeaderList): void | Promise<void>
  /** Body bytes: never empty, never for HEAD/204/304. A promise means "wait" (backpressure). */
  body(chunk: Uint8Array): void | Promise<void>
  /** The response is complete. */
  end(): void | Promise<void>
  /** The response failed after head() was called: the gateway must make the failure visible. */
  abort(error: unknown): void | Promise<void>
}

export interface RunOptions {
  /** Largest header block (sum of `Name: value\r\n` lines) accepted from the app; default unlimited. */
  maxHeaderBytes?: number
  /**
   * The gateway's own view of tsgi.signal, for gateways that create the AbortSignal only when the app
   * asks for it (an AbortController per request is measurable on a FastCGI hello). Default: the signal.
   */
  abort?: AbortState
  /** Turns string chunks into UTF-8 bytes (SPEC §5.2). Default TextEncoder; I/O gateways pass Buffer.from. */
  encode?: (text: string) => Uint8Array
}

/** Whether the client went away, and a way to hear when it does. */
export interface AbortState {
  readonly aborted: boolean
  onAbort(listener: () => void): void
}

/** What happened, for access logs and FastCGI's appStatus. */
export interface RunResult {
  /** The status sent (500 when the engine answered for a failed app), or 0 if nothing was sent. */
  status: number
  /** Body bytes handed to the sink. */
  bytes: number
  /** The app's or gateway's failure, already logged to tsgi.errors. */
  error?: unknown
  /** True when the client went away (tsgi.signal fired) before the response ended. */
  aborted: boolean
}

/**
 * Runs `app` for one request and drives `sink`. Never rejects: failures are in the result. When the app
 * returns an array and the sink never asks to wait, the whole run is synchronous and the result comes
 * back as a plain object (no promise, no microtask: a FastCGI hello is mostly this path); otherwise
 * it is a promise. `await` takes either.
 */
export function runApp(
  app: App,
  environ: Environ,
  sink: ResponseSink,
  options: RunOptions = {},
): RunResult | Promise<RunResult> {
  return new Run(environ, sink, options).execute(app)
}

const encoder = new TextEncoder()
const encodeUtf8 = (text: string): Uint8Array => encoder.encode(text)
const NOOP = (): void => {}
const ABORTED = Symbol('aborted')

interface Pending {
  code: number
  reason: string
  headers: HeaderList
}

class Run {
  readonly #environ: Environ
  readonly #sink: ResponseSink
  readonly #maxHeaderBytes: number
  readonly #encode: (text: string) => Uint8Array
  readonly #abort: AbortState | undefined
  #pending: Pending | undefined
  #invalid: unknown = undefined
  #sent: Pending | undefined
  #suppress = false
  #declared: number | undefined
  #bytes = 0
  #writes: Promise<void> | undefined
  #writeError: unknown = undefined
  #bodyDone = false
  #aborted: Promise<typeof ABORTED> | undefined

  constructor(environ: Environ, sink: ResponseSink, options: RunOptions) {
    this.#environ = environ
    this.#sink = sink
    this.#maxHeaderBytes = options.maxHeaderBytes ?? Infinity
    this.#encode = options.encode ?? encodeUtf8
    this.#abort = options.abort ?? signalState(environ['tsgi.signal'])
  }

  execute(app: App): RunResult | Promise<RunResult> {
    let body: Body | Promise<Body>
    try {
      body = callApp(app, this.#environ, this.startResponse)
      if (Array.isArray(body)) {
        const wait = this.#sendArray(body)
        if (wait === undefined) return this.#end()
        return wait.then(
          () => this.#end(),
          (err: unknown) => this.#complete(err, undefined),
        )
      }
    } catch (err) {
      return this.#complete(err, undefined)
    }
    return this.#stream(body)
  }

  /** A promised body or an iterable: streamed, then finished, failed and closed in order. */
  async #stream(body: Body | Promise<Body>): Promise<RunResult> {
    let iterator: Iterator<Chunk> | AsyncIterator<Chunk> | undefined
    let error: unknown
    try {
      if (isPromise(body)) body = await body
      if (Array.isArray(body)) {
        const wait = this.#sendArray(body)
        if (wait !== undefined) await wait
      } else {
        iterator = openBody(body)
        await this.#sendIterator(iterator)
      }
    } catch (err) {
      error = err
    }
    this.#bodyDone = true
    if (error === undefined && !this.#isAborted()) error = await this.#finish()
    return this.#complete(error, iterator)
  }

  /** The whole body went out: finish, synchronously when the sink is. */
  #end(): RunResult | Promise<RunResult> {
    this.#bodyDone = true
    if (this.#isAborted()) return this.#result(undefined)
    // write() was used: its queue drains first (the slow path).
    if (this.#writes !== undefined) return this.#finish().then((err) => this.#complete(err, undefined))
    let wait: Promise<void> | undefined
    try {
      wait = this.#finishSync()
    } catch (err) {
      return this.#complete(err, undefined)
    }
    if (wait === undefined) return this.#result(undefined)
    return wait.then(
      () => this.#result(undefined),
      (err: unknown) => this.#complete(err, undefined),
    )
  }

  /** Reports a failure (if any), closes the body, and gives the result. */
  async #complete(error: unknown, iterator: Iterator<Chunk> | AsyncIterator<Chunk> | undefined): Promise<RunResult> {
    this.#bodyDone = true
    if (error !== undefined && error !== ABORTED) await this.#fail(error)
    if (iterator !== undefined) await this.#close(iterator)
    return this.#result(error)
  }

  #result(error: unknown): RunResult {
    const result: RunResult = { status: this.#sent?.code ?? 0, bytes: this.#bytes, aborted: this.#isAborted() }
    if (error !== undefined && error !== ABORTED) result.error = error
    return result
  }

  /** SPEC §4: once, unless excInfo; validated here so the app sees the error where it made it. */
  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      if (this.#sent !== undefined) throw excInfo
    } else if (this.#pending !== undefined) {
      throw new TsgiError('ERR_START_RESPONSE_TWICE', 'tsgi: startResponse called twice without excInfo')
    }
    try {
      const { code, reason } = parseStatus(status)
      this.#pending = { code, reason, headers: checkHeaders(headers) }
      this.#invalid = undefined
    } catch (err) {
      this.#invalid = err
      throw err
    }
    return this.#write
  }

  /** SPEC §4.3: the legacy write(). Writes are queued behind each other and behind the head. */
  readonly #write: Write = (chunk) => {
    let next: Promise<void>
    if (this.#bodyDone) {
      next = Promise.reject(new TsgiError('ERR_INVALID_STATE', 'tsgi: write() called after the response ended'))
    } else {
      const bytes = toBytes(chunk, this.#encode)
      next = (this.#writes ?? Promise.resolve()).then(() => this.#emit(bytes))
      this.#writes = next.catch((err: unknown) => {
        this.#writeError ??= err
      })
    }
    // An app that does not await write() must not crash the process with an unhandled rejection.
    next.catch(NOOP)
    return next
  }

  /** An array body: its length is known. Synchronous as long as the sink is (the common case). */
  #sendArray(body: unknown[]): Promise<void> | undefined {
    const chunks = new Array<Uint8Array>(body.length)
    for (let i = 0; i < body.length; i++) chunks[i] = toBytes(body[i], this.#encode)
    if (this.#writes !== undefined) return this.#drainWrites().then(() => this.#sendChunks(chunks, 0, true))
    return this.#sendChunks(chunks, 0, true)
  }

  #sendChunks(chunks: Uint8Array[], from: number, first: boolean): Promise<void> | undefined {
    if (first && this.#sent === undefined && this.#bytes === 0) {
      let total = 0
      for (const chunk of chunks) total += chunk.byteLength
      const wait = this.#sendHead(total)
      if (wait !== undefined) return wait.then(() => this.#sendChunks(chunks, from, false))
    }
    for (let i = from; i < chunks.length; i++) {
      if (this.#suppress || this.#isAborted()) return undefined
      const wait = this.#emit(chunks[i]!)
      if (wait !== undefined) return wait.then(() => this.#sendChunks(chunks, i + 1, false))
    }
    return undefined
  }

  async #sendIterator(iterator: Iterator<Chunk> | AsyncIterator<Chunk>): Promise<void> {
    await this.#drainWrites()
    for (;;) {
      const next = iterator.next()
      const step = isPromise(next) ? await this.#raceAbort(next) : next
      if (step === ABORTED) throw ABORTED
      if (step.done) return
      const wait = this.#emit(toBytes(step.value, this.#encode))
      if (wait !== undefined) await wait
      // A HEAD/204/304 response needs nothing past the head: stop pulling (the body is closed below).
      if ((this.#sent !== undefined && this.#suppress) || this.#isAborted()) return
    }
  }

  #emit(bytes: Uint8Array): Promise<void> | undefined {
    if (bytes.byteLength === 0) return undefined
    if (this.#sent === undefined) {
      const wait = this.#sendHead(undefined)
      if (wait !== undefined) return wait.then(() => this.#emitBody(bytes))
    }
    return this.#emitBody(bytes)
  }

  #emitBody(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#suppress || this.#isAborted()) return undefined
    if (this.#declared !== undefined && this.#bytes + bytes.byteLength > this.#declared) {
      throw new TsgiError(
        'ERR_CONTENT_LENGTH_MISMATCH',
        `tsgi: app sent more than its Content-Length of ${this.#declared} bytes`,
      )
    }
    this.#bytes += bytes.byteLength
    return this.#sink.body(bytes) ?? undefined
  }

  /** Headers go out with the first non-empty chunk, or at the end for an empty body (SPEC §4.2). */
  #sendHead(knownLength: number | undefined): Promise<void> | undefined {
    const pending = this.#pending
    if (pending === undefined) {
      throw (
        this.#invalid ??
        new TsgiError('ERR_NO_START_RESPONSE', 'tsgi: the app returned a body without calling startResponse')
      )
    }
    const { code, reason } = pending
    const headers = pending.headers
    const method = this.#environ.REQUEST_METHOD
    this.#suppress = method === 'HEAD' || code === 204 || code === 304
    const declared = getHeader(headers, 'content-length')
    if (declared !== undefined) this.#declared = Number(declared)
    else if (knownLength !== undefined && code !== 204 && code !== 304) {
      // SPEC §5.2: a body of known chunks gets its length, so the client needs no chunking or close.
      headers.push(['Content-Length', String(knownLength)])
      if (method !== 'HEAD') this.#declared = knownLength
    }
    if (this.#maxHeaderBytes !== Infinity) this.#checkSize(pending)
    this.#sent = pending
    return this.#sink.head(code, reason, headers) ?? undefined
  }

  #checkSize({ code, reason, headers }: Pending): void {
    let size = `Status: ${code} ${reason}\r\n\r\n`.length
    for (const [name, value] of headers) size += name.length + value.length + 4
    if (size > this.#maxHeaderBytes) {
      throw new TsgiError(
        'ERR_HEADER_BLOCK_TOO_LARGE',
        `tsgi: response header block is ${size} bytes, over the limit of ${this.#maxHeaderBytes}`,
      )
    }
  }

  /** The body ended well: send a head for an empty body, check the length, end. Resolves with the error, if any. */
  async #finish(): Promise<unknown> {
    try {
      if (this.#writes !== undefined) await this.#drainWrites()
      const wait = this.#finishSync()
      if (wait !== undefined) await wait
      return undefined
    } catch (err) {
      return err
    }
  }

  /** #finish without pending write() calls: synchronous unless the sink makes it wait; throws on failure. */
  #finishSync(): Promise<void> | undefined {
    if (this.#sent === undefined) {
      const wait = this.#sendHead(this.#bytes === 0 ? 0 : undefined)
      if (wait !== undefined) return wait.then(() => this.#endSync())
    }
    return this.#endSync()
  }

  #endSync(): Promise<void> | undefined {
    if (this.#isAborted()) return undefined
    if (this.#declared !== undefined && !this.#suppress && this.#bytes < this.#declared) {
      throw new TsgiError(
        'ERR_CONTENT_LENGTH_MISMATCH',
        `tsgi: app sent ${this.#bytes} bytes, less than its Content-Length of ${this.#declared}`,
      )
    }
    return this.#sink.end() ?? undefined
  }

  /** An app failure: a 500 that hides the stack before headers, a visible abort after (SPEC §5.4). */
  async #fail(error: unknown): Promise<void> {
    this.#log(`tsgi: error in application ${this.#where()}: ${describeError(error)}`)
    if (this.#isAborted()) return
    try {
      if (this.#sent === undefined) await this.#sendError(error)
      else await this.#sink.abort(error)
    } catch (err) {
      this.#log(`tsgi: gateway failed while reporting an error: ${describeError(err)}`)
    }
  }

  async #sendError(error: unknown): Promise<void> {
    // Request-body errors carry their own status (400 short body, 413 too large); the rest is a 500.
    const code = error instanceof TsgiError && error.status >= 400 && error.status < 500 ? error.status : 500
    const reason = REASONS[code] ?? 'Error'
    const body = encoder.encode(`${reason}\n`)
    this.#pending = {
      code,
      reason,
      headers: [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Length', String(body.byteLength)],
      ],
    }
    this.#declared = undefined
    this.#suppress = false
    await this.#sendHead(undefined)
    if (!this.#suppress) {
      this.#bytes += body.byteLength
      await this.#sink.body(body)
    }
    await this.#sink.end()
  }

  /** SPEC §5.3: the body's return() is always called, exactly once. */
  async #close(iterator: Iterator<Chunk> | AsyncIterator<Chunk>): Promise<void> {
    if (typeof iterator.return !== 'function') return
    try {
      const closing = iterator.return()
      // After an abort the app may still be stuck in next(); do not wait for it (it is closed when it wakes).
      if (isPromise(closing)) {
        if (this.#isAborted())
          closing.then(NOOP, (err: unknown) => this.#log(`tsgi: error closing body: ${describeError(err)}`))
        else await closing
      }
    } catch (err) {
      this.#log(`tsgi: error closing body ${this.#where()}: ${describeError(err)}`)
    }
  }

  async #drainWrites(): Promise<void> {
    if (this.#writes !== undefined) await this.#writes
    if (this.#writeError !== undefined) throw this.#writeError
  }

  #raceAbort<T>(step: Promise<T>): Promise<T | typeof ABORTED> {
    const abort = this.#abort
    if (abort === undefined) return step
    if (abort.aborted) return Promise.resolve(ABORTED)
    this.#aborted ??= new Promise((resolve) => abort.onAbort(() => resolve(ABORTED)))
    return Promise.race([step, this.#aborted])
  }

  #isAborted(): boolean {
    return this.#abort?.aborted === true
  }

  #where(): string {
    const env = this.#environ
    return `(${env.REQUEST_METHOD} ${env.SCRIPT_NAME ?? ''}${env.PATH_INFO ?? ''})`
  }

  #log(message: string): void {
    try {
      this.#environ['tsgi.errors'].write(message.endsWith('\n') ? message : `${message}\n`)
    } catch {
      // A broken error stream must not turn one failed request into a crashed gateway.
    }
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  413: 'Content Too Large',
  500: 'Internal Server Error',
}
