// The response engine every gateway shares (wsgiref's BaseHandler): runs an App, enforces the
// startResponse rules (SPEC §4), sends and always closes the body (SPEC §5), and turns app errors
// into a 500. Gateways supply only the I/O, through a ResponseSink. Pure: no node:* imports.
import type { App, Chunk, Environ, HeaderList, StartResponse, Write } from '../app.js'
import { TsgiError } from '../errors.js'
import { type AbortState, abortStateOf } from './abort.js'
import { describeError, isPromise, openBody, toBytes } from './body.js'
import { callApp } from './call.js'
import { checkHeaders, getHeader, headerBlockSize, parseStatus } from './headers.js'
import { reasonPhrase } from './http.js'

/**
 * The I/O half a gateway implements. Calls arrive in order: head, body*, then end or abort. A method
 * may return a promise to make the engine wait (backpressure); returning nothing means "go on".
 */
export interface ResponseSink {
  /** Status and validated headers, at most once, before any body byte. */
  head(status: number, reason: string, headers: HeaderList): void | Promise<void>
  /** Body bytes: never empty, never for HEAD/204/304. */
  body(chunk: Uint8Array): void | Promise<void>
  /** The response is complete. */
  end(): void | Promise<void>
  /** The response failed after head() was called: the gateway must make the failure visible. */
  abort(error: unknown): void | Promise<void>
}

export interface RunOptions {
  /** Largest header block (sum of `Name: value\r\n` lines) accepted from the app; default unlimited. */
  maxHeaderBytes?: number
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

/** Runs `app` for one request and drives `sink`. Never rejects: a failure is in the result. */
export function runApp(app: App, environ: Environ, sink: ResponseSink, options: RunOptions = {}): Promise<RunResult> {
  return new Run(environ, sink, options).run(app)
}

interface Head {
  code: number
  reason: string
  headers: HeaderList
}

/** Thrown inside a run when the client left while the app was producing its body. */
const ABORTED = Symbol('aborted')
const NOOP = (): void => {}

class Run {
  readonly #environ: Environ
  readonly #sink: ResponseSink
  readonly #maxHeaderBytes: number
  readonly #abort: AbortState | undefined
  /** From startResponse, until sent. */
  #pending: Head | undefined
  /** The error of the last startResponse call, re-thrown if the app sends a body anyway. */
  #invalid: unknown
  #sent: Head | undefined
  /** HEAD, 204 or 304: the head goes out, the body does not (SPEC §5.5). */
  #bodyless = false
  /** The Content-Length the app declared (or the engine computed): the byte count must match it. */
  #declared: number | undefined
  #bytes = 0
  /** Queue of the legacy write() calls (SPEC §4.3), and the first failure among them. */
  #writes: Promise<void> | undefined
  #writeError: unknown
  #bodyDone = false
  /** Settles when the client leaves, for racing an async body. */
  #leaving: Promise<typeof ABORTED> | undefined

  constructor(environ: Environ, sink: ResponseSink, options: RunOptions) {
    this.#environ = environ
    this.#sink = sink
    this.#maxHeaderBytes = options.maxHeaderBytes ?? Number.POSITIVE_INFINITY
    this.#abort = abortStateOf(environ)
  }

