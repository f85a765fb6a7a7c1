// The web-server side of a FastCGI connection (the client: nginx's role), sans-IO. Same contract
// as ApplicationConnection. It is strict, like nginx and Apache: a record for an id we did not
// begin, or output out of order, is a protocol error (nginx and Apache close the connection on one too).
import { TsgiError } from '../../errors.js'
import { ConnectionBase } from './base.js'
import { FLAG_KEEP_CONN, MAX_REQUEST_ID, RecordType, Role, recordTypeName } from './constants.js'
import type { WebServerEvent } from './events.js'
import { type Limits, resolveLimits } from './limits.js'
import { decodeParams, encodeParams } from './params.js'
import { decodeEndRequestBody, encodeBeginRequestBody, type Padding } from './record.js'

export interface WebServerOptions {
  /** Padding of our records (F-04). Default 'none'; 'align8' writes like nginx. */
  padding?: Padding
  /** Limits on GET_VALUES_RESULT replies. */
  limits?: Partial<Limits>
}

interface ClientRequest {
  requestId: number
  role: number
  keepConn: boolean
  paramsEnded: boolean
  stdinEnded: boolean
  dataEnded: boolean
  stdoutEnded: boolean
  stderrEnded: boolean
}

type Input = 'params' | 'stdin' | 'data'
const INPUT_TYPES = { params: RecordType.Params, stdin: RecordType.Stdin, data: RecordType.Data }

export class WebServerConnection extends ConnectionBase<WebServerEvent> {
  readonly limits: Readonly<Limits>
  readonly #requests = new Map<number, ClientRequest>()

  constructor(options: WebServerOptions = {}) {
    super(options.padding)
    this.limits = resolveLimits(options.limits)
  }

  /** True from beginRequest until the application's END_REQUEST. */
  isActive(requestId: number): boolean {
    return this.#requests.has(requestId)
  }

  get activeRequestCount(): number {
    return this.#requests.size
  }

