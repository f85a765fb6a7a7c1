// The application side of a FastCGI connection (the responder), sans-IO: the web server's bytes in,
// events out, our records into an outbox. Protocol contract, h11 style:
//  1. receiveData(bytes) queues bytes (an empty array is EOF); nextEvent() returns one event or
//     NEED_DATA; after NEED_DATA the caller writes takeOutput() (in-protocol replies go there).
//  2. nextEvent() throws only TsgiError ERR_FCGI_* (the peer broke the protocol: close the
//     connection); the senders throw ERR_INVALID_STATE / ERR_INVALID_ARGUMENT on our own misuse.
//  3. After EOF, nextEvent() returns the same `closed` event on every call: stop draining there.
//  4. Policies, each with its spec section, are in the comments of handleRecord and #begin below.
import { TsgiError } from '../../errors.js'
import { ConnectionBase } from './base.js'
import { FLAG_KEEP_CONN, ProtocolStatus, RecordType, Role, recordTypeName } from './constants.js'
import type { ApplicationEvent, RequestEvent } from './events.js'
import { type Limits, resolveLimits } from './limits.js'
import { decodeParams, ParamsDecoder } from './params.js'
import { checkEndRequest, encodeUnknownTypeBody, type Padding } from './record.js'
import { Slots } from './slots.js'
import { NameHints } from './text.js'
import { answerGetValues, configuredValues } from './values.js'

export interface ApplicationOptions {
  /** Serve several requests at once on one connection (FCGI_MPXS_CONNS=1). Default false. */
  multiplex?: boolean
  /** Roles served; a BEGIN with another role gets UNKNOWN_ROLE (F-13). Default: all three. */
  roles?: readonly Role[]
  limits?: Partial<Limits>
  /** Padding of our records (F-04). Default 'none'. */
  padding?: Padding
  /** Reported as FCGI_MAX_CONNS in GET_VALUES replies when set (F-29); left out otherwise. */
  maxConns?: number
  /** Reported as FCGI_MAX_REQS when set (F-29); left out otherwise. */
  maxReqs?: number
}

/** What the responder may ask about an active request. */
export interface RequestInfo {
  readonly requestId: number
  readonly role: Role
  readonly keepConn: boolean
  readonly aborted: boolean
  readonly stdinEnded: boolean
  readonly dataEnded: boolean
  readonly stdoutEnded: boolean
}

interface RequestState {
  requestId: number
  role: Role
  keepConn: boolean
  /** Present while PARAMS is still streaming; the request event clears it (F-17). */
  params: ParamsDecoder | undefined
  aborted: boolean
  stdinEnded: boolean
  dataEnded: boolean
  stdoutEnded: boolean
  stderrUsed: boolean
  stderrEnded: boolean
}

export class ApplicationConnection extends ConnectionBase<ApplicationEvent> {
  readonly limits: Readonly<Limits>
  readonly #requests = new Slots<RequestState>()
  /** Names of the last PARAMS block, by position (ParamsDecoder compares with them first). */
  readonly #names = new NameHints()
  readonly #maxActive: number
  readonly #multiplex: boolean
  readonly #roles: readonly boolean[]
  readonly #values: ReadonlyMap<string, string>
  #closeWhenIdle = false

  constructor(options: ApplicationOptions = {}) {
    super(options.padding)
    this.limits = resolveLimits(options.limits)
    this.#multiplex = options.multiplex === true
    this.#maxActive = this.#multiplex ? this.limits.maxConcurrentRequests : 1
    const roles = options.roles ?? [Role.Responder, Role.Authorizer, Role.Filter]
    this.#roles = [1, 2, 3].map((role) => roles.includes(role as Role))
    this.#values = configuredValues(this.#multiplex, options.maxConns, options.maxReqs)
  }

  /** True from the request event until our END_REQUEST: the id may be written to. */
  isActive(requestId: number): boolean {
    const req = this.#requests.get(requestId)
    return req !== undefined && req.params === undefined
  }

  /** The state of an active request, or undefined. */
  request(requestId: number): RequestInfo | undefined {
    const req = this.#requests.get(requestId)
    return req !== undefined && req.params === undefined ? req : undefined
  }

  /** Requests begun and not yet ended (including those still receiving PARAMS). */
  get activeRequestCount(): number {
    return this.#requests.size
  }

