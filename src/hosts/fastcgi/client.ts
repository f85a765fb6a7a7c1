// A FastCGI client (the web server's side, nginx's role) on the sans-IO WebServerConnection: pooled
// KEEP_CONN connections, optional multiplexing, streamed bodies both ways with backpressure, and
// ABORT_REQUEST on abort. Used by the tests, the benchmark and an HTTP front.
import { connect } from 'node:net'
import type { FastcgiRole } from '../../app.js'
import { TsgiError } from '../../errors.js'
import { parseListen } from '../../net/listen.js'
import { encodeParams, NEED_DATA, Role, type WebServerEvent } from '../../protocol/fastcgi/index.js'
import { ClientConnection } from './client-connection.js'
import { type BodySource, ClientExchange, type FastcgiResponse } from './client-exchange.js'
import { aborted, closedError, positive } from './errors.js'

export type { BodySource, EndStatus, FastcgiResponse } from './client-exchange.js'

export interface FastcgiClientOptions {
  /** `host:port` or a Unix socket path (`/path.sock`, `unix:/path.sock`). */
  address: string
  /** Send FCGI_KEEP_CONN and reuse connections (spec §5.1). Default true. */
  keepAlive?: boolean
  /** Run several requests at once on one connection (spec §3.3, §4.1 FCGI_MPXS_CONNS). Default false. */
  multiplex?: boolean
  /** Connections open at once; more requests wait for one. Default 64. */
  maxConnections?: number
  /** Requests at once on a multiplexed connection (keep it ≤ the responder's FCGI_MAX_REQS). Default 16. */
  maxRequestsPerConnection?: number
  /** Unread response bytes per request before the connection stops reading. Default 256 KiB. */
  highWaterMark?: number
  /** Largest response header block accepted. Default 64 KiB. */
  maxHeaderBytes?: number
}

export interface ClientRequestOptions {
  /** The CGI variables (spec §5.2). Pairs keep order and duplicates. */
  params: ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>
  /** STDIN. Chunks of an iterable are written as they come; do not modify them afterwards. */
  body?: BodySource
  /** The Filter role's DATA stream (spec §6.4). */
  data?: BodySource
  /** Default RESPONDER. An Authorizer request without body sends no STDIN, like mod_authnz_fcgi (F-25). */
  role?: FastcgiRole
  signal?: AbortSignal
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
const ROLES: Record<FastcgiRole, Role> = { RESPONDER: Role.Responder, AUTHORIZER: Role.Authorizer, FILTER: Role.Filter }

export class FastcgiClient {
  readonly #target: { path: string } | { host: string; port: number }
  readonly #keepAlive: boolean
  readonly #multiplex: boolean
  readonly #maxConnections: number
  readonly #perConnection: number
  readonly #hwm: number
  readonly #maxHeaderBytes: number
  readonly #connections = new Set<ClientConnection>()
  readonly #queue: ClientExchange[] = []
  #closed = false
  /** Counters for tests and benchmarks: connections opened, requests begun. */
  readonly stats = { connections: 0, requests: 0 }

