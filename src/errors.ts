// The one error type of tsgi: every error this library throws on purpose is a TsgiError with a `code`.
// Anything else escaping the library is a bug (the FastCGI fuzz test checks exactly that).

/** Every error code, grouped by who broke the rules. */
export type ErrorCode =
  // The application broke the TSGI contract (SPEC §4, §5).
  | 'ERR_START_RESPONSE_TWICE'
  | 'ERR_NO_START_RESPONSE'
  | 'ERR_BAD_STATUS'
  | 'ERR_BAD_HEADER'
  | 'ERR_BAD_BODY'
  | 'ERR_BAD_APP'
  | 'ERR_CONTENT_LENGTH_MISMATCH'
  | 'ERR_HEADER_BLOCK_TOO_LARGE'
  | 'ERR_VALIDATION'
  // The request body (RFC 3875 §4.2, FastCGI spec §6.2).
  | 'ERR_BODY_INCOMPLETE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_BODY_CONSUMED'
  // The CGI environment the web server gave us (RFC 3875 §4.1).
  | 'ERR_CGI_ENVIRONMENT'
  | 'ERR_CGI_BAD_CONTENT_LENGTH'
  // A FastCGI peer broke the protocol (FastCGI spec §3, §5); it loses its connection.
  | 'ERR_FCGI_BAD_VERSION'
  | 'ERR_FCGI_BAD_RECORD'
  | 'ERR_FCGI_BAD_PARAMS'
  | 'ERR_FCGI_LIMIT'
  | 'ERR_FCGI_DUPLICATE_REQUEST'
  | 'ERR_FCGI_UNEXPECTED_RECORD'
  | 'ERR_FCGI_CONNECTION_CLOSED'
  // The application refused a request in-protocol (END_REQUEST CANT_MPX_CONN, OVERLOADED, UNKNOWN_ROLE).
  | 'ERR_FCGI_REFUSED'
  // Our own misuse of an API (caller error, e.g. sending for an unknown request id).
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_STATE'
  // Gateways and tools.
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_LISTEN'
  | 'ERR_LOAD_APP'
  | 'ERR_BUILD'
  | 'ERR_USAGE'

export interface TsgiErrorOptions {
  cause?: unknown
  /** The HTTP status a gateway should answer with when this error ends a request. */
  status?: number
  /** Offending bytes (protocol errors), kept for logs and tests. */
  data?: Uint8Array
}

/** The base and only error class. `code` tells what broke; `status` is a hint for gateways. */
export class TsgiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly data: Uint8Array | undefined

  constructor(code: ErrorCode, message: string, options: TsgiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TsgiError'
    this.code = code
    this.status = options.status ?? 500
    this.data = options.data
  }
}

/** True for a TsgiError (optionally of one of the given codes). */
export function isTsgiError(err: unknown, ...codes: ErrorCode[]): err is TsgiError {
  return err instanceof TsgiError && (codes.length === 0 || codes.includes(err.code))
}
