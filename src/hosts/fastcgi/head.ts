// Parses the CGI response head a FastCGI application writes on STDOUT (RFC 3875 §6, FastCGI spec §6.1),
// for the client; and the errors the client reports for a response it cannot use.
import { TsgiError } from '../../errors.js'
import { ProtocolStatus } from '../../protocol/fastcgi/index.js'

export interface Head {
  status: number
  reason: string
  headers: Array<[string, string]>
  bodyStart: number
}

/**
 * Parses a CGI response head (RFC 3875 §6.2, §6.3): lines end in LF or CRLF (§7 lets servers take
 * both), and a blank line ends the block. Undefined while incomplete. Status is `Status:` when given.
 * Without it, a Location is a redirect: an abs-path (`/x`) is a local redirect (§6.2.2), which only
 * the web server can carry out by serving that path instead, so it is reported as status 200 with its
 * `Location` header for the caller to re-dispatch; any other Location is a client redirect, for
 * which the server MUST answer 302 (§6.2.3). Otherwise 200 (§6.3.3).
 */
export function parseHead(bytes: Uint8Array): Head | TsgiError | undefined {
  let lineStart = 0
  const lines: string[] = []
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, lineStart)) {
    const end = i > lineStart && bytes[i - 1] === 13 ? i - 1 : i
    if (end === lineStart) return buildHead(lines, i + 1)
    lines.push(Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, end - lineStart).toString('latin1'))
    lineStart = i + 1
  }
  return undefined
}

function buildHead(lines: string[], bodyStart: number): Head | TsgiError {
  if (lines.length === 0) return badHead('empty response header block')
  const headers: Array<[string, string]> = []
  let status: string | undefined
  let location: string | undefined
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0 || /\s/.test(line[colon - 1]!)) return badHead(`bad response header line ${JSON.stringify(line)}`)
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).trim()
    const lower = name.toLowerCase()
    if (lower === 'status') {
      if (status !== undefined) return badHead('two Status header lines')
      status = value
      continue
    }
    if (lower === 'location') location = value
    headers.push([name, value])
  }
  if (status === undefined) {
    const local = location !== undefined && location.startsWith('/') && !location.startsWith('//')
    return location === undefined || local
      ? { status: 200, reason: 'OK', headers, bodyStart }
      : { status: 302, reason: 'Found', headers, bodyStart }
  }
  const match = /^([1-5][0-9][0-9])(?:\s+(.*))?$/.exec(status)
  if (!match) return badHead(`bad Status header ${JSON.stringify(status)}`)
  return { status: Number(match[1]), reason: match[2] ?? '', headers, bodyStart }
}

export function badHead(
  message: string,
  code: 'ERR_BAD_HEADER' | 'ERR_HEADER_BLOCK_TOO_LARGE' = 'ERR_BAD_HEADER',
): TsgiError {
  return new TsgiError(code, `fcgi: ${message}`, { status: 502 })
}

const STATUS_NAMES = ['REQUEST_COMPLETE', 'CANT_MPX_CONN', 'OVERLOADED', 'UNKNOWN_ROLE']

export function refused(id: number, protocolStatus: number): TsgiError {
  const name = STATUS_NAMES[protocolStatus] ?? `protocol status ${protocolStatus}`
  // OVERLOADED and CANT_MPX_CONN mean "try later / elsewhere": 503, like a busy upstream.
  const status = protocolStatus === ProtocolStatus.UnknownRole ? 502 : 503
  return new TsgiError('ERR_FCGI_REFUSED', `fcgi: request ${id} refused: ${name}`, { status })
}