  /**
   * True when the connection should be closed now: after a protocol error, or once no request is
   * active if one ended without FCGI_KEEP_CONN ("the application closes the connection after
   * responding to this request", spec §5.1, F-14).
   */
  get shouldClose(): boolean {
    return this.error !== undefined || (this.#closeWhenIdle && this.#requests.size === 0)
  }

  /**
   * Append STDOUT records (split at 65535 bytes); empty bytes send nothing (F-06). Like
   * socket.write, payloads of 4 KiB or more are referenced, not copied: leave them unchanged
   * until the arrays from takeOutput() are written.
   */
  stdout(requestId: number, bytes: Uint8Array): void {
    const req = this.#sendable(requestId)
    if (req.stdoutEnded) throw notActive(requestId, 'STDOUT ended')
    this.outbox.stream(RecordType.Stdout, requestId, bytes)
  }

  /** End the STDOUT stream with its empty record. */
  endStdout(requestId: number): void {
    const req = this.#sendable(requestId)
    if (req.stdoutEnded) throw notActive(requestId, 'STDOUT ended')
    this.outbox.endStream(RecordType.Stdout, requestId)
    req.stdoutEnded = true
  }

  /** Append STDERR records; STDOUT and STDERR may interleave (spec §6.1). */
  stderr(requestId: number, bytes: Uint8Array): void {
    const req = this.#sendable(requestId)
    if (req.stderrEnded) throw notActive(requestId, 'STDERR ended')
    if (bytes.length > 0) req.stderrUsed = true
    this.outbox.stream(RecordType.Stderr, requestId, bytes)
  }

  /** End the STDERR stream (optional when it was never used, spec §6.1). */
  endStderr(requestId: number): void {
    const req = this.#sendable(requestId)
    if (req.stderrEnded) throw notActive(requestId, 'STDERR ended')
    this.outbox.endStream(RecordType.Stderr, requestId)
    req.stderrEnded = true
  }

  /**
   * End the request (spec §5.5): streams still open are ended first (STDOUT always, STDERR if
   * used: F-20), then END_REQUEST, always last (F-22). The id is inactive afterwards (F-07).
   */
  endRequest(requestId: number, appStatus = 0, protocolStatus: number = ProtocolStatus.RequestComplete): void {
    const req = this.#sendable(requestId)
    checkEndRequest(appStatus, protocolStatus)
    if (!req.stdoutEnded) this.outbox.endStream(RecordType.Stdout, requestId)
    if (req.stderrUsed && !req.stderrEnded) this.outbox.endStream(RecordType.Stderr, requestId)
    this.#finish(req, appStatus, protocolStatus)
  }

  /**
   * An empty GET_VALUES_RESULT (a management record, no request's: F-22 holds) right after the last
   * END_REQUEST of a kept connection the application is about to close (F-33): bytes after END_REQUEST tell
   * nginx not to keep the connection for another request, which it would otherwise send into the close.
   */
  closingNotice(): void {
    this.outbox.record(RecordType.GetValuesResult, 0, new Uint8Array(0))
  }

  protected override handleRecord(): ApplicationEvent | undefined {
    const { type, requestId: id, content } = this.reader
    if (id === 0) return this.#management(type, content)
    if (type === RecordType.BeginRequest) return this.#begin(id, content)
    const req = this.#requests.get(id)
    // Spec §3.3 "Managing Request IDs": records for an inactive id are ignored (F-07, S-09).
    if (req === undefined) return undefined
    switch (type) {
      case RecordType.Params:
        return this.#params(req, content)
      case RecordType.Stdin:
        return this.#stream(req, content, 'stdin')
      case RecordType.Data:
        // DATA only exists for the Filter role (spec §6.4); like fcgiwrap, others ignore it.
        return req.role === Role.Filter ? this.#stream(req, content, 'data') : undefined
      case RecordType.AbortRequest:
        return this.#abort(req)
      default:
        // F-11 policy: a type we do not take on an active id (unknown, or one only we send) is
        // answered UNKNOWN_TYPE as Go does; the request goes on (spec §4.2 applied to app records).
        this.outbox.record(RecordType.UnknownType, 0, encodeUnknownTypeBody(type))
        return undefined
    }
  }

  protected override activeRequestIds(): number[] {
    const ids: number[] = []
    for (const req of this.#requests.values()) if (req.params === undefined) ids.push(req.requestId)
    return ids
  }

  protected override onError(): void {
    this.#requests.clear()
  }

  /** Records with request id 0 (spec §4). */
  #management(type: number, content: Uint8Array): undefined {
    if (type === RecordType.GetValues) {
      // Spec §4.1, F-09: the library answers, from configured values; unknown names left out.
      const reply = answerGetValues(this.#values, decodeParams(content, this.limits))
      this.outbox.record(RecordType.GetValuesResult, 0, reply)
      return undefined
    }
    if (type === RecordType.BeginRequest) {
      // F-08: id 0 is reserved for management records; libfcgi calls this a protocol error.
      throw new TsgiError('ERR_FCGI_BAD_RECORD', 'fcgi: BEGIN_REQUEST with request id 0')
    }
    // Spec §4.2, F-10: any other type on id 0 is an unknown management type.
    this.outbox.record(RecordType.UnknownType, 0, encodeUnknownTypeBody(type))
    return undefined
  }

  #begin(id: number, body: Uint8Array): ApplicationEvent | undefined {
    if (body.length !== 8) {
      // F-12: the body is exactly 8 bytes (spec §5.1); libfcgi calls anything else an error.
      throw new TsgiError('ERR_FCGI_BAD_RECORD', `fcgi: BEGIN_REQUEST body of ${body.length} bytes`)
    }
    if (this.#requests.has(id)) {
      // F-15, S-09: a BEGIN for an id already active is an error; Go closes the connection.
      throw new TsgiError('ERR_FCGI_DUPLICATE_REQUEST', `fcgi: BEGIN_REQUEST for active request ${id}`)
    }
    const role = (body[0]! << 8) | body[1]!
    const keepConn = (body[2]! & FLAG_KEEP_CONN) !== 0
    // Refusals are answered in-protocol and the id stays inactive, so the table never holds more
    // than #maxActive entries whatever ids the peer uses (S-09, S-14).
    let refusal: ProtocolStatus | undefined
    if (this.#requests.size >= this.#maxActive) {
      // F-15 (V-23) without multiplexing, F-16 (V-20) past maxConcurrentRequests with it.
      refusal = this.#multiplex ? ProtocolStatus.Overloaded : ProtocolStatus.CantMpxConn
    } else if (!this.#roles[role - 1]) {
      refusal = ProtocolStatus.UnknownRole // F-13, V-21 (spec §5.5, as Go; libfcgi just closes)
    }
    if (refusal !== undefined) {
      this.outbox.endRequest(id, 0, refusal)
      if (!keepConn) this.#closeWhenIdle = true
      return { type: 'rejected', requestId: id, role, keepConn, protocolStatus: refusal }
    }
    this.#requests.set(id, {
      requestId: id,
      role: role as Role,
      keepConn,
      params: new ParamsDecoder(this.limits, this.#names),
      aborted: false,
      stdinEnded: false,
      dataEnded: false,
      stdoutEnded: false,
      stderrUsed: false,
      stderrEnded: false,
    })
    return undefined
  }

