// One FastCGI request on the responder: PARAMS to environ (the very builder the CGI adapter uses),
// STDIN/DATA into tsgi.input / tsgi.fastcgi.data, and the engine's response out as STDOUT records.
import type { App, Environ, ErrorStream, FastcgiRole, HeaderList } from '../../app.js'
import { RequestAbort } from '../../core/abort.js'
import { type ResponseSink, type RunResult, runApp } from '../../core/engine.js'
import { reasonPhrase } from '../../core/http.js'
import { BodyInput } from '../../core/input.js'
import { TsgiError } from '../../errors.js'
import { buildEnviron, contentLengthOf } from '../../protocol/cgi/environ.js'
import { formatCgiHead } from '../../protocol/cgi/head.js'
import { MAX_CONTENT_LENGTH, type RequestEvent, Role } from '../../protocol/fastcgi/index.js'
import { type ErrorsRoute, errorsRoute } from './errors-route.js'
import type { ResolvedOptions } from './options.js'

/** What a request needs from its connection: the I/O, kept behind a narrow seam. */
export interface RequestHost {
  readonly options: ResolvedOptions
  readonly connectionId: number
  /** Queue STDOUT/STDERR bytes for this id; false when the id can no longer be written. */
  stdout(requestId: number, bytes: Uint8Array): boolean
  stderr(requestId: number, bytes: Uint8Array): boolean
  /** Flush queued records; resolves when the socket can take more (write backpressure). */
  flush(): Promise<void> | undefined
  /** Stop or restart reading the socket for this request's input (backpressure). */
  pauseInput(request: FastcgiRequest): void
  resumeInput(request: FastcgiRequest): void
  /** The response failed after its head: make it visible to the web server. */
  fail(request: FastcgiRequest): void
}

const ROLE_NAMES: Record<number, FastcgiRole> = {
  [Role.Responder]: 'RESPONDER',
  [Role.Authorizer]: 'AUTHORIZER',
  [Role.Filter]: 'FILTER',
}

const encoder = new TextEncoder()
const EXTRAS_KEY = 'tsgi.fastcgi.connection_id'

/** tsgi.errors for one request: STDERR records while it lives (spec §6.1), then the responder log (F-34). */
class StderrStream implements ErrorStream {
  constructor(readonly request: FastcgiRequest) {}

  write(message: string): void {
    const { host, id } = this.request
    if (this.request.errorsToLog() || !host.stderr(id, encoder.encode(message))) host.options.log(message)
    else void host.flush()
  }
}

/** One request; it is also the engine's ResponseSink (methods, not per-request closures: this is hot). */
export class FastcgiRequest implements ResponseSink {
  readonly id: number
  readonly keepConn: boolean
  readonly abortState = new RequestAbort()
  /** What options.meter returned at the start, for its end(). */
  meterToken: unknown = undefined
  input: BodyInput | undefined
  data: BodyInput | undefined
  #failed = false
  #head: Buffer | undefined
  /** tsgi.errors, also where the responder explains an answer it gives for the app. */
  readonly #errors: ErrorStream = new StderrStream(this)
  /** The response has begun (a head from the app, or one the responder sent for it). */
  #started = false
  /** Cancelled because it left too much STDIN unread on a multiplexed connection. */
  overflowed = false
  /** Where tsgi.errors goes for the web server in front (F-34). */
  #errorsRoute: ErrorsRoute = 'records'

  constructor(
    readonly host: RequestHost,
    readonly event: RequestEvent,
  ) {
    this.id = event.requestId
    this.keepConn = event.keepConn
  }

