// One web-server connection on the responder: socket bytes into the sans-IO ApplicationConnection,
// its events into requests, their records back out in few writes, with backpressure both ways.
import type { Socket } from 'node:net'
import type { App } from '../../app.js'
import type { RunResult } from '../../core/engine.js'
import { SocketOutput } from '../../net/socket-output.js'
import { ApplicationConnection, type ApplicationEvent, NEED_DATA, Role } from '../../protocol/fastcgi/index.js'
import { Slots } from '../../protocol/fastcgi/slots.js'
import { Deadline } from './deadline.js'
import type { ResolvedOptions } from './options.js'
import { FastcgiRequest, type RequestHost } from './request.js'

const ROLES = { RESPONDER: Role.Responder, AUTHORIZER: Role.Authorizer, FILTER: Role.Filter } as const
/** Past this much queued output, write now instead of at the end of the tick. */
const FLUSH_NOW_BYTES = 64 * 1024
/** How long an idle kept connection of a process being replaced waits for a request before closing anyway. */
const LINGER_IDLE_MS = 2000

interface RequestSlot {
  request: FastcgiRequest
  draining: boolean
  drained: number
  /** Set while the responder drains this request's unread STDIN. */
  onStdinEnd: (() => void) | undefined
}

/** The result of a run that threw instead of answering (the engine never does; a gateway bug might). */
const crashed = (error: unknown): RunResult => ({ status: 0, bytes: 0, error, aborted: false })

export class ResponderConnection implements RequestHost {
  readonly proto: ApplicationConnection
  readonly #slots = new Slots<RequestSlot>()
  readonly #pausedBy = new Set<FastcgiRequest>()
  readonly #output: SocketOutput
  readonly #deadline: Deadline
  #dead = false
  #closing = false
  served = 0

