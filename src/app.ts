// The TSGI 1.0 contract (docs/SPEC.md): the types an application, a middleware and a gateway share.
// Types only: this module imports nothing and emits no code.

/** A piece of a response body. Strings are encoded as UTF-8 by the gateway (SPEC §5.2). */
export type Chunk = Uint8Array | string

/**
 * What an application returns (SPEC §5): any iterable or async iterable of chunks.
 * The gateway always calls the iterator's `return()` when it stops, whether the body ended,
 * failed or the client went away: the analogue of WSGI's `close()`.
 */
export type Body = Iterable<Chunk> | AsyncIterable<Chunk>

/** Response headers as ordered `[name, value]` pairs; a name may repeat (Set-Cookie). */
export type HeaderList = Array<[name: string, value: string]>

/**
 * The legacy imperative write returned by `startResponse` (SPEC §4.3, PEP 3333's `write()`).
 * The returned promise settles when the gateway accepted the bytes (backpressure).
 */
export type Write = (chunk: Chunk) => Promise<void>

/**
 * `startResponse(status, headers, excInfo?)` (SPEC §4).
 * `status` is `"NNN reason"`; headers are validated before any byte is written.
 * Called once, unless `excInfo` (the caught error) is given: then it replaces a response whose
 * headers are not yet sent, and re-throws `excInfo` when they are.
 */
export type StartResponse = (status: string, headers: HeaderList, excInfo?: unknown) => Write

/** The request body (SPEC §3.3): read incrementally; reading is what pulls bytes from the peer. */
export interface InputStream extends AsyncIterable<Uint8Array> {
  /**
   * Read up to `size` bytes; fewer only at the end of the body. Without `size`, read the rest.
   * Resolves to an empty array at the end of the body. Rejects with a `TsgiError` when the body
   * was cut short (`ERR_BODY_INCOMPLETE`) or is over a configured limit (`ERR_BODY_TOO_LARGE`).
   */
  read(size?: number): Promise<Uint8Array>
}

/** Where an application logs (SPEC §3.3): the web server's error log, or FastCGI STDERR records. */
export interface ErrorStream {
  write(message: string): void
  flush?(): void
}

/** FastCGI roles (FastCGI spec §6), as exposed in `tsgi.fastcgi.role`. */
export type FastcgiRole = 'RESPONDER' | 'AUTHORIZER' | 'FILTER'

/**
 * The request environment (SPEC §3): RFC 3875 §4.1 meta-variables under their CGI names,
 * `HTTP_*` request headers, and the `tsgi.*` gateway keys. Absent meta-variables are left out
 * (RFC 3875 treats NULL and unset alike); a gateway never stores `undefined`.
 */
export interface Environ {
  // RFC 3875 §4.1 meta-variables. Required ones are always present (SPEC §3.1).
  REQUEST_METHOD: string
  SCRIPT_NAME: string
  PATH_INFO: string
  QUERY_STRING: string
  SERVER_NAME: string
  SERVER_PORT: string
  SERVER_PROTOCOL: string
  AUTH_TYPE?: string
  CONTENT_LENGTH?: string
  CONTENT_TYPE?: string
  GATEWAY_INTERFACE?: string
  PATH_TRANSLATED?: string
  REMOTE_ADDR?: string
  REMOTE_HOST?: string
  REMOTE_IDENT?: string
  REMOTE_USER?: string
  SERVER_SOFTWARE?: string

  /** `[1, 0]` for this version of the interface. */
  'tsgi.version': readonly [number, number]
  /** `"http"` or `"https"`, from HTTPS / REQUEST_SCHEME / the listener (SPEC §3.2). */
  'tsgi.url_scheme': 'http' | 'https'
  'tsgi.input': InputStream
  'tsgi.errors': ErrorStream
  'tsgi.multithread': boolean
  'tsgi.multiprocess': boolean
  'tsgi.run_once': boolean
  /** Fires when the client goes away or the web server aborts the request. */
  'tsgi.signal': AbortSignal
  /** Reserved: the FastCGI role when served over FastCGI (SPEC §3.4). */
  'tsgi.fastcgi.role'?: FastcgiRole
  /** Reserved: the Filter role's FCGI_DATA stream (SPEC §3.4). */
  'tsgi.fastcgi.data'?: InputStream
  /** Reserved: which web-server connection the request came on (SPEC §3.4). */
  'tsgi.fastcgi.connection_id'?: number

  /** Other meta-variables (HTTP_*, REQUEST_URI, HTTPS, ...) and extension keys (`x.y` names). */
  [key: string]: unknown
}

/** The plain form of an application (SPEC §2). */
export type AppFunction = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>

/** An object whose `call` method is the application (the analogue of Python's `__call__`). */
export interface AppObject {
  call(environ: Environ, startResponse: StartResponse): Body | Promise<Body>
}

/** A class whose instances are iterable bodies (PEP 3333's `AppClass`); the gateway calls `new`. */
export type AppClass = new (environ: Environ, startResponse: StartResponse) => Body

/** Anything a gateway accepts as an application (SPEC §2). */
export type App = AppFunction | AppObject | AppClass

/** A middleware takes an application and returns one (SPEC §6). */
export type Middleware = (app: App) => App
