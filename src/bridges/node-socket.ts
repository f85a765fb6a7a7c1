// The socket a Node app's ServerResponse writes to under fromNode: the HTTP/1.1 head it writes first
// becomes startResponse (interim 1xx heads are dropped), every later byte a body chunk that the gateway
// pulls; a write completes only once its bytes were pulled, which is the app's backpressure.
import { Duplex } from 'node:stream'
import type { Body, Chunk, Environ, HeaderList, StartResponse } from '../app.js'
import { TsgiError } from '../errors.js'
import { requestHeaders, responseHeaders } from './headers.js'
import { type MountOptions, mountedLocation } from './url.js'

const CRLFCRLF = [13, 10, 13, 10]

export class ResponseSocket extends Duplex {
  readonly requestHeaders: Array<[string, string]>
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
  readonly localAddress: string | undefined
  readonly localPort: number | undefined
  /** What Express's req.protocol and req.secure look at. */
  readonly encrypted: true | undefined
  /** The response body, for the gateway. */
  readonly body: Body
  readonly #environ: Environ
  readonly #startResponse: StartResponse
  readonly #options: MountOptions
  #head: Uint8Array | undefined = new Uint8Array(0)
  #chunks: Uint8Array[] = []
  #written: (() => void) | undefined
  #wake: (() => void) | undefined
  #finished = false
  #failure: unknown

  constructor(environ: Environ, startResponse: StartResponse, options: MountOptions) {
    super()
    this.#environ = environ
    this.#startResponse = startResponse
    this.#options = options
    this.requestHeaders = requestHeaders(environ)
    this.remoteAddress = environ.REMOTE_ADDR
    this.remotePort = numberOr(environ.REMOTE_PORT)
    this.localAddress = typeof environ.SERVER_ADDR === 'string' ? environ.SERVER_ADDR : undefined
    this.localPort = numberOr(environ.SERVER_PORT)
    this.encrypted = environ['tsgi.url_scheme'] === 'https' ? true : undefined
    this.body = { [Symbol.asyncIterator]: () => this.#iterator() }
  }

  // What node:http calls on a socket; nothing to do without a real connection.
  setTimeout(): this {
    return this
  }
  setNoDelay(): this {
    return this
  }
  setKeepAlive(): this {
    return this
  }
  destroySoon(): void {
    this.end()
  }

  override _read(): void {}

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, written: (error?: Error | null) => void): void {
    try {
      const body = this.#head === undefined ? chunk : this.#takeHead(chunk)
      if (body.byteLength > 0) this.#chunks.push(body)
    } catch (error) {
      this.#failure = error
      written(error as Error)
      this.#notify()
      return
    }
    // Done once the gateway has pulled these bytes: until then the app's writes wait (backpressure).
    if (this.#chunks.length === 0) written()
    else this.#written = () => written()
    this.#notify()
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#finished = true
    this.#notify()
    done()
    this.push(null) // both sides over: the socket closes, and res emits 'close' after 'finish' as on a server
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#finished = true
    this.#failure ??= error ?? undefined
    this.#release()
    this.#notify()
    done(error)
  }

  /** Collects the head; once whole, answers startResponse with it and returns the bytes after it. */
  #takeHead(chunk: Uint8Array): Uint8Array {
    const bytes = concat(this.#head!, chunk)
    const end = indexOf(bytes, CRLFCRLF)
    if (end === -1) {
      this.#head = bytes
      return new Uint8Array(0)
    }
    const lines = latin1(bytes.subarray(0, end)).split('\r\n')
    const status = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(lines[0] ?? '')
    if (status === null)
      throw new TsgiError('ERR_BAD_STATUS', `fromNode: no status line in ${JSON.stringify(lines[0])}`)
    const rest = bytes.subarray(end + 4)
    // An interim response (103 Early Hints, 100 Continue) is not the response: the next head is.
    if (status[1]!.startsWith('1')) {
      this.#head = new Uint8Array(0)
      return this.#takeHead(rest)
    }
    this.#head = undefined
    this.#startResponse(`${status[1]} ${status[2]}`, this.#headers(lines.slice(1)))
    return rest
  }

  #headers(lines: string[]): HeaderList {
    const entries: Array<[string, string]> = []
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon)
      const value = line.slice(colon + 1).trim()
      entries.push([
        name,
        name.toLowerCase() === 'location' ? mountedLocation(value, this.#environ, this.#options) : value,
      ])
    }
    return responseHeaders(entries)
  }

  async *#iterator(): AsyncGenerator<Chunk> {
    let done = false
    try {
      for (;;) {
        const chunk = this.#chunks.shift()
        if (chunk !== undefined) {
          if (this.#chunks.length === 0) this.#release()
          yield chunk
          continue
        }
        if (this.#failure !== undefined) throw this.#failure
        if (this.#finished) {
          done = true
          if (this.#head !== undefined)
            throw new TsgiError('ERR_NO_START_RESPONSE', 'fromNode: the app ended without a response')
          return
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
    } finally {
      // Stopped early (the client left, or a HEAD needs nothing more): the app sees 'close'.
      if (!done && !this.destroyed) this.destroy()
    }
  }

  #release(): void {
    const written = this.#written
    this.#written = undefined
    written?.()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

function numberOr(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : Number.NaN
  return Number.isInteger(n) ? n : undefined
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}

function indexOf(bytes: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

function latin1(bytes: Uint8Array): string {
  let text = ''
  for (let at = 0; at < bytes.length; at += 4096) text += String.fromCharCode(...bytes.subarray(at, at + 4096))
  return text
}
