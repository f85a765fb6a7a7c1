// The socket a Node app's ServerResponse writes to under fromNode: the HTTP/1.1 head it writes first
// becomes startResponse (interim 1xx heads are dropped), every later byte a body chunk that the gateway
// pulls; a write completes only once its bytes were pulled, which is the app's backpressure.
import { Buffer } from 'node:buffer'
import { Duplex } from 'node:stream'
import type { Body, Chunk, Environ, HeaderList, StartResponse } from '../app.js'
import { TsgiError } from '../errors.js'
import { Dechunker } from './dechunk.js'
import { requestHeaders, responseHeaders } from './headers.js'
import { type MountOptions, mountedLocation } from './url.js'

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
  /** The head so far, until it is whole (node:http writes it as a latin1 string). */
  #head: string | undefined = ''
  #chunks: Uint8Array[] = []
  #written: (() => void) | undefined
  #wake: (() => void) | undefined
  #finished = false
  #failure: unknown
  /** Set when the app asked for chunked framing itself (Transfer-Encoding: chunked). */
  #dechunker: Dechunker | undefined

  constructor(environ: Environ, startResponse: StartResponse, options: MountOptions) {
    // Strings as node:http writes them: the head is parsed from its latin1 text without a byte round trip.
    super({ decodeStrings: false })
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

  override _write(chunk: Uint8Array | string, encoding: BufferEncoding, written: (error?: Error | null) => void): void {
    try {
      const body = this.#head === undefined ? bytes(chunk, encoding) : this.#takeHead(chunk, encoding)
      if (this.#dechunker !== undefined) this.#chunks.push(...this.#dechunker.push(body))
      else if (body.byteLength > 0) this.#chunks.push(body)
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
  #takeHead(chunk: Uint8Array | string, encoding: BufferEncoding): Uint8Array {
    const text = typeof chunk === 'string' && encoding === 'latin1' ? chunk : bytes(chunk, encoding).toString('latin1')
    const head = this.#head + text
    const end = head.indexOf('\r\n\r\n')
    if (end === -1) {
      this.#head = head
      return EMPTY
    }
    const lines = head.slice(0, end).split('\r\n')
    const status = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(lines[0] ?? '')
    if (status === null)
      throw new TsgiError('ERR_BAD_STATUS', `fromNode: no status line in ${JSON.stringify(lines[0])}`)
    // An interim response (103 Early Hints, 100 Continue) is not the response: the next head is.
    if (status[1]!.startsWith('1')) {
      this.#head = ''
      return this.#takeHead(head.slice(end + 4), 'latin1')
    }
    this.#head = undefined
    this.#startResponse(`${status[1]} ${status[2]}`, this.#headers(lines.slice(1)))
    return end + 4 === head.length ? EMPTY : Buffer.from(head.slice(end + 4), 'latin1')
  }

  #headers(lines: string[]): HeaderList {
    const entries: Array<[string, string]> = []
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon)
      const value = line.slice(colon + 1).trim()
      if (/^transfer-encoding$/i.test(name) && /chunked/i.test(value)) this.#dechunker = new Dechunker()
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

const EMPTY = Buffer.alloc(0)

/** A chunk as node:http handed it over: a Buffer, or a string in `encoding`. */
function bytes(chunk: Uint8Array | string, encoding: BufferEncoding): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding)
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}
