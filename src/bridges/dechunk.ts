// Undoes HTTP/1.1 chunked framing (RFC 9112 §7.1) incrementally. node:http frames a body whenever the app
// sets Transfer-Encoding: chunked itself; behind a gateway the web server frames, so fromNode takes it off.
import { TsgiError } from '../errors.js'

const CR = 13
const LF = 10

export class Dechunker {
  /** Bytes of the current chunk still to come; -1 while reading a size line, -2 once in the trailer. */
  #left = -1
  /** The size line (or trailer line) so far. */
  #line = ''
  /** The CRLF after a chunk's data is still due. */
  #crlf = false
  done = false

  /** The body bytes in `data`, framing removed. */
  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let at = 0
    while (at < data.length && !this.done) {
      if (this.#crlf) {
        if (data[at] !== CR && data[at] !== LF) throw bad('no CRLF after chunk data')
        if (data[at] === LF) this.#crlf = false
        at++
      } else if (this.#left > 0) {
        const end = Math.min(data.length, at + this.#left)
        out.push(data.subarray(at, end))
        this.#left -= end - at
        at = end
        if (this.#left === 0) {
          this.#left = -1
          this.#crlf = true
        }
      } else {
        at = this.#takeLine(data, at)
      }
    }
    return out
  }

  /** Reads up to a LF: a size line starts a chunk; an empty line after the last chunk ends the body. */
  #takeLine(data: Uint8Array, at: number): number {
    const lf = data.indexOf(LF, at)
    const end = lf === -1 ? data.length : lf
    for (let i = at; i < end; i++) this.#line += String.fromCharCode(data[i]!)
    if (lf === -1) return end
    const line = this.#line.endsWith('\r') ? this.#line.slice(0, -1) : this.#line
    this.#line = ''
    if (this.#left === -2) {
      if (line === '') this.done = true // trailer fields, if any, are dropped: CGI has no trailers
      return lf + 1
    }
    const size = /^([0-9A-Fa-f]+)[ \t]*(;.*)?$/.exec(line)
    if (size === null) throw bad(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`)
    const n = Number.parseInt(size[1]!, 16)
    this.#left = n === 0 ? -2 : n
    return lf + 1
  }
}

function bad(why: string): TsgiError {
  return new TsgiError('ERR_BAD_BODY', `fromNode: the app's chunked body is malformed: ${why}`)
}
