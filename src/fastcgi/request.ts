// One FastCGI request on the responder: PARAMS to environ (the very builder the CGI adapter uses),
// STDIN/DATA into tsgi.input / tsgi.fastcgi.data, and the engine's response out as STDOUT records.
import type { App, ErrorStream, FastcgiRole, HeaderList } from '../app.js'
import { buildEnviron, contentLengthOf } from '../cgi/environ.js'
import { encodeLatin1, formatCgiHead } from '../cgi/response.js'
import { runApp, type ResponseSink, type RunResult } from '../core/engine.js'
import { BodyInput } from '../core/input.js'
import { TsgiError } from '../errors.js'
import { MAX_CONTENT_LENGTH, Role, type RequestEvent } from './protocol/index.js'
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

export class FastcgiRequest {
  readonly id: number
  readonly keepConn: boolean
  readonly controller = new AbortController()
  input: BodyInput | undefined
  data: BodyInput | undefined
  #failed = false

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
    let environ
    try {
      environ = buildEnviron(this.event.params, {
        // FastCGI spec §6.3: an Authorizer gets no STDIN (mod_authnz_fcgi and lighttpd send none, F-25).
        input: (length) => (this.input = role === 'AUTHORIZER' ? BodyInput.empty() : this.#makeInput(length)),
        errors: this.#errors,
        signal: this.controller.signal,
        multithread: false,
        multiprocess: false,
        runOnce: false,
        fastcgiRole: role,
        fastcgiData: role === 'FILTER' ? (this.data = this.#makeData()) : undefined,
        extras: { 'tsgi.fastcgi.connection_id': this.host.connectionId },
      })
    } catch (err) {
      // No usable environ (no REQUEST_METHOD, bad CONTENT_LENGTH): answer without the app.
      return this.#reject(err)
    }
    const declared = this.input?.expected
    if (declared !== undefined && declared > options.maxBodyBytes) {
      return this.#reject(new TsgiError('ERR_BODY_TOO_LARGE', `fcgi: CONTENT_LENGTH ${declared} is over the limit of ${options.maxBodyBytes}`, { status: 413 }))
    }
    return runApp(app, environ, this.#sink, { maxHeaderBytes: options.maxHeaderBytes })
  }

  /** ABORT_REQUEST (spec §5.4) or a lost connection: tsgi.signal fires, the input fails. */
  abort(reason: string): void {
    if (this.controller.signal.aborted) return
    const error = new TsgiError('ERR_ABORTED', `fcgi: ${reason}`)
    this.controller.abort(error)
    this.input?.fail(error)
    this.data?.fail(error)
  }

  get failed(): boolean {
    return this.#failed
  }

  #makeInput(length: number | undefined): BodyInput {
    const { options } = this.host
    const multiplexed = options.multiplex
    return new BodyInput({
      expectedLength: length,
      limit: options.maxBodyBytes,
      // Multiplexed: never pause the shared socket for one request; it may buffer up to its own cap.
      highWaterMark: multiplexed ? options.multiplexBufferBytes : 64 * 1024,
      onPause: () => this.host.pauseInput(this),
      onResume: () => this.host.resumeInput(this),
    })
  }

  #makeData(): BodyInput {
    // FastCGI spec §6.4: FCGI_DATA_LENGTH is the DATA stream's CONTENT_LENGTH.
    const pair = this.event.params.findLast(([name]) => name === 'FCGI_DATA_LENGTH')
    return new BodyInput({ expectedLength: contentLengthOf(pair?.[1]), limit: this.host.options.maxBodyBytes })
  }

  /** tsgi.errors: STDERR records while the request lives (spec §6.1), then the responder log. */
  readonly #errors: ErrorStream = {
    write: (message: string) => {
      if (!this.host.stderr(this.id, encoder.encode(message))) this.host.options.log(message)
      else void this.host.flush()
    },
  }

  readonly #sink: ResponseSink = {
    head: (status: number, reason: string, headers: HeaderList) => {
      // Held until the first body chunk or the end: the header block and the start of the body then
      // leave in ONE STDOUT record. mod_authnz_fcgi keeps only the body bytes of the record that ends
      // the headers (a denial's body is lost otherwise), and OpenBSD httpd reads headers from the first
      // record only. A small response leaves in one write with its END_REQUEST.
      this.#head = encodeLatin1(formatCgiHead(status, reason, headers, { localRedirect: this.host.options.localRedirect }))
    },
    body: (chunk: Uint8Array) => {
      if (!this.host.stdout(this.id, this.#withHead(chunk))) return
      return this.host.flush()
    },
    end: () => {
      this.#flushHead()
    },
    abort: () => {
      this.#flushHead()
      this.#failed = true
      this.host.fail(this)
    },
  }

  #head: Uint8Array | undefined

  /** The held header block joined with as much of `chunk` as fits one record (65535 bytes). */
  #withHead(chunk: Uint8Array): Uint8Array {
    const head = this.#head
    if (head === undefined) return chunk
    this.#head = undefined
    const room = Math.max(0, MAX_CONTENT_LENGTH - head.length)
    const joined = new Uint8Array(head.length + Math.min(room, chunk.length))
    joined.set(head)
    joined.set(chunk.subarray(0, room), head.length)
    if (chunk.length > room) this.host.stdout(this.id, joined) // the rest follows as its own records
    return chunk.length > room ? chunk.subarray(room) : joined
  }

  #flushHead(): void {
    if (this.#head === undefined) return
    this.host.stdout(this.id, this.#head)
    this.#head = undefined
  }

  async #reject(error: unknown): Promise<RunResult> {
    const status = error instanceof TsgiError && error.status >= 400 ? error.status : 500
    const reason = status === 413 ? 'Content Too Large' : status === 400 ? 'Bad Request' : 'Internal Server Error'
    this.#errors.write(`${error instanceof Error ? error.message : String(error)}\n`)
    const text = `${reason}\n`
    this.#sink.head(status, reason, [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(text.length)],
    ])
    this.host.stdout(this.id, this.#withHead(encoder.encode(text)))
    return { status, bytes: text.length, error, aborted: false }
  }
}
