// The resident FastCGI responder: serveFastcgi(app) accepts web-server connections on TCP, a Unix
// socket, the listening socket inherited on fd 0 or the one systemd passed, and serves every request
// with the same App.
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import type { App } from '../../app.js'
import { isApp } from '../../core/call.js'
import { TsgiError } from '../../errors.js'
import { isListeningSocket, type ListenSpec, parseAllowList, parseListen, peerAllowed } from '../../net/listen.js'
import { takeSystemdSocket } from '../../net/systemd.js'
import { openListener } from './listener.js'
import { type FastcgiOptions, resolveOptions } from './options.js'
import { ResponderConnection } from './responder-connection.js'

export interface FastcgiServer {
  readonly server: Server
  /** `host:port`, the socket path, or `fd:0`. */
  readonly address: string
  /** TCP port when listening on TCP (useful with port 0). */
  readonly port: number | undefined
  /** Counters for logs and tests (keep-conn reuse shows as requests > connections). */
  readonly stats: { connections: number; requests: number; active: number }
  /**
   * Stop accepting, let requests in flight finish (up to shutdownTimeoutMs), close everything. `lingerIdle`
   * (a process manager replacing this process): idle kept connections close only after their next answer.
   */
  close(options?: { lingerIdle?: boolean }): Promise<void>
  /** Resolves once the responder has fully stopped. */
  readonly closed: Promise<void>
}

/** Serves `app` over FastCGI. Resolves once listening. */
export async function serveFastcgi(app: App, options: FastcgiOptions = {}): Promise<FastcgiServer> {
  if (!isApp(app)) throw new TsgiError('ERR_BAD_APP', 'fcgi: serveFastcgi needs an application')
  const opts = resolveOptions(options)
  const spec = resolveListen(options.listen)
  const allow = opts.allowedAddresses ? parseAllowList(opts.allowedAddresses) : undefined
  const connections = new Set<ResponderConnection>()
  const stats = { connections: 0, requests: 0, active: 0 }
  let nextId = 1

  const server = createServer({ noDelay: true, pauseOnConnect: false }, (socket: Socket) => {
    // Spec §3.2 FCGI_WEB_SERVER_ADDRS: a peer not on the list is closed before any byte is read.
    if (!peerAllowed(socket, allow, opts.strictTransport)) {
      opts.log(`fcgi: refused connection from ${socket.remoteAddress ?? 'a Unix socket'} (FCGI_WEB_SERVER_ADDRS)`)
      socket.destroy()
      return
    }
    // Without TCP_NODELAY, small record writes on a kept connection wait ~40 ms for a delayed ACK.
    if (socket.remoteAddress !== undefined) socket.setNoDelay(true)
    stats.connections++
    const connection = new ResponderConnection(socket, app, opts, nextId++)
    connections.add(connection)
    socket.once('close', () => {
      stats.requests += connection.served
      connections.delete(connection)
      if (closing !== undefined && connections.size === 0) finishClose()
    })
  })
  server.maxConnections = opts.maxConnections

  const cleanup = await openListener(server, spec, opts)
  let closing: Promise<void> | undefined
  let finishClose: () => void = () => {}
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))

  const close = (options: { lingerIdle?: boolean } = {}): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      let forced: NodeJS.Timeout | undefined
      finishClose = () => {
        clearTimeout(forced)
        cleanup()
        removeSignals()
        resolve()
        resolveClosed()
      }
      server.close()
      for (const connection of connections) connection.shutdown(options.lingerIdle === true)
      if (connections.size === 0) return finishClose()
      forced = setTimeout(() => {
        for (const connection of connections) connection.destroy('shutdown deadline passed')
      }, opts.shutdownTimeoutMs)
      forced.unref()
    })
    return closing
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    opts.log(`fcgi: ${signal}: finishing ${countActive(connections)} request(s), then exiting`)
    void close()
  }
  const removeSignals = (): void => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
  if (opts.handleSignals) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }

  const address = describeAddress(server, spec)
  return {
    server,
    address: address.text,
    port: address.port,
    get stats() {
      let running = 0
      let served = stats.requests
      for (const connection of connections) {
        running += connection.activeRequests
        served += connection.served
      }
      return { connections: stats.connections, requests: served, active: running }
    },
    close,
    closed,
  }
}

/**
 * `--listen` default: the socket systemd passed (F-32, taken: LISTEN_* leave the environment), else the one
 * a web server left on fd 0 (spec §2.2, F-27), else loopback port 9000. Either inherited socket belongs to
 * whoever passed it: as an `fd` spec it is never chmod'ed, chown'ed or unlinked here.
 */
function resolveListen(listen: string | ListenSpec | undefined): ListenSpec {
  if (typeof listen === 'string') return parseListen(listen)
  if (listen !== undefined) return listen
  const activated = takeSystemdSocket()
  if (activated !== undefined) return activated
  return isListeningSocket(0) ? { kind: 'fd', fd: 0 } : { kind: 'tcp', host: '127.0.0.1', port: 9000 }
}

function describeAddress(server: Server, spec: ListenSpec): { text: string; port: number | undefined } {
  if (spec.kind === 'unix') return { text: spec.path, port: undefined }
  const info = server.address() as AddressInfo | string | null
  if (info !== null && typeof info === 'object') {
    const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
    return { text: `${host}:${info.port}`, port: info.port }
  }
  return { text: spec.kind === 'fd' ? `fd:${spec.fd}` : String(info), port: undefined }
}

function countActive(connections: Set<ResponderConnection>): number {
  let n = 0
  for (const connection of connections) n += connection.activeRequests
  return n
}
