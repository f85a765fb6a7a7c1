// Options of the FastCGI responder, with their defaults and the precedent each default follows.
import type { FastcgiRole } from '../../app.js'
import type { ListenSpec } from '../../net/listen.js'
import type { Limits } from '../../protocol/fastcgi/index.js'
import type { Pair } from '../../protocol/fastcgi/params.js'

/** What a process manager watches (src/pm): each request's start and end. Absent, nothing is counted. */
export interface RequestMeter {
  /** An app is about to run the request of `params`; `connection.destroy` cuts a stuck one. Returns a token. */
  start(params: readonly Pair[], connection: { destroy(reason: string): void }): unknown
  /** That app is done (answered, failed or cancelled): the token start() returned, once. */
  end(token: unknown): void
}

export interface FastcgiOptions {
  /**
   * `HOST:PORT`, `/path.sock`, `fd:0`, `systemd` (the socket systemd passed, F-32); default: the systemd
   * socket when there is one, else fd 0 when it is a listening socket, else 127.0.0.1:9000.
   */
  listen?: string | ListenSpec
  /** Unix socket permissions (default 0o600, as spawn-fcgi -M 0600). */
  socketMode?: number
  /** `USER[:GROUP]` owning the Unix socket (PHP-FPM's listen.owner/listen.group); needs root. */
  socketOwner?: string
  /** `USER[:GROUP]` to serve as once listening: root privileges are dropped for good (PHP-FPM's user/group). */
  user?: string
  /** A file to write the responder's pid to once it listens; removed when it stops (if it still may). */
  pidFile?: string
  /** Allow a non-loopback TCP address (S-16). */
  allowPublic?: boolean
  /** Serve several requests at once on one connection (FCGI_MPXS_CONNS=1). Default false: no real server multiplexes. */
  multiplex?: boolean
  /** Requests at once on a multiplexed connection (FCGI_MAX_REQS); past it: OVERLOADED. Default 64. */
  maxRequestsPerConnection?: number
  /** Connections at once (FCGI_MAX_CONNS); more are refused by the kernel backlog / closed. Default 1024. */
  maxConnections?: number
  /** Largest response header block (default 4096: nginx's fastcgi_buffer_size on 4 KiB pages, S-22). */
  maxHeaderBytes?: number
  /** Largest request body; a bigger declared CONTENT_LENGTH is answered 413 before the app runs. Default unlimited. */
  maxBodyBytes?: number
  /** Protocol limits (PARAMS bytes, pairs, name/value length). */
  limits?: Partial<Limits>
  /** Time from the first byte of a request to the end of its PARAMS (S-12 slowloris). Default 30 s. */
  paramsTimeoutMs?: number
  /** Time between STDIN records while a request waits for its body (S-12; nginx's client_body_timeout is 60 s). Default 60 s. */
  inputTimeoutMs?: number
  /** Time a kept connection may sit with no request (nginx drops idle upstreams after 60 s). Default 120 s. */
  idleTimeoutMs?: number
  /** Time a response may wait for the web server to read it (nginx's fastcgi_read_timeout is 60 s). Default 60 s. */
  sendTimeoutMs?: number
  /** Unread STDIN drained after a response before END_REQUEST (S-21); past it the connection closes. Default 64 MiB. */
  drainMaxBytes?: number
  /** Time allowed for that drain. Default 10 s. */
  drainTimeoutMs?: number
  /** Unread STDIN buffered per request on a multiplexed connection before that request alone is failed. Default 1 MiB. */
  multiplexBufferBytes?: number
  /** FCGI_WEB_SERVER_ADDRS (spec §3.2); default: the variable in the environment, if set. */
  allowedAddresses?: string
  /** Reject Unix-socket peers when an allow-list is set (the spec's reading; libfcgi lets them in). */
  strictTransport?: boolean
  /** Roles served (default all three). */
  roles?: FastcgiRole[]
  /** Stop gracefully on SIGTERM and SIGINT (what mod_fcgid and lighttpd send). Default false; the CLI turns it on. */
  handleSignals?: boolean
  /** How long a graceful stop waits for requests in flight. Default 10 s. */
  shutdownTimeoutMs?: number
  /** Treat 200 + `Location: /path` as an RFC 3875 §6.2.2 local redirect (default true). */
  localRedirect?: boolean
  /** The responder's own log (protocol errors, timeouts); default stderr. tsgi.errors goes to STDERR records. */
  log?: (message: string) => void
  /** Told of every request (status pages, slow log, request timeout); default none. */
  meter?: RequestMeter
}

export interface ResolvedOptions
  extends Required<
    Omit<
      FastcgiOptions,
      'listen' | 'limits' | 'allowedAddresses' | 'roles' | 'log' | 'socketOwner' | 'user' | 'pidFile' | 'meter'
    >
  > {
  meter: RequestMeter | undefined
  socketOwner: string | undefined
  user: string | undefined
  pidFile: string | undefined
  limits: Partial<Limits>
  allowedAddresses: string | undefined
  roles: FastcgiRole[]
  log: (message: string) => void
}

export function resolveOptions(options: FastcgiOptions): ResolvedOptions {
  return {
    socketMode: options.socketMode ?? 0o600,
    socketOwner: options.socketOwner,
    user: options.user,
    pidFile: options.pidFile,
    allowPublic: options.allowPublic ?? false,
    multiplex: options.multiplex ?? false,
    maxRequestsPerConnection: options.maxRequestsPerConnection ?? 64,
    maxConnections: options.maxConnections ?? 1024,
    maxHeaderBytes: options.maxHeaderBytes ?? 4096,
    maxBodyBytes: options.maxBodyBytes ?? Infinity,
    limits: options.limits ?? {},
    paramsTimeoutMs: options.paramsTimeoutMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
    inputTimeoutMs: options.inputTimeoutMs ?? 60_000,
    sendTimeoutMs: options.sendTimeoutMs ?? 60_000,
    drainMaxBytes: options.drainMaxBytes ?? 64 * 1024 * 1024,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
    multiplexBufferBytes: options.multiplexBufferBytes ?? 1024 * 1024,
    allowedAddresses: options.allowedAddresses ?? process.env.FCGI_WEB_SERVER_ADDRS,
    strictTransport: options.strictTransport ?? false,
    roles: options.roles ?? ['RESPONDER', 'AUTHORIZER', 'FILTER'],
    handleSignals: options.handleSignals ?? false,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    localRedirect: options.localRedirect ?? true,
    meter: options.meter,
    log: options.log ?? ((message) => void process.stderr.write(message.endsWith('\n') ? message : `${message}\n`)),
  }
}
