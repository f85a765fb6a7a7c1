// One request of the FastCGI client: sends BEGIN/PARAMS/STDIN/DATA (bodies pumped with write
// backpressure), parses the CGI response head from STDOUT (RFC 3875 §6), streams the body, and
// settles at END_REQUEST (spec §5.5).
import type { Socket } from 'node:net'
import { TsgiError } from '../errors.js'
import { ProtocolStatus, Role, type WebServerConnection } from './protocol/index.js'

export type BodySource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export interface EndStatus {
  /** What a CGI program would have exited with (spec §5.5, F-23). */
  appStatus: number
  /** REQUEST_COMPLETE (0), CANT_MPX_CONN (1), OVERLOADED (2) or UNKNOWN_ROLE (3). */
  protocolStatus: number
}

export interface FastcgiResponse {
  /** From `Status:`; 302 for a client redirect without one; else 200 (see parseHead). */
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

/** What an Exchange needs from its connection. */
export interface ExchangeConnection {
  readonly proto: WebServerConnection
  readonly socket: Socket
  readonly dead: boolean
  flush(): boolean
  drained(): Promise<void>
}

export interface ExchangeInit {
  params: ReadonlyArray<readonly [string, string]>
  role: Role
  body: BodySource | undefined
  data: BodySource | undefined
  hwm: number
  maxHeaderBytes: number
  onPressure(exchange: Exchange, paused: boolean): void
  onCancel(exchange: Exchange, error: unknown): void
}

const NOOP = (): void => {}
const STDERR_CAP = 1024 * 1024

export class Exchange {
  connection: ExchangeConnection | undefined
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

