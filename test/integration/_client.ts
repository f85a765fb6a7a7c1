// A raw HTTP/1.1 client for the integration tests: sends exactly the bytes asked for (repeated headers,
// a Proxy header, a chunked body), keeps every response header line as sent, and can hang up mid-response.
import { connect } from 'node:net'
import { connect as connectTls } from 'node:tls'

export interface Response {
  status: number
  /** Header lines in order, names lower-cased; a repeated header appears once per line. */
  headers: Array<[string, string]>
  body: Buffer
}

export interface RequestOptions {
  method?: string
  headers?: Array<[string, string]>
  /** A body sent with Content-Length. */
  body?: Uint8Array
  /** A body sent with Transfer-Encoding: chunked, one chunk per element. */
  chunks?: Uint8Array[]
  /** Over TLS (HTTPS), trusting whatever certificate the server shows (the tests' own, self-signed). */
  tls?: boolean
}

/** One request on its own connection (`Connection: close`); resolves when the server closes it. */
export function request(port: number, target: string, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : connect(port, '127.0.0.1')
    const received: Buffer[] = []
    const finish = (): void => {
      try {
        resolve(parse(Buffer.concat(received), (options.method ?? 'GET') === 'HEAD'))
      } catch (err) {
        reject(err)
      }
    }
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A server that answers before the body is all sent (HAProxy's 400 to a chunked upload) and closes:
      // the write fails, but the answer has arrived.
      if (received.length > 0 && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) finish()
      else reject(err)
    })
    socket.on('end', finish)
    socket.write(head(port, target, options))
    if (options.body !== undefined) socket.write(options.body)
    if (options.chunks !== undefined) {
      for (const chunk of options.chunks)
        socket.write(Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))
      socket.write('0\r\n\r\n')
    }
  })
}

/**
 * Sends a GET, waits for the first body bytes, then destroys the connection: a client that goes away
 * mid-response. Resolves with the status line once the socket is gone.
 */
export function requestAndHangUp(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let seen = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk])
      const end = seen.indexOf('\r\n\r\n')
      if (end !== -1 && seen.length > end + 4) {
        socket.destroy()
        resolve(seen.subarray(0, seen.indexOf('\r\n')).toString('latin1'))
      }
    })
    socket.on('error', reject)
    socket.on('end', () =>
      reject(new Error(`server closed before any body byte: ${seen.toString('latin1').slice(0, 200)}`)),
    )
    socket.write(head(port, target, {}))
  })
}

function head(port: number, target: string, options: RequestOptions): string {
  const lines = [`${options.method ?? 'GET'} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close']
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`)
  if (options.body !== undefined) lines.push(`Content-Length: ${options.body.byteLength}`)
  if (options.chunks !== undefined) lines.push('Transfer-Encoding: chunked')
  return `${lines.join('\r\n')}\r\n\r\n`
}

function parse(raw: Buffer, isHead: boolean): Response {
  const end = raw.indexOf('\r\n\r\n')
  if (end === -1) throw new Error(`no response head in ${raw.length} bytes: ${raw.toString('latin1').slice(0, 200)}`)
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1])
  if (!Number.isInteger(status)) throw new Error(`bad status line ${JSON.stringify(statusLine)}`)
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
  })
  let body = raw.subarray(end + 4)
  const chunked = headers.some(([name, value]) => name === 'transfer-encoding' && /chunked/i.test(value))
  if (chunked && !isHead) body = dechunk(body)
  return { status, headers, body }
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    if (lineEnd === -1) throw new Error('chunked body: truncated size line')
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16)
    if (!Number.isInteger(size)) throw new Error('chunked body: bad size line')
    if (size === 0) return Buffer.concat(parts)
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

/** Every value of a response header (lower-case name), in order. */
export function headerValues(response: Response, name: string): string[] {
  return response.headers.filter(([n]) => n === name).map(([, value]) => value)
}

/** What the fixture apps answer in JSON: the tests assert its shape, key by key. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read by the assertions that check it
export type JsonObject = Record<string, any>

/** The body as JSON, with the response in the error when it is not JSON. */
export function json(response: Response): JsonObject {
  try {
    return JSON.parse(response.body.toString('utf8')) as JsonObject
  } catch {
    throw new Error(`expected JSON, got ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`)
  }
}
