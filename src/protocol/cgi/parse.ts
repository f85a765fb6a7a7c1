// Parses a CGI response head (RFC 3875 §6): what a CGI script writes on stdout and a FastCGI
// application on STDOUT (FastCGI spec §6.1). Pure: the FastCGI client and a CGI host both use it.
import type { HeaderList } from '../../app.js'
import { TsgiError } from '../../errors.js'
import { isLocalPath } from './redirect.js'

export interface CgiHead {
  /** From `Status:`; without it 302 for a client redirect (RFC 3875 §6.2.3), else 200. */
  status: number
  reason: string
  /** Header lines in order, `Status` left out; repeated names kept (Set-Cookie). */
  headers: HeaderList
  /** Offset of the first body byte after the blank line. */
  bodyStart: number
}

const LF = 10
const CR = 13

/**
 * Parses the head at the start of `bytes`; undefined while the blank line that ends it has not
 * arrived. Lines end in LF or CRLF (RFC 3875 §6.3 lets servers take both). A local redirect
 * (RFC 3875 §6.2.2) comes back as status 200 with its `Location`: only the caller can carry it out,
 * by serving that path instead. A broken head is a TsgiError ERR_BAD_HEADER with status 502.
 */
export function parseCgiHead(bytes: Uint8Array): CgiHead | TsgiError | undefined {
  let lineStart = 0
  const lines: string[] = []
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, lineStart)) {
    const end = i > lineStart && bytes[i - 1] === CR ? i - 1 : i
    if (end === lineStart) return buildHead(lines, i + 1)
    lines.push(latin1(bytes, lineStart, end))
    lineStart = i + 1
  }
  return undefined
}

function buildHead(lines: string[], bodyStart: number): CgiHead | TsgiError {
  if (lines.length === 0) return badHead('empty response header block')
  const headers: HeaderList = []
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
    const client = location !== undefined && !isLocalPath(location)
    return client
      ? { status: 302, reason: 'Found', headers, bodyStart }
      : { status: 200, reason: 'OK', headers, bodyStart }
  }
  const match = /^([1-5][0-9][0-9])(?:\s+(.*))?$/.exec(status)
  if (!match) return badHead(`bad Status header ${JSON.stringify(status)}`)
  return { status: Number(match[1]), reason: match[2] ?? '', headers, bodyStart }
}

/** A response head the caller cannot use: the web server's answer to it is a 502 (Bad Gateway). */
export function badHead(
  message: string,
  code: 'ERR_BAD_HEADER' | 'ERR_HEADER_BLOCK_TOO_LARGE' = 'ERR_BAD_HEADER',
): TsgiError {
  return new TsgiError(code, `cgi: ${message}`, { status: 502 })
}

/** Header bytes as ISO-8859-1 text (RFC 9110 §5.5): one char per byte. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = ''
  for (let at = start; at < end; at += 4096) {
    text += String.fromCharCode(...bytes.subarray(at, Math.min(end, at + 4096)))
  }
  return text
}