  constructor(
    readonly socket: Socket,
    readonly app: App,
    readonly options: ResolvedOptions,
    readonly connectionId: number,
  ) {
    this.proto = new ApplicationConnection({
      multiplex: options.multiplex,
      roles: options.roles.map((role) => ROLES[role]),
      limits: { ...options.limits, maxConcurrentRequests: options.maxRequestsPerConnection },
      maxConns: options.maxConnections,
      maxReqs: options.multiplex ? options.maxRequestsPerConnection : 1,
    })
    this.#deadline = new Deadline(
      options,
      (message) => this.destroy(message),
      (kind) => kind === 'input' && this.#pausedBy.size > 0,
    )
    const ms = options.sendTimeoutMs
    this.#output = new SocketOutput(socket, this.proto, {
      onTurnEnd: () => this.#writeOut(),
      stall: { ms, onStall: () => this.destroy(`the web server read nothing for ${ms} ms`) },
    })
    socket.on('data', (chunk: Uint8Array) => this.#receive(chunk))
    socket.on('end', () => this.#receive(new Uint8Array(0)))
    // EPIPE / ECONNRESET: the web server went away; 'close' follows and cleans up.
    socket.on('error', () => {})
    socket.on('close', () => this.#teardown('connection closed by the web server'))
    this.#armIdle()
  }

  get activeRequests(): number {
    return this.#slots.size
  }

  /**
   * Graceful stop: finish what runs, then close. `lingerIdle`: an idle kept connection stays open until its
   * next request is answered, or LINGER_IDLE_MS (another process serves the socket now: nginx resends a GET
   * that meets a closing connection, never a POST, so the close should come right after an answer).
   */
  shutdown(lingerIdle = false): void {
    this.#closing = true
    if (this.#slots.size > 0) return
    if (!lingerIdle) {
      this.#end()
      return
    }
    // nginx reuses its most recent connections first: one still idle after this is rarely picked at the
    // instant it closes, and requests on the busy ones end with their answers (O-03).
    const timer = setTimeout(() => this.#slots.size === 0 && this.#end(), LINGER_IDLE_MS)
    timer.unref()
  }

  /** Close now. Also cuts a connection already closing whose peer stopped reading (shutdown deadline). */
  destroy(reason: string): void {
    const dead = this.#dead
    if (!dead) this.options.log(`fcgi: closing connection ${this.connectionId}: ${reason}`)
    this.socket.destroy()
    if (!dead) this.#teardown(reason)
  }

  // --- RequestHost: what a request may ask of its connection ---

  stdout(requestId: number, bytes: Uint8Array): boolean {
    return this.#queue(requestId, bytes, 'stdout')
  }

  stderr(requestId: number, bytes: Uint8Array): boolean {
    return this.#queue(requestId, bytes, 'stderr')
  }

  flush(): Promise<void> | undefined {
    if (this.proto.outputSize >= FLUSH_NOW_BYTES) this.#writeOut()
    else this.#output.schedule()
    return this.#dead ? undefined : this.#output.whenWritable()
  }

  pauseInput(request: FastcgiRequest): void {
    if (this.options.multiplex) {
      // A multiplexed connection is shared: one request that stops reading must not stall the others.
      // It is cancelled (tsgi.signal), and the web server, still waiting, gets a 503 unless the app had
      // begun its response (then appStatus 1 marks it failed, #finish).
      const reason = `request ${request.id} left more than ${this.options.multiplexBufferBytes} bytes of STDIN unread`
      this.options.log(`fcgi: connection ${this.connectionId}: ${reason}`)
      request.overflowed = true
      request.cancel(reason)
      if (request.answerFor(503, `fcgi: ${reason}`)) this.#output.schedule()
      return
    }
    this.#pausedBy.add(request)
    this.socket.pause()
  }

  resumeInput(request: FastcgiRequest): void {
    if (this.#pausedBy.delete(request) && this.#pausedBy.size === 0 && !this.#dead) this.socket.resume()
  }

  fail(request: FastcgiRequest): void {
    // The head is out, the body broke: closing without END_REQUEST makes nginx and Apache drop the
    // client connection instead of ending the response cleanly. Alone on the connection, do that.
    // On a multiplexed connection the others go on: #finish ends this one with appStatus 1 (SPEC §7).
    if (this.#slots.size > 1 || this.#dead) return
    this.options.log(
      `fcgi: closing connection ${this.connectionId}: response to request ${request.id} failed after its head`,
    )
    // Send what is queued first: the STDERR records carry the app's error to the web server's log (F-31).
    this.#output.write()
    this.#closeSocket()
    this.#teardown('the response failed')
  }

  // --- input ---

  #receive(chunk: Uint8Array): void {
    if (this.#dead) return
    if (this.#slots.size === 0 && this.#deadline.kind !== 'params' && chunk.length > 0) this.#deadline.arm('params')
    try {
      this.proto.receiveData(chunk)
      for (let event = this.proto.nextEvent(); event !== NEED_DATA; event = this.proto.nextEvent()) {
        this.#handle(event)
        if (event.type === 'closed' || this.#dead) break
      }
    } catch (err) {
      // A peer that breaks the protocol loses its own connection, nothing else (ERR_FCGI_*).
      this.destroy(`protocol error: ${err instanceof Error ? err.message : String(err)}`)
      return
    }
    // In-protocol replies and what the requests just queued leave together, at the end of this turn.
    if (this.proto.outputSize > 0 || this.proto.shouldClose) this.#output.schedule()
  }

  #handle(event: ApplicationEvent): void {
    switch (event.type) {
      case 'request':
        this.#start(event.requestId, new FastcgiRequest(this, event))
        break
      case 'stdin':
        this.#stdin(event.requestId, event.data)
        break
      case 'stdin-end': {
        const slot = this.#slots.get(event.requestId)
        if (this.#deadline.kind === 'input' && this.#slots.size <= 1) this.#deadline.clear()
        slot?.request.input?.end()
        slot?.onStdinEnd?.()
        break
      }
      case 'data':
        this.#slots.get(event.requestId)?.request.data?.push(event.data)
        break
      case 'data-end':
        this.#slots.get(event.requestId)?.request.data?.end()
        break
      case 'abort':
        // Spec §5.4: the app answers END_REQUEST; ours goes out when its run ends (#finish).
        this.#slots.get(event.requestId)?.request.cancel('ABORT_REQUEST from the web server')
        break
      case 'rejected':
        break // answered in-protocol already (CANT_MPX_CONN, OVERLOADED, UNKNOWN_ROLE)
      case 'closed':
        for (const slot of this.#slots.values()) slot.request.cancel('connection closed by the web server')
        if (this.#slots.size === 0) this.#end()
        break
    }
  }

  #stdin(id: number, data: Uint8Array): void {
    const slot = this.#slots.get(id)
    if (slot === undefined) return
    if (slot.draining) {
      slot.drained += data.length
      if (slot.drained > this.options.drainMaxBytes) {
        this.destroy(`more than ${this.options.drainMaxBytes} bytes of unread STDIN`)
        return
      }
    }
    // S-12: a web server trickling STDIN keeps the request alive only while bytes keep coming.
    this.#deadline.extend('input')
    slot.request.input?.push(data)
  }

  #start(id: number, request: FastcgiRequest): void {
    // Until its STDIN ends, the request waits on the web server (FastCGI spec §6.3: an Authorizer gets none).
    if (request.event.role !== Role.Authorizer) this.#deadline.arm('input')
    else if (this.#deadline.kind === 'params' || this.#deadline.kind === 'idle') this.#deadline.clear()
    const slot: RequestSlot = { request, draining: false, drained: 0, onStdinEnd: undefined }
    this.#slots.set(id, slot)
    const { meter } = this.options
    if (meter !== undefined) request.meterToken = meter.start(request.event.params, this)
    let result: Promise<RunResult>
    try {
      result = request.run(this.app)
    } catch (err) {
      result = Promise.resolve(crashed(err))
    }
    // Settles in a later microtask, after this chunk's records are all read: the empty STDIN record
    // that usually follows in the same chunk is seen first, so a small request needs no drain (#finish).
    result.then(
      (done) => this.#finish(slot, done),
      (err: unknown) => this.#finish(slot, crashed(err)),
    )
  }

  /** The app is done: end STDOUT, drain unread STDIN (S-21), then END_REQUEST exactly once. */
  #finish(slot: RequestSlot, result: RunResult): void {
    const { request } = slot
    const id = request.id
    this.options.meter?.end(request.meterToken)
    // A body whose last chunk crossed the high-water mark may have left the socket paused for it.
    this.resumeInput(request)
    const info = this.proto.request(id)
    if (this.#dead || info === undefined) {
      this.#slots.delete(id)
      return
    }
    if (!info.stdoutEnded) this.proto.endStdout(id)
    const appStatus = (result.error === undefined || result.aborted) && !request.failed && !request.overflowed ? 0 : 1
    if (info.stdinEnded || info.aborted || info.role === Role.Authorizer) {
      this.#endRequest(id, appStatus, request.keepConn)
      return
    }
    // Apache answers 503 "Broken pipe (sending stdin)" when we close on unread STDIN, and nginx reuses
    // request id 1 on a kept connection: leftover STDIN must be read before the id is free again.
    this.#writeOut()
    void this.#drain(slot).then((drained) => {
      if (!drained) this.destroy(`request ${id} did not finish sending STDIN`)
      else if (!this.#dead) this.#endRequest(id, appStatus, request.keepConn)
    })
  }

  #endRequest(id: number, appStatus: number, keepConn: boolean): void {
    this.proto.endRequest(id, appStatus)
    this.#slots.delete(id)
    this.served++
    this.#output.schedule()
    if (this.#slots.size > 0) return
    if (!this.#closing) {
      this.#armIdle()
      return
    }
    // A kept connection closed by us after an answer (a stop): say so in the same write (F-33).
    if (keepConn) this.proto.closingNotice()
    this.#end()
  }

  /** Reads and drops the rest of a request's STDIN; false when it does not end within drainTimeoutMs. */
  #drain(slot: RequestSlot): Promise<boolean> {
    slot.draining = true
    void slot.request.input?.discard()
    this.resumeInput(slot.request)
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.options.drainTimeoutMs)
      slot.onStdinEnd = () => {
        clearTimeout(timer)
        resolve(true)
      }
    })
  }

  // --- output ---

  #queue(requestId: number, bytes: Uint8Array, stream: 'stdout' | 'stderr'): boolean {
    if (this.#dead || !this.proto.isActive(requestId)) return false
    try {
      if (stream === 'stdout') this.proto.stdout(requestId, bytes)
      else this.proto.stderr(requestId, bytes)
      return true
    } catch {
      return false // STDOUT already ended for this id: nothing after END, never a foreign id (F-22)
    }
  }

  #writeOut(): void {
    if (this.#dead) return
    this.#output.write()
    if (this.proto.shouldClose && this.#slots.size === 0) this.#end()
  }

  // --- lifetime ---

  #end(): void {
    if (this.#dead) return
    this.#output.write()
    this.#dead = true
    this.#deadline.stop()
    this.#closeSocket()
  }

  /** FIN once the queued records are written; a peer that never reads them is cut after drainTimeoutMs. */
  #closeSocket(): void {
    const socket = this.socket
    socket.end()
    const timer = setTimeout(() => socket.destroy(), this.options.drainTimeoutMs)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }

  #teardown(reason: string): void {
    this.#dead = true
    this.#deadline.stop()
    for (const slot of this.#slots.values()) slot.request.cancel(reason)
    this.#slots.clear()
    this.#output.wake()
  }

  #armIdle(): void {
    if (this.#closing) this.#end()
    else this.#deadline.arm('idle')
  }
}
