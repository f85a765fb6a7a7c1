// The errors the FastCGI client reports: an aborted request, a lost connection, a refused request, a
// response it cannot use, and a bad option.
import { TsgiError } from '../../errors.js'
import { ProtocolStatus } from '../../protocol/fastcgi/index.js'

/** The error a request fails with when its signal fires (the signal's own TsgiError reason, if any). */
export function aborted(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason
  return reason instanceof TsgiError ? reason : new TsgiError('ERR_ABORTED', 'fcgi: request aborted', { cause: reason })
}

/** The application closed the connection before END_REQUEST: a 502 for the requests on it. */
export function closedError(cause: unknown, midRecord: boolean): TsgiError {
  const why = cause instanceof Error ? `: ${cause.message}` : midRecord ? ' in the middle of a record' : ''
  const code = cause instanceof TsgiError ? cause.code : 'ERR_FCGI_CONNECTION_CLOSED'
  return new TsgiError(code, `fcgi: connection closed before END_REQUEST${why}`, { cause, status: 502 })
}

/** A count option: a positive integer, or Infinity. */
export function positive(name: string, value: number): number {
  if (!(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid ${name} ${String(value)}`)
  }
  return value
}

const STATUS_NAMES = ['REQUEST_COMPLETE', 'CANT_MPX_CONN', 'OVERLOADED', 'UNKNOWN_ROLE']

/** END_REQUEST refused the request (FastCGI spec §5.5): 503 for "try later", 502 for an unknown role. */
export function refused(id: number, protocolStatus: number): TsgiError {
  const name = STATUS_NAMES[protocolStatus] ?? `protocol status ${protocolStatus}`
  const status = protocolStatus === ProtocolStatus.UnknownRole ? 502 : 503
  return new TsgiError('ERR_FCGI_REFUSED', `fcgi: request ${id} refused: ${name}`, { status })
}

/** A response whose head the client cannot use: what a web server answers 502 for. */
export function badHead(
  message: string,
  code: 'ERR_BAD_HEADER' | 'ERR_HEADER_BLOCK_TOO_LARGE' = 'ERR_BAD_HEADER',
): TsgiError {
  return new TsgiError(code, `fcgi: ${message}`, { status: 502 })
}
