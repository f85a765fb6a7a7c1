// Request headers back from the environ (RFC 3875 §4.1.18: HTTP_* plus CONTENT_TYPE and CONTENT_LENGTH),
// and the response headers a framework sent, made fit for startResponse.
import type { Environ, HeaderList } from '../app.js'
import { HOP_BY_HOP } from '../core/http.js'

/** `[name, value]` pairs, names lower-cased with `-` for `_` (the CGI form loses the original spelling). */
export function requestHeaders(environ: Environ): Array<[string, string]> {
  const headers: Array<[string, string]> = []
  for (const key in environ) {
    if (!key.startsWith('HTTP_')) continue
    const value = environ[key]
    if (typeof value === 'string') headers.push([key.slice(5).toLowerCase().replaceAll('_', '-'), byteString(value)])
  }
  if (environ.CONTENT_TYPE !== undefined) headers.push(['content-type', byteString(environ.CONTENT_TYPE)])
  if (environ.CONTENT_LENGTH !== undefined) headers.push(['content-length', environ.CONTENT_LENGTH])
  return headers
}

/**
 * Header values reach the environ decoded as UTF-8; HTTP APIs want the bytes as they came, one char per
 * byte (a ByteString). A value that is not ASCII is encoded back to its UTF-8 bytes.
 */
export function byteString(value: string): string {
  if (!/[^\t\x20-\x7e]/.test(value)) return value
  let out = ''
  for (const byte of new TextEncoder().encode(value)) out += String.fromCharCode(byte)
  return out
}

/**
 * A framework's response headers for startResponse: hop-by-hop ones dropped (they describe the
 * framework's own connection, which does not exist here; SPEC §4.2), every value a string.
 */
export function responseHeaders(entries: Iterable<[string, string | number | readonly string[]]>): HeaderList {
  const headers: HeaderList = []
  for (const [name, value] of entries) {
    if (HOP_BY_HOP.has(name.toLowerCase())) continue
    if (Array.isArray(value)) for (const item of value) headers.push([name, String(item)])
    else headers.push([name, String(value)])
  }
  return headers
}