  #params(req: RequestState, content: Uint8Array): RequestEvent | undefined {
    const decoder = req.params
    if (decoder === undefined) return undefined // PARAMS after its end: ignored (S-07)
    if (content.length > 0) {
      decoder.push(content)
      return undefined
    }
    const params = decoder.end()
    req.params = undefined
    return { type: 'request', requestId: req.requestId, role: req.role, keepConn: req.keepConn, params }
  }

  #stream(req: RequestState, content: Uint8Array, kind: 'stdin' | 'data'): ApplicationEvent | undefined {
    if (req.params !== undefined) {
      // Spec §6.2 orders PARAMS before the input streams; libfcgi treats this as a protocol error.
      const name = recordTypeName(kind === 'stdin' ? RecordType.Stdin : RecordType.Data)
      const message = `fcgi: ${name} before PARAMS ended for request ${req.requestId}`
      throw new TsgiError('ERR_FCGI_UNEXPECTED_RECORD', message)
    }
    // Input after its end or after an abort is ignored (S-10, S-07).
    if (req.aborted) return undefined
    if (kind === 'stdin') {
      if (req.stdinEnded) return undefined
      if (content.length > 0) return { type: 'stdin', requestId: req.requestId, data: content }
      req.stdinEnded = true
      return { type: 'stdin-end', requestId: req.requestId }
    }
    if (req.dataEnded) return undefined
    if (content.length > 0) return { type: 'data', requestId: req.requestId, data: content }
    req.dataEnded = true
    return { type: 'data-end', requestId: req.requestId }
  }

  #abort(req: RequestState): ApplicationEvent | undefined {
    if (req.aborted) return undefined
    if (req.params !== undefined) {
      // Aborted before the app saw it: answer for it (spec §5.4: END_REQUEST, REQUEST_COMPLETE).
      this.#finish(req, 0, ProtocolStatus.RequestComplete)
      return { type: 'abort', requestId: req.requestId, ended: true }
    }
    req.aborted = true
    return { type: 'abort', requestId: req.requestId, ended: false }
  }

  #finish(req: RequestState, appStatus: number, protocolStatus: number): void {
    this.outbox.endRequest(req.requestId, appStatus, protocolStatus)
    this.#requests.delete(req.requestId)
    if (!req.keepConn) this.#closeWhenIdle = true
  }

  /** The request, if our records may go out for it (never a foreign id, never after END). */
  #sendable(requestId: number): RequestState {
    this.checkUsable()
    const req = this.#requests.get(requestId)
    if (req === undefined || req.params !== undefined) throw notActive(requestId, 'not active')
    return req
  }
}

function notActive(requestId: number, why: string): TsgiError {
  return new TsgiError('ERR_INVALID_STATE', `fcgi: request ${requestId} ${why}`)
}