  constructor(options: FastcgiClientOptions) {
    const spec = parseListen(options.address)
    if (spec.kind === 'fd')
      throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: a client cannot connect to ${options.address}`)
    this.#target = spec.kind === 'unix' ? { path: spec.path } : { host: spec.host, port: spec.port }
    this.#keepAlive = options.keepAlive ?? true
    this.#multiplex = options.multiplex ?? false
    this.#maxConnections = positive('maxConnections', options.maxConnections ?? 64)
    this.#perConnection = this.#multiplex
      ? positive('maxRequestsPerConnection', options.maxRequestsPerConnection ?? 16)
      : 1
    this.#hwm = positive('highWaterMark', options.highWaterMark ?? 256 * 1024)
    this.#maxHeaderBytes = positive('maxHeaderBytes', options.maxHeaderBytes ?? 64 * 1024)
  }

  /** Sends a request; resolves once the response head is parsed (the body streams after). */
  request(options: ClientRequestOptions): Promise<FastcgiResponse> {
    if (this.#closed) return Promise.reject(new TsgiError('ERR_INVALID_STATE', 'fcgi: client is closed'))
    const role = options.role ?? 'RESPONDER'
    if (!(role in ROLES))
      return Promise.reject(new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: unknown role ${String(role)}`))
    const pairs = (Array.isArray(options.params) ? options.params : Object.entries(options.params)) as ReadonlyArray<
      readonly [string, string]
    >
    let params: Uint8Array
    try {
      params = encodeParams(pairs) // once, before any connection is touched: bad params only fail this call
    } catch (err) {
      return Promise.reject(err)
    }
    const exchange = new ClientExchange({
      params,
      // Replaying is safe only for a method without side effects (RFC 9110 §9.2.2), and only when nothing came back.
      idempotent: IDEMPOTENT.has(pairs.findLast(([name]) => name === 'REQUEST_METHOD')?.[1] ?? 'GET'),
      role: ROLES[role],
      body: options.body,
      data: options.data,
      hwm: this.#hwm,
      maxHeaderBytes: this.#maxHeaderBytes,
      onPressure: (ex, paused) => this.#pressure(ex, paused),
      onCancel: (ex, error) => this.#abort(ex, error),
    })
    const signal = options.signal
    if (signal?.aborted) exchange.fail(aborted(signal))
    else {
      const onAbort = (): void => this.#abort(exchange, aborted(signal!))
      signal?.addEventListener('abort', onAbort, { once: true })
      void exchange.end.then(
        () => signal?.removeEventListener('abort', onAbort),
        () => signal?.removeEventListener('abort', onAbort),
      )
      this.#queue.push(exchange)
      this.#dispatch()
    }
    return exchange.response
  }

  /** GET_VALUES (spec §4.1): the values the application reports for `names`; unknown names are left out. */
  getValues(names: Iterable<string>): Promise<Record<string, string>> {
    if (this.#closed) return Promise.reject(new TsgiError('ERR_INVALID_STATE', 'fcgi: client is closed'))
    const connection = [...this.#connections].find((c) => !c.dead) ?? this.#open()
    return new Promise((resolve, reject) => {
      connection.proto.getValues(names)
      connection.valueWaiters.push({ resolve, reject })
      connection.flush()
    })
  }

  /** Stops: waiting requests fail, idle connections close, requests in flight finish first. */
  async close(): Promise<void> {
    this.#closed = true
    for (const exchange of this.#queue.splice(0)) exchange.fail(new TsgiError('ERR_ABORTED', 'fcgi: client closed'))
    const closing = [...this.#connections].map(
      (c) => new Promise<void>((resolve) => (c.socket.destroyed ? resolve() : c.socket.once('close', () => resolve()))),
    )
    for (const c of this.#connections) if (c.requests.size === 0) this.#retire(c)
    await Promise.all(closing)
  }

  /** Fails everything at once and closes every connection. */
  destroy(): void {
    this.#closed = true
    for (const exchange of this.#queue.splice(0)) exchange.fail(new TsgiError('ERR_ABORTED', 'fcgi: client destroyed'))
    for (const c of this.#connections) c.socket.destroy()
  }

  // --- scheduling ---

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const connection = this.#pick()
      if (connection === undefined) return
      this.#start(this.#queue.shift()!, connection)
    }
  }

  /** A connection with room for one more request (packing multiplexed ones), or a new one if allowed. */
  #pick(): ClientConnection | undefined {
    for (const c of this.#connections) {
      if (!c.dead && c.requests.size < this.#perConnection && (this.#keepAlive || c.begun === 0)) return c
    }
    return this.#connections.size < this.#maxConnections ? this.#open() : undefined
  }

  #start(exchange: ClientExchange, connection: ClientConnection): void {
    let id = 1
    while (connection.requests.has(id)) id++ // lowest free id; nginx and Apache always use 1 (URWEB)
    connection.requests.set(id, exchange)
    connection.begun++
    this.stats.requests++
    try {
      exchange.start(connection, id, this.#keepAlive)
    } catch (err) {
      // A connection that already failed: this request fails, the connection is dropped.
      connection.requests.delete(id)
      exchange.fail(err, true)
      connection.socket.destroy()
    }
  }

  #open(): ClientConnection {
    const socket = connect(this.#target)
    const connection = new ClientConnection(socket)
    this.#connections.add(connection)
    this.stats.connections++
    if ('port' in this.#target) socket.setNoDelay(true)
    socket.on('data', (chunk: Uint8Array) => this.#receive(connection, chunk))
    socket.on('end', () => this.#receive(connection, new Uint8Array(0)))
    socket.on('error', (err) => (connection.error ??= err))
    socket.on('close', () => this.#closedConnection(connection))
    return connection
  }

  // --- input from the application ---

  #receive(connection: ClientConnection, chunk: Uint8Array): void {
    if (connection.dead) return
    try {
      connection.proto.receiveData(chunk)
      for (let event = connection.proto.nextEvent(); event !== NEED_DATA; event = connection.proto.nextEvent()) {
        this.#handle(connection, event)
        if (event.type === 'closed') return
      }
    } catch (err) {
      // The application broke the protocol (a foreign id, output after END_REQUEST): this connection is done.
      connection.error = err
      connection.socket.destroy()
      return
    }
    connection.flush()
  }

  #handle(connection: ClientConnection, event: WebServerEvent): void {
    switch (event.type) {
      case 'stdout':
      case 'stdout-end':
      case 'stderr':
      case 'stderr-end':
        connection.requests.get(event.requestId)?.receive(event)
        return
      case 'end-request': {
        const exchange = connection.requests.get(event.requestId)
        connection.requests.delete(event.requestId)
        this.#pressure(exchange, false, connection)
        exchange?.finish(event.appStatus, event.protocolStatus)
        this.#release(connection)
        return
      }
      case 'values': {
        const pairs: Record<string, string> = {}
        for (const [name, value] of event.pairs) pairs[name] = value
        // Go sends an extra empty GET_VALUES_RESULT (V-24): with nobody waiting, it is dropped.
        connection.valueWaiters.shift()?.resolve(pairs)
        if (connection.requests.size === 0 && (!this.#keepAlive || this.#closed)) this.#retire(connection)
        return
      }
      case 'unknown-type':
        return
      case 'closed':
        // The application closed its side: nothing more can be sent or received on this connection.
        connection.dead = true
        this.#connections.delete(connection)
        this.#lost(connection, closedError(connection.error, event.midRecord))
        connection.socket.end()
        this.#dispatch()
    }
  }

  /** A request ended: the connection serves the next one, or closes (no KEEP_CONN: the app closes it too). */
  #release(connection: ClientConnection): void {
    if (connection.requests.size > 0) {
      this.#dispatch()
      return
    }
    if (!this.#keepAlive || this.#closed) this.#retire(connection)
    this.#dispatch()
  }

  #retire(connection: ClientConnection): void {
    if (connection.valueWaiters.length > 0) return
    connection.dead = true
    this.#connections.delete(connection)
    connection.socket.end()
  }

  #closedConnection(connection: ClientConnection): void {
    this.#lost(connection, closedError(connection.error, false))
    connection.dead = true
    connection.wake()
    this.#connections.delete(connection)
    this.#dispatch()
  }

  /** Requests on a lost connection fail; one that got nothing back on a reused connection is retried once. */
  #lost(connection: ClientConnection, error: TsgiError): void {
    for (const exchange of connection.requests.values()) {
      if (!this.#closed && connection.begun > 1 && exchange.retryable()) this.#queue.push(exchange)
      else exchange.fail(error, true)
    }
    connection.requests.clear()
    connection.pausedBy.clear()
    for (const waiter of connection.valueWaiters.splice(0)) waiter.reject(error)
  }

  // --- flow control and abort ---

  #pressure(
    exchange: ClientExchange | undefined,
    paused: boolean,
    connection = exchange?.connection as ClientConnection | undefined,
  ): void {
    if (exchange === undefined || connection === undefined) return
    if (paused) connection.pausedBy.add(exchange)
    else connection.pausedBy.delete(exchange)
    // FastCGI has no per-request flow control: a multiplexed connection pauses for its slowest reader.
    if (connection.pausedBy.size > 0) connection.socket.pause()
    else if (!connection.dead) connection.socket.resume()
  }

  /** ABORT_REQUEST (spec §5.4) for a begun request; the id stays taken until its END_REQUEST. */
  #abort(exchange: ClientExchange, error: unknown): void {
    const queued = this.#queue.indexOf(exchange)
    if (queued !== -1) this.#queue.splice(queued, 1)
    exchange.fail(error)
    this.#pressure(exchange, false)
    const connection = exchange.connection
    if (connection !== undefined && !connection.dead && connection.proto.isActive(exchange.id) && !exchange.abortSent) {
      exchange.abortSent = true
      connection.proto.abortRequest(exchange.id)
      connection.flush()
    }
  }
}