  /** Send BEGIN_REQUEST (spec §5.1). The id must be 1..65535 and not active. */
  beginRequest(requestId: number, role: number = Role.Responder, keepConn = false): void {
    this.checkUsable()
    if (!Number.isInteger(requestId) || requestId < 1 || requestId > MAX_REQUEST_ID) {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid request id ${requestId}`)
    }
    if (this.#requests.has(requestId)) {
      throw new TsgiError('ERR_INVALID_STATE', `fcgi: request ${requestId} already active`)
    }
    const body = encodeBeginRequestBody(role, keepConn ? FLAG_KEEP_CONN : 0)
    this.outbox.record(RecordType.BeginRequest, requestId, body)
    this.#requests.set(requestId, {
      requestId,
      role,
      keepConn,
      paramsEnded: false,
      stdinEnded: false,
      dataEnded: false,
      stdoutEnded: false,
      stderrEnded: false,
    })
  }

  /** Send name-value pairs (or an already encoded block) as PARAMS records. */
  params(requestId: number, pairs: Iterable<readonly [string | Uint8Array, string | Uint8Array]> | Uint8Array): void {
    this.#open(requestId, 'params')
    const block = pairs instanceof Uint8Array ? pairs : encodeParams(pairs)
    this.outbox.stream(RecordType.Params, requestId, block)
  }

  endParams(requestId: number): void {
    this.#open(requestId, 'params').paramsEnded = true
    this.outbox.endStream(RecordType.Params, requestId)
  }

  /** Send request body bytes (after PARAMS ended, spec §6.2). */
  stdin(requestId: number, bytes: Uint8Array): void {
    this.#open(requestId, 'stdin')
    this.outbox.stream(RecordType.Stdin, requestId, bytes)
  }

  endStdin(requestId: number): void {
    this.#open(requestId, 'stdin').stdinEnded = true
    this.outbox.endStream(RecordType.Stdin, requestId)
  }

  /** Send the Filter role's file data (spec §6.4: after STDIN ended). */
  data(requestId: number, bytes: Uint8Array): void {
    this.#open(requestId, 'data')
    this.outbox.stream(RecordType.Data, requestId, bytes)
  }

  endData(requestId: number): void {
    this.#open(requestId, 'data').dataEnded = true
    this.outbox.endStream(RecordType.Data, requestId)
  }

  /** Send ABORT_REQUEST (spec §5.4); the request stays active until its END_REQUEST. */
  abortRequest(requestId: number): void {
    this.#active(requestId)
    this.outbox.record(RecordType.AbortRequest, requestId, new Uint8Array(0))
  }

  /** Send GET_VALUES for `names` (spec §4.1); the answer comes as a `values` event. */
  getValues(names: Iterable<string>): void {
    this.checkUsable()
    const block = encodeParams(Array.from(names, (name): [string, string] => [name, '']))
    if (block.length > 65535) {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: GET_VALUES query of ${block.length} bytes`)
    }
    this.outbox.record(RecordType.GetValues, 0, block)
  }

  protected override handleRecord(): WebServerEvent | undefined {
    const { type, requestId: id, content } = this.reader
    if (id === 0) {
      if (type === RecordType.GetValuesResult) {
        return { type: 'values', pairs: decodeParams(content, this.limits) }
      }
      if (type === RecordType.UnknownType) {
        checkBody(type, content)
        return { type: 'unknown-type', recordType: content[0]! }
      }
      throw unexpected(`fcgi: unexpected ${recordTypeName(type)} record with request id 0`)
    }
    const req = this.#requests.get(id)
    // A foreign or finished id: nginx answers 502 and Apache 503 ("Got bogus rid").
    if (req === undefined) throw unexpected(`fcgi: ${recordTypeName(type)} for inactive request ${id}`)
    switch (type) {
      case RecordType.Stdout:
      case RecordType.Stderr:
        return this.#output(req, type, content)
      case RecordType.EndRequest: {
        checkBody(type, content)
        this.#requests.delete(id)
        const { appStatus, protocolStatus } = decodeEndRequestBody(content)
        return { type: 'end-request', requestId: id, appStatus, protocolStatus }
      }
      default:
        throw unexpected(`fcgi: unexpected ${recordTypeName(type)} record for request ${id}`)
    }
  }

  protected override activeRequestIds(): number[] {
    return [...this.#requests.keys()]
  }

  protected override onError(): void {
    this.#requests.clear()
  }

  #output(req: ClientRequest, type: number, content: Uint8Array): WebServerEvent {
    const id = req.requestId
    const isStdout = type === RecordType.Stdout
    // F-17: the application writes only after PARAMS ended; a stream goes on only until its end.
    if (!req.paramsEnded || (isStdout ? req.stdoutEnded : req.stderrEnded)) {
      throw unexpected(`fcgi: unexpected ${recordTypeName(type)} record for request ${id}`)
    }
    if (content.length > 0) {
      return { type: isStdout ? 'stdout' : 'stderr', requestId: id, data: content }
    }
    if (isStdout) req.stdoutEnded = true
    else req.stderrEnded = true
    return { type: isStdout ? 'stdout-end' : 'stderr-end', requestId: id }
  }

  #active(requestId: number): ClientRequest {
    this.checkUsable()
    const req = this.#requests.get(requestId)
    if (req === undefined) {
      throw new TsgiError('ERR_INVALID_STATE', `fcgi: request ${requestId} not active`)
    }
    return req
  }

  /** The request, if the input stream `kind` may be written now (PARAMS, STDIN, DATA in order). */
  #open(requestId: number, kind: Input): ClientRequest {
    const req = this.#active(requestId)
    const ok =
      kind === 'params'
        ? !req.paramsEnded
        : kind === 'stdin'
          ? req.paramsEnded && !req.stdinEnded
          : req.role === Role.Filter && req.stdinEnded && !req.dataEnded
    if (!ok) {
      const name = recordTypeName(INPUT_TYPES[kind])
      throw new TsgiError('ERR_INVALID_STATE', `fcgi: cannot send ${name} for request ${requestId} now`)
    }
    return req
  }
}

function checkBody(type: number, content: Uint8Array): void {
  if (content.length !== 8) {
    const message = `fcgi: ${recordTypeName(type)} body of ${content.length} bytes`
    throw new TsgiError('ERR_FCGI_BAD_RECORD', message)
  }
}

function unexpected(message: string): TsgiError {
  return new TsgiError('ERR_FCGI_UNEXPECTED_RECORD', message)
}
