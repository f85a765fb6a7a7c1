// Helpers for the CGI tests: parse a CGI (or NPH) response, and in-memory stdio for runCgi.
import { PassThrough, Writable } from 'node:stream'

export interface CgiResponse {
  /** `Status: 200 OK` value, or the NPH status line. */
  status: string
  headers: Array<[string, string]>
  body: Buffer
  raw: Buffer
}

/** Splits a CGI response at its blank line; the head must use CRLF only (C-12). */
export function parseCgi(raw: Buffer): CgiResponse {
  const end = raw.indexOf('\r\n\r\n')
  if (end === -1)
    throw new Error(`no blank line in CGI response: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`)
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n')
  let status = ''
  const headers: Array<[string, string]> = []
  for (const [i, line] of lines.entries()) {
    if (i === 0 && line.startsWith('HTTP/')) {
      status = line
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0 || /[\r\n]/.test(line)) throw new Error(`bad CGI header line ${JSON.stringify(line)}`)
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === 'status') status = value
    else headers.push([name, value])
  }
  return { status, headers, body: raw.subarray(end + 4), raw }
}

export function header(response: CgiResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1]
}

/** A Writable that keeps what it receives; `fail` makes a write fail with that errno code. */
export class Collector extends Writable {
  chunks: Buffer[] = []
  maxBuffered = 0
  failAfter: number | undefined
  failCode = 'EPIPE'
  delay = false

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength)
    if (this.failAfter !== undefined && this.chunks.length >= this.failAfter) {
      callback(Object.assign(new Error(`write ${this.failCode}`), { code: this.failCode }))
      return
    }
    this.chunks.push(chunk)
    if (this.delay) setImmediate(callback)
    else callback()
  }

  get buffer(): Buffer {
    return Buffer.concat(this.chunks)
  }

  get text(): string {
    return this.buffer.toString('utf8')
  }
}

export function stdio(): { stdin: PassThrough; stdout: Collector; stderr: Collector } {
  return { stdin: new PassThrough(), stdout: new Collector(), stderr: new Collector() }
}
