// The CGI meta-variables (RFC 3875 §4.1) of one HTTP request on the dev server, as ordered pairs for
// buildEnviron; plus the request-target decoding behind PATH_INFO and the variables of a local redirect.
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { SERVER_SOFTWARE } from '../../version.js'

export type Vars = Array<[string, string]>

/** A request-target split for CGI: `rawPath` as sent, `pathInfo` decoded, `query` raw. */
export interface Target {
  rawPath: string
  pathInfo: string
  query: string
}

/** Why a target cannot become a PATH_INFO: the status the client gets. */
export interface BadTarget {
  status: 400 | 404
  message: string
}

const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/
const HEX2 = /^[0-9A-Fa-f]{2}$/

/**
 * Splits a request-target (origin-form, absolute-form or `*`) into path and query, and decodes the path.
 * PATH_INFO is decoded per RFC 3875 §4.1.5, with Apache's default rules (AllowEncodedSlashes Off):
 * - `%2F` and `%00` give 404: a decoded `/` would make two different URLs the same path (RFC 3875 §4.1.5
 *   lets the server reject it), and NUL ends C strings in other gateways. The app never sees them.
 * - A `%` not followed by two hex digits gives 400, as Apache's ap_unescape_url does.
 * - Decoded bytes are read as UTF-8; invalid sequences become U+FFFD: what a CGI script under Apache
 *   sees after Node decodes its environment (C-06). REQUEST_URI keeps the exact escapes.
 */
export function parseTarget(url: string): Target | BadTarget {
  let rest = url.split('#', 1)[0] ?? ''
  if (rest === '*') return { rawPath: '*', pathInfo: '', query: '' }
  rest = rest.replace(SCHEME_AND_AUTHORITY, '')
  const mark = rest.indexOf('?')
  const rawPath = (mark < 0 ? rest : rest.slice(0, mark)) || '/'
  const query = mark < 0 ? '' : utf8(rest.slice(mark + 1))
  const decoded = decodePath(rawPath)
  return typeof decoded === 'string' ? { rawPath, pathInfo: decoded, query } : decoded
}

function decodePath(raw: string): string | BadTarget {
  if (!raw.includes('%')) return utf8(raw)
  const bytes: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i)
    if (code !== 0x25) {
      bytes.push(code & 0xff)
      continue
    }
    const hex = raw.slice(i + 1, i + 3)
    if (!HEX2.test(hex)) return { status: 400, message: `server: bad percent-escape in path ${JSON.stringify(raw)}` }
    const byte = Number.parseInt(hex, 16)
    if (byte === 0x2f || byte === 0) {
      return { status: 404, message: `server: encoded ${byte === 0 ? 'NUL' : 'slash'} in path ${JSON.stringify(raw)}` }
    }
    bytes.push(byte)
    i += 2
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Node hands request-line and header bytes over as latin-1 strings (one char per byte). Re-read them as
 * UTF-8, as every other tsgi gateway sees them (process.env and FastCGI params are decoded as UTF-8).
 */
export function utf8(latin1: string): string {
  return /[\u0080-\uffff]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1
}

/** The body framing: CONTENT_LENGTH's value, or `undefined` with `chunked` when read to its end. */
export function bodyFraming(req: IncomingMessage): { length?: number; chunked: boolean } {
  if (req.headers['transfer-encoding'] !== undefined) return { chunked: true }
  const length = req.headers['content-length']
  return length === undefined ? { chunked: false } : { length: Number(length), chunked: false }
}