  constructor(readonly init: ExchangeInit) {
    this.response = new Promise((resolve, reject) => ((this.#resolveResponse = resolve), (this.#rejectResponse = reject)))
    this.end = new Promise((resolve, reject) => ((this.#resolveEnd = resolve), (this.#rejectEnd = reject)))
    this.stderr = new Promise<string>((resolve) => (this.#resolveStderr = resolve))
    this.#body = new BodyQueue(init.hwm, (paused) => init.onPressure(this, paused), (error) => init.onCancel(this, error))
    // Callers often ignore `end` and `stderr`: their rejections must not crash the process.
    this.end.catch(NOOP)
    this.response.catch(NOOP)
  }

  /** True when nothing came back yet and the request can be sent again as it was (reused connection lost). */
  retryable(): boolean {
    const replayable = (source: BodySource | undefined) => source === undefined || source instanceof Uint8Array
    return this.#received === 0 && !this.#settled && replayable(this.init.body) && replayable(this.init.data)
  }

  /** Sends the request on `connection` as `id`. */
  start(connection: ExchangeConnection, id: number, keepConn: boolean): void {
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
      this.#failResponse(protocolStatus === ProtocolStatus.RequestComplete ? badHead('END_REQUEST before any header block') : refused(this.id, protocolStatus))
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
    if (final || this.id === 0 || c === undefined || c.dead || !c.proto.isActive(this.id)) this.#settle(undefined, error)
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
    const parsed = parseHead(head)
    if (parsed === undefined) {
      if (head.length > this.init.maxHeaderBytes) {
        this.init.onCancel(this, badHead(`response header block over ${this.init.maxHeaderBytes} bytes`, 'ERR_HEADER_BLOCK_TOO_LARGE'))
      } else this.#head = head
      return
    }
    if (parsed instanceof TsgiError) return this.init.onCancel(this, parsed)
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

/** The response body: a queue the connection pushes into and one consumer pulls from. */
class BodyQueue implements AsyncIterable<Uint8Array> {
  #chunks: Uint8Array[] = []
  #buffered = 0
  #paused = false
  #ended = false
  #error: unknown
  #taken = false
  #wake: (() => void) | undefined

  constructor(
    readonly hwm: number,
    readonly onPressure: (paused: boolean) => void,
    readonly onCancel: (error: unknown) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.#ended || this.#error !== undefined) return
    this.#chunks.push(chunk)
    this.#buffered += chunk.length
    if (!this.#paused && this.#buffered > this.hwm) this.#setPaused(true)
    this.#signal()
  }

  end(): void {
    this.#ended = true
    this.#signal()
  }

  fail(error: unknown): void {
    if (this.#ended || this.#error !== undefined) return
    this.#error = error // chunks already here are still read first
    if (this.#paused) this.#setPaused(false)
    this.#signal()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.#taken) throw new TsgiError('ERR_BODY_CONSUMED', 'fcgi: the response body was already read')
    this.#taken = true
    let done = false
    try {
      for (;;) {
        const chunk = this.#chunks.shift()
        if (chunk !== undefined) {
          this.#buffered -= chunk.length
          if (this.#paused && this.#buffered <= this.hwm / 2) this.#setPaused(false)
          yield chunk
          continue
        }
        if (this.#error !== undefined) throw this.#error
        if (this.#ended) return void (done = true)
        await new Promise<void>((resolve) => (this.#wake = resolve))
      }
    } finally {
      // The consumer stopped early (break, return): the rest is not wanted, abort the request.
      if (!done && this.#error === undefined) this.onCancel(new TsgiError('ERR_ABORTED', 'fcgi: response body abandoned'))
    }
  }

  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    for await (const chunk of this) parts.push(chunk)
    return concatAll(parts)
  }

  #setPaused(paused: boolean): void {
    this.#paused = paused
    this.onPressure(paused)
  }

  #signal(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

interface Head {
  status: number
  reason: string
  headers: Array<[string, string]>
  bodyStart: number
}

/**
 * Parses a CGI response head (RFC 3875 §6.2, §6.3): lines end in LF or CRLF (§7 lets servers take
 * both), and a blank line ends the block. Undefined while incomplete. Status is `Status:` when given.
 * Without it, a Location is a redirect: an abs-path (`/x`) is a local redirect (§6.2.2), which only
 * the web server can carry out by serving that path instead, so it is reported as status 200 with its
 * `Location` header for the caller to re-dispatch; any other Location is a client redirect, for
 * which the server MUST answer 302 (§6.2.3). Otherwise 200 (§6.3.3).
 */
export function parseHead(bytes: Uint8Array): Head | TsgiError | undefined {
  let lineStart = 0
  const lines: string[] = []
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, lineStart)) {
    const end = i > lineStart && bytes[i - 1] === 13 ? i - 1 : i
    if (end === lineStart) return buildHead(lines, i + 1)
    lines.push(Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, end - lineStart).toString('latin1'))
    lineStart = i + 1
  }
  return undefined
}

function buildHead(lines: string[], bodyStart: number): Head | TsgiError {
  if (lines.length === 0) return badHead('empty response header block')
  const headers: Array<[string, string]> = []
  let status: string | undefined
  let location: string | undefined
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0 || /\s/.test(line[colon - 1]!)) return badHead(`bad response header line ${JSON.stringify(line)}`)
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).trim()
    const lower = name.toLowerCase()
    if (lower === 'status') {
      if (status !== undefined) return badHead('two Status header lines')
      status = value
      continue
    }
    if (lower === 'location') location = value
    headers.push([name, value])
  }
  if (status === undefined) {
    const local = location !== undefined && location.startsWith('/') && !location.startsWith('//')
    return location === undefined || local
      ? { status: 200, reason: 'OK', headers, bodyStart }
      : { status: 302, reason: 'Found', headers, bodyStart }
  }
  const match = /^([1-5][0-9][0-9])(?:\s+(.*))?$/.exec(status)
  if (!match) return badHead(`bad Status header ${JSON.stringify(status)}`)
  return { status: Number(match[1]), reason: match[2] ?? '', headers, bodyStart }
}

function badHead(message: string, code: 'ERR_BAD_HEADER' | 'ERR_HEADER_BLOCK_TOO_LARGE' = 'ERR_BAD_HEADER'): TsgiError {
  return new TsgiError(code, `fcgi: ${message}`, { status: 502 })
}

const STATUS_NAMES = ['REQUEST_COMPLETE', 'CANT_MPX_CONN', 'OVERLOADED', 'UNKNOWN_ROLE']

function refused(id: number, protocolStatus: number): TsgiError {
  const name = STATUS_NAMES[protocolStatus] ?? `protocol status ${protocolStatus}`
  // OVERLOADED and CANT_MPX_CONN mean "try later / elsewhere": 503, like a busy upstream.
  const status = protocolStatus === ProtocolStatus.UnknownRole ? 502 : 503
  return new TsgiError('ERR_FCGI_REFUSED', `fcgi: request ${id} refused: ${name}`, { status })
}

function isSync(source: BodySource | undefined): source is Uint8Array | undefined {
  return source === undefined || source instanceof Uint8Array
}

function writeAll(proto: WebServerConnection, id: number, source: Uint8Array | undefined, kind: 'stdin' | 'data'): void {
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

function concatAll(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!
  let total = 0
  for (const part of parts) total += part.length
  const out = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