  /**
   * The whole request, top to bottom: call, send, finish; on failure report; always close. The steps
   * return a promise only when they must wait, and only then is it awaited: an array body on a sink
   * that never waits runs without a microtask per step (docs/performance.md, "The engine's awaits").
   */
  async run(app: App): Promise<RunResult> {
    let iterator: Iterator<Chunk> | AsyncIterator<Chunk> | undefined
    let error: unknown
    try {
      let body = callApp(app, this.#environ, this.startResponse)
      if (isPromise(body)) body = await body
      if (Array.isArray(body)) {
        const wait = this.#sendArray(body)
        if (wait !== undefined) await wait
      } else {
        iterator = openBody(body)
        await this.#sendIterator(iterator)
      }
      this.#bodyDone = true
      const wait = this.#finish()
      if (wait !== undefined) await wait
    } catch (err) {
      error = err
    }
    this.#bodyDone = true
    if (error !== undefined && error !== ABORTED) await this.#fail(error)
    if (iterator !== undefined) await this.#close(iterator)
    const result: RunResult = { status: this.#sent?.code ?? 0, bytes: this.#bytes, aborted: this.#aborted() }
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

  /** SPEC §4.3: the legacy write(). Writes queue behind each other and behind the head. */
  readonly #write: Write = (chunk) => {
    let next: Promise<void>
    if (this.#bodyDone) {
      next = Promise.reject(new TsgiError('ERR_INVALID_STATE', 'tsgi: write() called after the response ended'))
    } else {
      const bytes = toBytes(chunk)
      next = (this.#writes ?? Promise.resolve()).then(() => this.#emit(bytes))
      this.#writes = next.catch((err: unknown) => {
        this.#writeError ??= err
      })
    }
    // An app that does not await write() must not crash the process with an unhandled rejection.
    next.catch(NOOP)
    return next
  }

  /** An array body: every chunk is known, so the head carries its Content-Length (SPEC §5.2). */
  #sendArray(body: unknown[]): Promise<void> | undefined {
    const chunks = body.map(toBytes)
    if (this.#writes !== undefined) return this.#drainWrites().then(() => this.#sendKnown(chunks))
    return this.#sendKnown(chunks)
  }

  #sendKnown(chunks: Uint8Array[]): Promise<void> | undefined {
    // Unless write() already sent bytes (then the length is not known).
    if (this.#sent === undefined && this.#bytes === 0) {
      let total = 0
      for (const chunk of chunks) total += chunk.byteLength
      const wait = this.#sendHead(total)
      if (wait !== undefined) return wait.then(() => this.#sendChunks(chunks, 0))
    }
    return this.#sendChunks(chunks, 0)
  }

  #sendChunks(chunks: Uint8Array[], from: number): Promise<void> | undefined {
    for (let i = from; i < chunks.length; i++) {
      if (this.#bodyless || this.#aborted()) return undefined
      const wait = this.#emit(chunks[i]!)
      if (wait !== undefined) return wait.then(() => this.#sendChunks(chunks, i + 1))
    }
    return undefined
  }

  /** Any other iterable: pulled one chunk at a time, and no further once the client left. */
  async #sendIterator(iterator: Iterator<Chunk> | AsyncIterator<Chunk>): Promise<void> {
    if (this.#writes !== undefined) await this.#drainWrites()
    for (;;) {
      const next = iterator.next()
      const step = isPromise(next) ? await this.#raceAbort(next) : next
      if (step === ABORTED) throw ABORTED
      if (step.done) return
      const wait = this.#emit(toBytes(step.value))
      if (wait !== undefined) await wait
      // A HEAD/204/304 response needs nothing past the head: stop pulling (the body is closed after).
      if ((this.#sent !== undefined && this.#bodyless) || this.#aborted()) return
    }
  }

  /** One chunk out; the head goes with the first non-empty one (SPEC §4.2). */
  #emit(bytes: Uint8Array): Promise<void> | undefined {
    if (bytes.byteLength === 0) return undefined
    if (this.#sent === undefined) {
      const wait = this.#sendHead(undefined)
      if (wait !== undefined) return wait.then(() => this.#emitBody(bytes))
    }
    return this.#emitBody(bytes)
  }

  #emitBody(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#bodyless || this.#aborted()) return undefined
    if (this.#declared !== undefined && this.#bytes + bytes.byteLength > this.#declared) {
      const message = `tsgi: app sent more than its Content-Length of ${this.#declared} bytes`
      throw new TsgiError('ERR_CONTENT_LENGTH_MISMATCH', message)
    }
    this.#bytes += bytes.byteLength
    return this.#sink.body(bytes) ?? undefined
  }

  /** Sends the pending head; `knownLength` adds a Content-Length when the app gave none (SPEC §5.2). */
  #sendHead(knownLength: number | undefined): Promise<void> | undefined {
    const head = this.#pending
    if (head === undefined) {
      const message = 'tsgi: the app returned a body without calling startResponse'
      throw this.#invalid ?? new TsgiError('ERR_NO_START_RESPONSE', message)
    }
    const { code, headers } = head
    const method = this.#environ.REQUEST_METHOD
    this.#bodyless = method === 'HEAD' || code === 204 || code === 304
    const declared = getHeader(headers, 'content-length')
    if (declared !== undefined) this.#declared = Number(declared)
    // For HEAD, an empty body says nothing of the GET's length (SPEC §5.2, RFC 9110 §9.3.2).
    else if (knownLength !== undefined && code !== 204 && code !== 304 && !(method === 'HEAD' && knownLength === 0)) {
      headers.push(['Content-Length', String(knownLength)])
      if (method !== 'HEAD') this.#declared = knownLength
    }
    const size = this.#maxHeaderBytes === Number.POSITIVE_INFINITY ? 0 : headerBlockSize(code, head.reason, headers)
    if (size > this.#maxHeaderBytes) {
      const message = `tsgi: response header block is ${size} bytes, over the limit of ${this.#maxHeaderBytes}`
      throw new TsgiError('ERR_HEADER_BLOCK_TOO_LARGE', message)
    }
    this.#sent = head
    return this.#sink.head(code, head.reason, headers) ?? undefined
  }

  /** The body ended well: wait for write()s, send a head for an empty body, check the length, end. */
  #finish(): Promise<void> | undefined {
    if (this.#writes !== undefined) return this.#drainWrites().then(() => this.#finishAfterWrites())
    return this.#finishAfterWrites()
  }

  #finishAfterWrites(): Promise<void> | undefined {
    if (this.#aborted()) return undefined
    const wait = this.#sent === undefined ? this.#sendHead(this.#bytes === 0 ? 0 : undefined) : undefined
    return wait === undefined ? this.#end() : wait.then(() => this.#end())
  }

  #end(): Promise<void> | undefined {
    if (this.#aborted()) return undefined
    if (this.#declared !== undefined && !this.#bodyless && this.#bytes < this.#declared) {
      const message = `tsgi: app sent ${this.#bytes} bytes, less than its Content-Length of ${this.#declared}`
      throw new TsgiError('ERR_CONTENT_LENGTH_MISMATCH', message)
    }
    return this.#sink.end() ?? undefined
  }

  /** An app failure: a 500 that hides the stack before the head, a visible abort after (SPEC §5.4). */
  async #fail(error: unknown): Promise<void> {
    this.#log(`tsgi: error in application ${this.#where()}: ${describeError(error)}`)
    if (this.#aborted()) return
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
    const reason = reasonPhrase(code)
    const body = toBytes(`${reason}\n`)
    const headers: HeaderList = [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(body.byteLength)],
    ]
    this.#pending = { code, reason, headers }
    this.#declared = undefined
    await this.#sendHead(undefined)
    if (!this.#bodyless) {
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
      if (!isPromise(closing)) return
      // After an abort the app may still be stuck in next(): do not wait (it is closed when it wakes).
      if (!this.#aborted()) await closing
      else closing.then(NOOP, (err: unknown) => this.#log(`tsgi: error closing body: ${describeError(err)}`))
    } catch (err) {
      this.#log(`tsgi: error closing body ${this.#where()}: ${describeError(err)}`)
    }
  }

  async #drainWrites(): Promise<void> {
    await this.#writes
    if (this.#writeError !== undefined) throw this.#writeError
  }

  #raceAbort<T>(step: Promise<T>): Promise<T | typeof ABORTED> {
    const abort = this.#abort
    if (abort === undefined) return step
    if (abort.aborted) return Promise.resolve(ABORTED)
    this.#leaving ??= new Promise((resolve) => abort.onAbort(() => resolve(ABORTED)))
    return Promise.race([step, this.#leaving])
  }

  #aborted(): boolean {
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
