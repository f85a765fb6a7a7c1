// Formats the CGI response header block (RFC 3875 §6), shared by the CGI runner and the FastCGI responder
// (a FastCGI STDOUT stream carries a CGI response, FastCGI spec §6.2). Pure: no node:* imports.
import type { HeaderList } from '../../app.js'
import { isHeaderNamed } from '../../core/headers.js'
import { localRedirectOf } from './redirect.js'

export interface CgiHeadOptions {
  /** Non-parsed-header mode (RFC 3875 §5): an HTTP status line instead of `Status:`. CGI only. */
  nph?: boolean
  /** SERVER_PROTOCOL for the NPH status line; anything but `HTTP/d.d` becomes HTTP/1.0. */
  protocol?: string
  /**
   * Treat `200` + `Location: /abs/path` as an RFC 3875 §6.2.2 local redirect (default true). A FastCGI
   * responder behind nginx may turn this off: nginx answers 302 for a Location without Status.
   */
  localRedirect?: boolean
}

const CRLF = '\r\n'
const HTTP_VERSION = /^HTTP\/[0-9]\.[0-9]$/

/**
 * The header block as a string: CRLF line ends (RFC 3875 §6.3 lets servers accept either; CRLF is what
 * Apache, nginx, lighttpd and mod_fcgid all take), ending with the blank line. Names and values were
 * validated by the engine (S-04); encode the result as latin1 (`encodeLatin1`).
 */
export function formatCgiHead(
  status: number,
  reason: string,
  headers: HeaderList,
  options: CgiHeadOptions = {},
): string {
  const nph = options.nph === true
  const local = nph || options.localRedirect === false ? undefined : localRedirectOf(status, headers)
  if (local !== undefined) {
    // RFC 3875 §6.2.2: local-redir-response = local-Location NL, nothing else. Apache re-runs the request
    // internally (C-14), so a Status line or other fields would turn it into a client response.
    return `Location: ${local}${CRLF}${CRLF}`
  }
  let head = nph
    ? statusLine(options.protocol, status, reason)
    : `Status: ${status}${reason ? ` ${reason}` : ''}${CRLF}`
  let hasType = false
  let hasLocation = false
  for (const [name, value] of headers) {
    // Our own Status line is the only one (C-17): a `Status` header from the app would be a second one.
    if (isHeaderNamed(name, 'status')) continue
    if (isHeaderNamed(name, 'content-type')) hasType = true
    else if (isHeaderNamed(name, 'location')) hasLocation = true
    head += `${name}: ${value}${CRLF}`
  }
  // RFC 3875 §6.3.1: a document response needs a Content-Type, and the server SHOULD NOT guess one
  // (Apache guesses from the file extension, C-13). Never text/html: S-19, CVE-2020-24553.
  if (!hasType && !hasLocation && allowsBody(status)) head += `Content-Type: application/octet-stream${CRLF}`
  // An NPH response goes to the client as is (RFC 3875 §5): this process owns the connection for one response.
  if (nph) head += `Connection: close${CRLF}`
  return head + CRLF
}

/** Latin-1 bytes of a header block (header values are ISO-8859-1 on the wire, RFC 9110 §5.5). */
export function encodeLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff
  return bytes
}

/** RFC 9110 §6.4.1: 1xx, 204 and 304 responses have no content. */
export function allowsBody(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304
}

function statusLine(protocol: string | undefined, status: number, reason: string): string {
  // SERVER_PROTOCOL comes from the web server; only an HTTP version may start an HTTP response.
  const version = protocol !== undefined && HTTP_VERSION.test(protocol) ? protocol : 'HTTP/1.0'
  return `${version} ${status} ${reason}${CRLF}`
}
