// The header fields of a CGI response (a script's stdout, a FastCGI application's STDOUT) as a web server
// hands them on: checked (S-04) and without the fields about the script's own connection (C-18), which
// the web server's HTTP side writes itself. The CGI host and the front's FastCGI path both use it.
import type { HeaderList } from '../../app.js'
import { FIELD_VALUE } from '../../core/headers.js'
import { HOP_BY_HOP, TOKEN } from '../../core/http.js'
import { badHead } from './parse.js'

/**
 * Drops hop-by-hop fields (RFC 9110 §7.6.1; a CGI script must not send them, RFC 3875 §6.3.4, C-18) and
 * the fields a `Connection` field names. Nothing in core/ does this for a script's head (checkHeaders
 * throws on an app's), so a web server does and gets fields it can write as they are. A name that
 * is no token, or a value or reason with CR, NUL or another control character, is a 502 before any byte
 * goes out (S-04: Apache made a bare CR in a CGI header a smuggled header, CVE-2016-8743).
 */
export function responseFields(script: string, reason: string, headers: HeaderList): Array<[string, string]> {
  if (!FIELD_VALUE.test(reason)) throw badHead(`${script}: forbidden character in the Status reason`)
  const nominated = new Set<string>()
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw badHead(`${script}: header name ${JSON.stringify(name)} is not an HTTP token`)
    if (!FIELD_VALUE.test(value)) throw badHead(`${script}: forbidden character in header ${name}`)
    if (name.toLowerCase() === 'connection') {
      for (const token of value.split(',')) nominated.add(token.trim().toLowerCase())
    }
  }
  const fields: Array<[string, string]> = []
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    if (!HOP_BY_HOP.has(lower) && !nominated.has(lower)) fields.push([name, value])
  }
  return fields
}
