// One request of the FastCGI client: sends BEGIN/PARAMS/STDIN/DATA (bodies pumped with write
// backpressure), parses the CGI response head from STDOUT (RFC 3875 §6), streams the body, and
// settles at END_REQUEST (spec §5.5).
import type { Socket } from 'node:net'
import { TsgiError } from '../../errors.js'
import { parseCgiHead } from '../../protocol/cgi/parse.js'
import { ProtocolStatus, Role, type WebServerConnection } from '../../protocol/fastcgi/index.js'
import { BodyQueue } from './body-queue.js'
import { badHead, refused } from './errors.js'

export type BodySource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export interface EndStatus {
  /** What a CGI program would have exited with (spec §5.5, F-23). */
  appStatus: number
  /** REQUEST_COMPLETE (0), CANT_MPX_CONN (1), OVERLOADED (2) or UNKNOWN_ROLE (3). */
  protocolStatus: number
}

export interface FastcgiResponse {
  /** From `Status:`; 302 for a client redirect without one; else 200 (see parseCgiHead). */
  status: number
  reason: string
  /** Header lines in order, `Status` left out; repeated names kept (Set-Cookie). */
  headers: Array<[string, string]>
  /** STDOUT after the head, streamed: iterate once (text() and bytes() iterate it). */
  body: AsyncIterable<Uint8Array>
  /** STDERR as UTF-8, complete at END_REQUEST. */
  stderr: Promise<string>
  /** END_REQUEST; rejects when the connection is lost first. */
  end: Promise<EndStatus>
  text(): Promise<string>
  bytes(): Promise<Uint8Array>
}

/** What a ClientExchange needs from its connection. */
export interface ClientExchangeConnection {
  readonly proto: WebServerConnection
  readonly socket: Socket
  readonly dead: boolean
  flush(): boolean
  drained(): Promise<void>
}

export interface ClientExchangeInit {
  /** The encoded PARAMS block (spec §3.4). */
  params: Uint8Array
  /** The request may be sent again if its connection is lost before any answer. */
  idempotent: boolean
  role: Role
  body: BodySource | undefined
  data: BodySource | undefined
  hwm: number
  maxHeaderBytes: number
  onPressure(exchange: ClientExchange, paused: boolean): void
  onCancel(exchange: ClientExchange, error: unknown): void
}

const NOOP = (): void => {}
const STDERR_CAP = 1024 * 1024

export class ClientExchange {
  connection: ClientExchangeConnection | undefined
  id = 0
  abortSent = false
  readonly response: Promise<FastcgiResponse>
  readonly end: Promise<EndStatus>
  readonly stderr: Promise<string>
  #resolveResponse!: (response: FastcgiResponse) => void
  #rejectResponse!: (error: unknown) => void
  #resolveEnd!: (status: EndStatus) => void
  #rejectEnd!: (error: unknown) => void
  #resolveStderr!: (text: string) => void
  #head: Uint8Array | undefined = new Uint8Array(0)
  #received = 0
  #stderr = ''
  readonly #decoder = new TextDecoder()
  readonly #body: BodyQueue
  #settled = false
  #error: unknown

