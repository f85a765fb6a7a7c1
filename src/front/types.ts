// What the front asks of a backend (a CGI script per request, a FastCGI responder) and what it gets
// back: a CGI response (RFC 3875 §6), already parsed, or an NPH script's raw HTTP response (RFC 3875 §5).
import type { CgiResponse } from '../hosts/cgi/index.js'

export type Vars = Array<[string, string]>

export interface BackendCall {
  /** The request's RFC 3875 §4.1 meta-variables, SCRIPT_NAME and PATH_INFO set for this route. */
  vars: Vars
  /** The request body as it arrives; undefined when the request has none (or after a local redirect). */
  body: AsyncIterable<Uint8Array> | undefined
  /** Fires when the client leaves: the backend stops the request (kills the script, ABORT_REQUEST). */
  signal: AbortSignal
}

/** What the CGI host answers, without the exit status: a FastCGI responder has none to give. */
export type BackendResponse = WithoutExit<CgiResponse>
type WithoutExit<T> = T extends unknown ? Omit<T, 'exit'> : never

/** One route's backend: answers a call, or rejects (with a TsgiError carrying `status`, 502 by default). */
export type Backend = (call: BackendCall) => Promise<BackendResponse>