/** The meta-variables of `req`, in RFC 3875 §4.1 order, then one HTTP_* pair per request header line. */
export function requestVariables(req: IncomingMessage, target: Target): Vars {
  const socket = req.socket
  const vars: Vars = [
    ['REQUEST_METHOD', req.method ?? 'GET'],
    ['SCRIPT_NAME', ''],
    ['PATH_INFO', target.pathInfo],
    ['QUERY_STRING', target.query],
    ['REQUEST_URI', utf8(req.url ?? '/')],
    ['SERVER_NAME', serverName(socket.localAddress)],
    ['SERVER_PORT', String(socket.localPort ?? '')],
    ['SERVER_PROTOCOL', `HTTP/${req.httpVersion}`],
    ['SERVER_SOFTWARE', SERVER_SOFTWARE],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
  ]
  if (socket.remoteAddress !== undefined) vars.push(['REMOTE_ADDR', plainAddress(socket.remoteAddress)])
  if (socket.remotePort !== undefined) vars.push(['REMOTE_PORT', String(socket.remotePort)])
  const type = req.headers['content-type']
  if (type !== undefined) vars.push(['CONTENT_TYPE', utf8(type)])
  // RFC 3875 §4.1.2: set iff the request has a body; a chunked body has no length known up front.
  const { length } = bodyFraming(req)
  if (length !== undefined) vars.push(['CONTENT_LENGTH', String(length)])
  if ((socket as Partial<TLSSocket>).encrypted === true) vars.push(['HTTPS', 'on'])
  pushHeaders(vars, req.rawHeaders)
  return vars
}

/**
 * RFC 3875 §4.1.18: `HTTP_` + upper-case name with `-` as `_`. Repeated lines stay repeated pairs
 * (buildEnviron joins them). Content-Type and Content-Length only travel as CONTENT_TYPE/CONTENT_LENGTH.
 * Names containing `_` are dropped, as Apache and nginx do: `X-User_Id` would otherwise land on the
 * same variable as `X-User-Id` and could spoof a header a proxy filtered. So is any name with a character
 * other than letters, digits and `-` (`X.Foo` would become `HTTP_X.FOO`, an extension key, SPEC §3.4).
 */
const CGI_HEADER_NAME = /^[A-Za-z0-9-]+$/

function pushHeaders(vars: Vars, raw: string[]): void {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (lower === 'content-type' || lower === 'content-length' || !CGI_HEADER_NAME.test(name)) continue
    vars.push([`HTTP_${name.toUpperCase().replaceAll('-', '_')}`, utf8(raw[i + 1] as string)])
  }
}

const REDIRECT_REPLACED = new Set([
  'REQUEST_METHOD',
  'PATH_INFO',
  'QUERY_STRING',
  'CONTENT_LENGTH',
  'CONTENT_TYPE',
  'HTTP_TRANSFER_ENCODING',
  'REDIRECT_STATUS',
  'REDIRECT_URL',
  'REDIRECT_QUERY_STRING',
])

/**
 * The variables of a local redirect's re-dispatch (RFC 3875 §6.2.2), as Apache builds them: the method
 * becomes GET (HEAD stays HEAD so no body is sent), the body is gone, the path and query are the target's,
 * and REDIRECT_STATUS / REDIRECT_URL (the previous path as sent) / REDIRECT_QUERY_STRING are added.
 * REQUEST_URI stays what the client asked for, as in Apache.
 */
export function redirectVariables(previous: Vars, from: Target, to: Target): Vars {
  const method = previous.find(([name]) => name === 'REQUEST_METHOD')?.[1]
  const vars: Vars = previous.filter(([name]) => !REDIRECT_REPLACED.has(name))
  vars.push(
    ['REQUEST_METHOD', method === 'HEAD' ? 'HEAD' : 'GET'],
    ['PATH_INFO', to.pathInfo],
    ['QUERY_STRING', to.query],
    ['REDIRECT_STATUS', '200'],
    ['REDIRECT_URL', utf8(from.rawPath)],
  )
  if (from.query !== '') vars.push(['REDIRECT_QUERY_STRING', from.query])
  return vars
}

/** RFC 3875 §4.1.14: a host name, an IPv4 address, or a bracketed IPv6 address. */
function serverName(address: string | undefined): string {
  const plain = plainAddress(address ?? '')
  return plain.includes(':') ? `[${plain}]` : plain
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is shown as `127.0.0.1`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
