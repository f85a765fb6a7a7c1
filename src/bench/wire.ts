// Request bytes and end-of-response detectors for the bench's load generator. FastCGI and HTTP share one
// closed loop; only what is written here differs (pre-encoded requests, cheap detectors).
import {
  encodeBeginRequestBody,
  encodeParams,
  FLAG_KEEP_CONN,
  RecordType,
  Role,
  WebServerConnection,
} from '../protocol/fastcgi/index.js'

/** A request as the generator needs it: bytes to send, a body sent afterwards (bulk) or not. */
export interface RequestSpec {
  kind: 'fcgi' | 'http'
  method: 'GET' | 'POST'
  uri: string
  /** Request body length; the body is sent from a reused chunk, never held whole. */
  bodyBytes?: number
  /** FastCGI FCGI_KEEP_CONN (default true); false: the responder closes after each response. */
  keepConn?: boolean
}

/** What nginx 1.22 sends with the Debian fastcgi_params for `GET /` (plus Host), so PARAMS is realistic. */
export function fcgiParams(spec: RequestSpec): Array<[string, string]> {
  const [path = '/', query = ''] = spec.uri.split('?')
  return [
    ['QUERY_STRING', query],
    ['REQUEST_METHOD', spec.method],
    ['CONTENT_TYPE', spec.bodyBytes ? 'application/octet-stream' : ''],
    ['CONTENT_LENGTH', spec.bodyBytes ? String(spec.bodyBytes) : ''],
    ['SCRIPT_NAME', path],
    ['REQUEST_URI', spec.uri],
    ['DOCUMENT_URI', path],
    ['DOCUMENT_ROOT', '/var/www/html'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['REQUEST_SCHEME', 'http'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', 'nginx/1.22.1'],
    ['REMOTE_ADDR', '127.0.0.1'],
    ['REMOTE_PORT', '51234'],
    ['SERVER_ADDR', '127.0.0.1'],
    ['SERVER_PORT', '8080'],
    ['SERVER_NAME', 'localhost'],
    ['HTTP_HOST', '127.0.0.1:8080'],
  ]
}

/** Everything before the body: BEGIN_REQUEST (keep-conn), PARAMS, and for no body the empty STDIN. */
export function encodeHead(spec: RequestSpec): Uint8Array {
  if (spec.kind === 'http') {
    const length = spec.bodyBytes
      ? `Content-Length: ${spec.bodyBytes}\r\nContent-Type: application/octet-stream\r\n`
      : ''
    return Buffer.from(`${spec.method} ${spec.uri} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n${length}\r\n`, 'latin1')
  }
  const parts: Uint8Array[] = [
    record(
      RecordType.BeginRequest,
      encodeBeginRequestBody(Role.Responder, spec.keepConn === false ? 0 : FLAG_KEEP_CONN),
    ),
  ]
  const block = encodeParams(fcgiParams(spec))
  for (let at = 0; at < block.length; at += 65535) parts.push(record(RecordType.Params, block.subarray(at, at + 65535)))
  parts.push(record(RecordType.Params, new Uint8Array(0)))
  if (!spec.bodyBytes) parts.push(record(RecordType.Stdin, new Uint8Array(0)))
  return Buffer.concat(parts)
}

/** A run of body bytes ready to write `repeat` times, and what ends the body (the empty STDIN record). */
export function encodeBodyChunk(spec: RequestSpec, payload: number): { chunk: Uint8Array; tail: Uint8Array } {
  if (spec.kind === 'http') return { chunk: Buffer.alloc(payload, 0x61), tail: new Uint8Array(0) }
  const parts: Uint8Array[] = []
  for (let left = payload; left > 0; left -= 65528)
    parts.push(record(RecordType.Stdin, Buffer.alloc(Math.min(left, 65528), 0x61)))
  return { chunk: Buffer.concat(parts), tail: record(RecordType.Stdin, new Uint8Array(0)) }
}

/** One record with request id 1, unpadded (as our WebServerConnection writes by default). */
function record(type: number, content: Uint8Array): Uint8Array {
  const out = Buffer.alloc(8 + content.length)
  out[0] = 1
  out[1] = type
  out.writeUInt16BE(1, 2)
  out.writeUInt16BE(content.length, 4)
  out.set(content, 8)
  return out
}

/** Feeds response bytes (views valid only during the call); `push` is true once the awaited response is complete. */
export interface EndDetector {
  push(chunk: Uint8Array): boolean
  /** Bytes of the current response so far (reset by the next push after completion). */
  bytes: number
}

/** FastCGI: walk record headers, skip content and padding; done after a whole END_REQUEST. */
export function fcgiDetector(): EndDetector {
  const header = new Uint8Array(8)
  let fill = 0
  let skip = 0
  let type = 0
  let done = false
  const d: EndDetector = {
    bytes: 0,
    push(chunk) {
      if (done) {
        done = false
        d.bytes = 0
      }
      d.bytes += chunk.length
      const len = chunk.length
      let i = 0
      while (i < len) {
        if (skip > 0) {
          const n = Math.min(skip, len - i)
          i += n
          skip -= n
          if (skip === 0 && type === RecordType.EndRequest) {
            done = true
            return true
          }
          continue
        }
        if (fill === 0 && len - i >= 8) {
          type = chunk[i + 1]!
          skip = ((chunk[i + 4]! << 8) | chunk[i + 5]!) + chunk[i + 6]!
          i += 8
        } else {
          header[fill++] = chunk[i++]!
          if (fill < 8) continue
          fill = 0
          type = header[1]!
          skip = ((header[4]! << 8) | header[5]!) + header[6]!
        }
        if (skip === 0 && type === RecordType.EndRequest) {
          done = true
          return true
        }
      }
      return false
    },
  }
  return d
}

const HEAD_END = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

/** How the body after an HTTP/1.1 head is framed: a length (0: none) or chunked. */
function framing(head: string): number | 'chunked' {
  const status = Number(head.slice(9, 12))
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return 0
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) return 'chunked'
  const at = head.indexOf('\r\ncontent-length:')
  if (at < 0) throw new Error(`bench: HTTP response with no Content-Length and not chunked: ${JSON.stringify(head)}`)
  return parseInt(head.slice(at + 17), 10)
}

/**
 * HTTP/1.1: find the end of the head, then count Content-Length bytes or walk the chunks to the last one
 * (trailers are not expected). `bytes` counts the whole response.
 */
export function httpDetector(): EndDetector {
  let pending: Buffer | undefined // a head or a chunk-size line split across reads, copied
  let bodyLeft = -1 // -1: in the head; -2: at a chunk-size line; -3: at the final CRLF
  let chunked = false
  let done = false
  const d: EndDetector = {
    bytes: 0,
    push(chunk) {
      if (done) {
        done = false
        d.bytes = 0
      }
      d.bytes += chunk.length
      let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      if (pending !== undefined) {
        buf = Buffer.concat([pending, buf])
        pending = undefined
      }
      while (true) {
        if (bodyLeft === -1) {
          const end = buf.indexOf(HEAD_END)
          if (end < 0) return hold(buf)
          const frame = framing(buf.toString('latin1', 0, end + 2).toLowerCase())
          chunked = frame === 'chunked'
          bodyLeft = frame === 'chunked' ? -2 : frame
          buf = buf.subarray(end + 4)
          continue
        }
        if (bodyLeft === -2 || bodyLeft === -3) {
          const eol = buf.indexOf(CRLF)
          if (eol < 0) return hold(buf)
          const size = bodyLeft === -3 ? 0 : parseInt(buf.toString('latin1', 0, eol), 16)
          buf = buf.subarray(eol + 2)
          if (bodyLeft === -3) return finish()
          bodyLeft = size === 0 ? -3 : size + 2 // the chunk and its CRLF
          continue
        }
        if (buf.length < bodyLeft) {
          bodyLeft -= buf.length
          return false
        }
        buf = buf.subarray(bodyLeft)
        if (!chunked) return finish()
        bodyLeft = -2
      }
    },
  }
  const hold = (buf: Buffer): false => {
    if (buf.length > 0) pending = Buffer.from(buf) // a copy: the generator reuses its read buffer
    return false
  }
  const finish = (): true => {
    bodyLeft = -1
    done = true
    return true
  }
  return d
}

/** Full decode of one FastCGI response with the project's own client side: status line and body. */
export function decodeFcgiResponse(bytes: Uint8Array): { status: string; body: string; appStatus: number } {
  const conn = new WebServerConnection()
  conn.beginRequest(1, Role.Responder, true)
  conn.takeOutput()
  conn.receiveData(bytes)
  // The client state machine wants PARAMS ended before it accepts STDOUT.
  conn.endParams(1)
  conn.endStdin(1)
  let out = ''
  let appStatus = -1
  for (let e = conn.nextEvent(); typeof e === 'object' && e.type !== 'closed'; e = conn.nextEvent()) {
    if (e.type === 'stdout') out += Buffer.from(e.data).toString('latin1')
    if (e.type === 'end-request') appStatus = e.appStatus
  }
  const split = out.indexOf('\r\n\r\n')
  const head = out.slice(0, split)
  const status = /^Status: (.*)$/im.exec(head)?.[1] ?? '200 OK'
  return { status, body: out.slice(split + 4), appStatus }
}

export function decodeHttpResponse(bytes: Uint8Array): { status: string; body: string } {
  const text = Buffer.from(bytes).toString('latin1')
  const split = text.indexOf('\r\n\r\n')
  const status = text.slice(9, text.indexOf('\r\n'))
  const body = text.slice(split + 4)
  return { status, body: framing(text.slice(0, split + 2).toLowerCase()) === 'chunked' ? dechunk(body) : body }
}

function dechunk(text: string): string {
  let out = ''
  for (let at = 0; at < text.length; ) {
    const eol = text.indexOf('\r\n', at)
    const size = parseInt(text.slice(at, eol), 16)
    if (!(size > 0)) break
    out += text.slice(eol + 2, eol + 2 + size)
    at = eol + 4 + size
  }
  return out
}