  constructor(readonly init: ClientExchangeInit) {
    this.response = new Promise((resolve, reject) => {
      this.#resolveResponse = resolve
      this.#rejectResponse = reject
    })
    this.end = new Promise((resolve, reject) => {
      this.#resolveEnd = resolve
      this.#rejectEnd = reject
    })
    this.stderr = new Promise<string>((resolve) => {
      this.#resolveStderr = resolve
    })
    this.#body = new BodyQueue(
      init.hwm,
      (paused) => init.onPressure(this, paused),
      (error) => init.onCancel(this, error),
    )
    // Callers often ignore `end` and `stderr`: their rejections must not crash the process.
    this.end.catch(NOOP)
    this.response.catch(NOOP)
  }

  /** True when nothing came back yet and the request can be sent again as it was (a reused connection lost). */
  retryable(): boolean {
    const replayable = (source: BodySource | undefined) => source === undefined || source instanceof Uint8Array
    return (
      this.init.idempotent &&
      this.#received === 0 &&
      !this.#settled &&
      replayable(this.init.body) &&
      replayable(this.init.data)
    )
  }

  /** Sends the request on `connection` as `id`. */
  start(connection: ClientExchangeConnection, id: number, keepConn: boolean): void {
    this.connection = connection
    this.id = id
    this.abortSent = false
    const { proto } = connection
    const { role, body, data } = this.init
    proto.beginRequest(id, role, keepConn)
    proto.params(id, this.init.params)
    proto.endParams(id)
    // F-25: mod_authnz_fcgi and lighttpd send an Authorizer no STDIN at all; we do the same without a body.
    const sendStdin = body !== undefined || role !== Role.Authorizer
    const syncData = role === Role.Filter ? data : undefined
    if (sendStdin && isSync(body) && isSync(syncData)) {
      writeAll(proto, id, body, 'stdin')
      if (role === Role.Filter) writeAll(proto, id, syncData, 'data')
      connection.flush()
      return
    }
    connection.flush()
    if (sendStdin) void this.#pump(body, 'stdin').then((ok) => ok && role === Role.Filter && this.#pump(data, 'data'))
  }

  /** STDOUT and STDERR records of this request. */
  receive(event: { type: 'stdout' | 'stderr'; data: Uint8Array } | { type: 'stdout-end' | 'stderr-end' }): void {
    if (event.type === 'stderr') {
      if (this.#stderr.length < STDERR_CAP) this.#stderr += this.#decoder.decode(event.data, { stream: true })
    } else if (event.type === 'stdout') {
      this.#received += event.data.length
      if (this.#head === undefined) this.#body.push(event.data)
      else this.#headBytes(event.data)
    } else if (event.type === 'stdout-end') {
      if (this.#head !== undefined) this.fail(badHead('the response ended before its header block'))
      else this.#body.end()
    }
  }

  /** END_REQUEST arrived: the request is over and its id free. */
  finish(appStatus: number, protocolStatus: number): void {
    if (this.#settled) return
    if (this.#head !== undefined) {
      // Refused in-protocol (spec §5.5), or an application that answered nothing: no response to give.
      this.#failResponse(
        protocolStatus === ProtocolStatus.RequestComplete
          ? badHead('END_REQUEST before any header block')
          : refused(this.id, protocolStatus),
      )
    }
    this.#body.end() // END_REQUEST without an empty STDOUT record still ends the body
    this.#settle({ appStatus, protocolStatus })
  }

  /**
   * The request failed (aborted, bad head, connection lost): the response and body fail now; `end`
   * waits for the END_REQUEST of a request still active, unless `final` (its connection is gone).
   */
  fail(error: unknown, final = false): void {
    if (this.#settled) return
    this.#failResponse(error)
    const c = this.connection
    if (final || this.id === 0 || c === undefined || c.dead || !c.proto.isActive(this.id))
      this.#settle(undefined, error)
  }

  #failResponse(error: unknown): void {
    this.#error ??= error
    this.#rejectResponse(error)
    this.#body.fail(error)
  }

  #settle(status: EndStatus | undefined, error?: unknown): void {
    this.#settled = true
    this.#resolveStderr(this.#stderr)
    if (status !== undefined) this.#resolveEnd(status)
    else this.#rejectEnd(error)
  }

  #headBytes(data: Uint8Array): void {
    const head = concat(this.#head!, data)
    const parsed = parseCgiHead(head)
    if (parsed === undefined) {
      if (head.length > this.init.maxHeaderBytes) {
        this.init.onCancel(
          this,
          badHead(`response header block over ${this.init.maxHeaderBytes} bytes`, 'ERR_HEADER_BLOCK_TOO_LARGE'),
        )
      } else this.#head = head
      return
    }
    if (parsed instanceof TsgiError) {
      this.init.onCancel(this, parsed)
      return
    }
    this.#head = undefined
    const body = this.#body
    if (parsed.bodyStart < head.length) body.push(head.subarray(parsed.bodyStart))
    this.#resolveResponse({
      status: parsed.status,
      reason: parsed.reason,
      headers: parsed.headers,
      body,
      stderr: this.stderr,
      end: this.end,
      text: async () => new TextDecoder().decode(await body.bytes()),
      bytes: () => body.bytes(),
    })
  }

  /** Streams an iterable as STDIN or DATA, waiting for 'drain' (write backpressure). False when stopped. */
  async #pump(source: BodySource | undefined, kind: 'stdin' | 'data'): Promise<boolean> {
    const connection = this.connection!
    const id = this.id
    const live = (): boolean => !connection.dead && connection.proto.isActive(id) && this.#error === undefined
    try {
      // A Uint8Array is one chunk (iterating it would give numbers).
      const chunks = source instanceof Uint8Array ? [source] : (source ?? [])
      for await (const chunk of chunks) {
        if (!live()) return false
        if (chunk.length === 0) continue
        kind === 'stdin' ? connection.proto.stdin(id, chunk) : connection.proto.data(id, chunk)
        if (!connection.flush()) await connection.drained()
      }
      if (!live()) return false
      kind === 'stdin' ? connection.proto.endStdin(id) : connection.proto.endData(id)
      connection.flush()
      return true
    } catch (err) {
      this.init.onCancel(this, err)
      return false
    }
  }
}

function isSync(source: BodySource | undefined): source is Uint8Array | undefined {
  return source === undefined || source instanceof Uint8Array
}

function writeAll(
  proto: WebServerConnection,
  id: number,
  source: Uint8Array | undefined,
  kind: 'stdin' | 'data',
): void {
  if (kind === 'stdin') {
    if (source !== undefined) proto.stdin(id, source)
    proto.endStdin(id)
  } else {
    if (source !== undefined) proto.data(id, source)
    proto.endData(id)
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