  /** Runs the app; resolves with the engine's result (the connection then ends the request). */
  run(app: App): Promise<RunResult> {
    const { options } = this.host
    const role = ROLE_NAMES[this.event.role] ?? 'RESPONDER'
    let environ: Environ
    try {
      if (role === 'FILTER') this.data = this.#makeData()
      environ = buildEnviron(this.event.params, {
        // FastCGI spec §6.3: an Authorizer gets no STDIN (mod_authnz_fcgi and lighttpd send none, F-25).
        input: (length) => {
          this.input = role === 'AUTHORIZER' ? BodyInput.empty() : this.#makeInput(length)
          return this.input
        },
        errors: this.#errors,
        signal: this.abortState,
        multithread: false,
        multiprocess: true, // mod_fcgid and lighttpd max-procs run several responders (SPEC §7)
        runOnce: false,
        fastcgiRole: role,
        fastcgiData: this.data,
      })
    } catch (err) {
      // No usable environ (no REQUEST_METHOD, bad CONTENT_LENGTH): answer without the app.
      return Promise.resolve(this.#reject(err))
    }
    ;(environ as Record<string, unknown>)[EXTRAS_KEY] = this.host.connectionId
    this.#errorsRoute = errorsRoute(environ.SERVER_SOFTWARE)
    const declared = this.input?.expected
    if (declared !== undefined && declared > options.maxBodyBytes) {
      const error = new TsgiError(
        'ERR_BODY_TOO_LARGE',
        `fcgi: CONTENT_LENGTH ${declared} is over the limit of ${options.maxBodyBytes}`,
        { status: 413 },
      )
      return Promise.resolve(this.#reject(error))
    }
    return runApp(app, environ, this, { maxHeaderBytes: options.maxHeaderBytes })
  }

  /** ABORT_REQUEST (spec §5.4) or a lost connection: tsgi.signal fires, the input fails. */
  cancel(reason: string): void {
    if (this.abortState.aborted) return
    const error = new TsgiError('ERR_ABORTED', `fcgi: ${reason}`)
    this.abortState.abort(error)
    this.input?.fail(error)
    this.data?.fail(error)
  }

  get failed(): boolean {
    return this.#failed
  }

  /** tsgi.errors goes to the responder's log instead of STDERR records now (F-34). */
  errorsToLog(): boolean {
    return this.#errorsRoute === 'log' || (this.#errorsRoute === 'log-after-head' && this.#started)
  }

  // --- ResponseSink ---

  head(status: number, reason: string, headers: HeaderList): void {
    if (this.#started) return // the responder already answered for this request
    this.#started = true
    // Held until the first body chunk or the end: the header block and the start of the body then
    // leave in ONE STDOUT record. mod_authnz_fcgi keeps only the body bytes of the record that ends
    // the headers (a denial's body is lost otherwise), and OpenBSD httpd reads headers from the first
    // record only. A small response leaves in one write with its END_REQUEST.
    const text = formatCgiHead(status, reason, headers, { localRedirect: this.host.options.localRedirect })
    this.#head = Buffer.from(text, 'latin1') // header values are ISO-8859-1 (RFC 9110 §5.5), checked by the engine
  }

  body(chunk: Uint8Array): Promise<void> | undefined {
    if (!this.host.stdout(this.id, this.#withHead(chunk))) return undefined
    return this.host.flush()
  }

  end(): void {
    this.#flushHead()
  }

  abort(): void {
    this.#flushHead()
    this.#failed = true
    this.host.fail(this)
  }

  #makeInput(length: number | undefined): BodyInput {
    const { options } = this.host
    return new BodyInput({
      expectedLength: length,
      limit: options.maxBodyBytes,
      // Multiplexed: never pause the shared socket for one request; it may buffer up to its own cap.
      highWaterMark: options.multiplex ? options.multiplexBufferBytes : 64 * 1024,
      onPause: () => this.host.pauseInput(this),
      onResume: () => this.host.resumeInput(this),
    })
  }

  #makeData(): BodyInput {
    // FastCGI spec §6.4: FCGI_DATA_LENGTH is the DATA stream's CONTENT_LENGTH.
    const pair = this.event.params.findLast(([name]) => name === 'FCGI_DATA_LENGTH')
    return new BodyInput({ expectedLength: contentLengthOf(pair?.[1]), limit: this.host.options.maxBodyBytes })
  }

  /** The held header block joined with as much of `chunk` as fits one record (65535 bytes). */
  #withHead(chunk: Uint8Array): Uint8Array {
    const head = this.#head
    if (head === undefined) return chunk
    this.#head = undefined
    const room = Math.max(0, MAX_CONTENT_LENGTH - head.length)
    const take = Math.min(room, chunk.length)
    const joined = Buffer.allocUnsafe(head.length + take)
    joined.set(head)
    joined.set(take === chunk.length ? chunk : chunk.subarray(0, take), head.length)
    if (chunk.length === take) return joined
    this.host.stdout(this.id, joined) // the rest follows as its own records
    return chunk.subarray(take)
  }

  #flushHead(): void {
    if (this.#head === undefined) return
    this.host.stdout(this.id, this.#head)
    this.#head = undefined
  }

  #reject(error: unknown): RunResult {
    const status = error instanceof TsgiError && error.status >= 400 ? error.status : 500
    this.#errors.write(`${error instanceof Error ? error.message : String(error)}\n`)
    const bytes = this.#answer(status)
    return { status, bytes, error, aborted: false }
  }

  /**
   * Answers for the app when it has not begun a response itself (F-20: the web server is still
   * waiting and needs a header block); false when it had. The app's own head is ignored afterwards.
   */
  answerFor(status: number, message: string): boolean {
    if (this.#started) return false
    this.#errors.write(`${message}\n`)
    this.#answer(status)
    return true
  }

  #answer(status: number): number {
    const reason = reasonPhrase(status)
    const text = `${reason}\n`
    this.head(status, reason, [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(text.length)],
    ])
    this.host.stdout(this.id, this.#withHead(encoder.encode(text)))
    return text.length
  }
}
