// The app side of the validator for one request: startResponse, write() and every body byte
// (SPEC §4, §5). Rules are checked where the app breaks them, so the stack points at the culprit.
import type { Chunk, Environ, HeaderList, StartResponse, Write } from '../../app.js'
import { checkHeaders, parseStatus } from '../../core/headers.js'
import { chunkLength, describe, isChunk, isErrorLike, isThenable, relabel, show, violation } from './common.js'

const NO_BODY_STATUS = new Set([204, 304])

/** The response as the app has declared it so far, and what it produced. */
export class AppResponse {
  readonly #method: string
  readonly #gatewayStart: StartResponse
  #started = false
  #code = 0
  #declared: number | undefined
  #hasContentType = false
  #localRedirect = false
  /** Body bytes produced so far (body chunks and write()). */
  bytes = 0
  /** The gateway began iterating the body: write() is over (SPEC §4.3). */
  bodyBegan = false
  /** The body ended, failed or was closed: the response is over for the app (SPEC §5.3). */
  ended = false
  /** A non-empty chunk reached the gateway, which has therefore sent the headers (SPEC §4.2). */
  headersSent = false

  constructor(environ: Environ, gatewayStart: StartResponse) {
    this.#method = environ.REQUEST_METHOD
    this.#gatewayStart = gatewayStart
  }

  /** The startResponse the app receives (SPEC §4). */
  readonly startResponse = (...args: unknown[]): Write => {
    if (args.length < 2 || args.length > 3) {
      throw violation(`startResponse takes (status, headers, excInfo?), got ${args.length} arguments (SPEC §4)`)
    }
    const [status, headers, excInfo] = args
    const hasExcInfo = excInfo !== undefined && excInfo !== null
    if (this.ended) throw violation('startResponse called after the response ended (SPEC §4)')
    if (hasExcInfo && !isErrorLike(excInfo)) {
      throw violation(`excInfo must be the caught Error, got ${describe(excInfo)} (SPEC §4)`)
    }
    if (this.#started && !hasExcInfo) throw violation('startResponse called twice without excInfo (SPEC §4)')
    const { code } = relabel(() => parseStatus(status))
    const list = relabel(() => checkHeaders(headers))
    checkResponseHeaders(code, list)
    if (hasExcInfo && this.headersSent) {
      this.#gatewayStart(status as string, headers as HeaderList, excInfo)
      throw violation("the gateway's startResponse did not re-throw excInfo after the headers were sent (SPEC §4)")
    }
    const write: unknown = this.#gatewayStart(status as string, headers as HeaderList, excInfo)
    if (typeof write !== 'function') {
      throw violation(`the gateway's startResponse must return a write function, got ${describe(write)} (SPEC §4.3)`)
    }
    this.#declare(code, list)
    return this.#wrapWrite(write as Write)
  }

  /** Every chunk, from the body or write(), passes here before the gateway sees it. */
  chunk(chunk: unknown, source: string): asserts chunk is Chunk {
    if (!isChunk(chunk)) {
      throw violation(`${source} produced ${describe(chunk)}: a chunk is a Uint8Array or a string (SPEC §5.2)`)
    }
    if (!this.#started) throw violation(`${source} produced a chunk before startResponse was called (SPEC §4)`)
    const size = chunkLength(chunk)
    if (size === 0) return
    if (this.#method === 'HEAD')
      throw violation(`a HEAD response must have no body; ${source} produced ${size} bytes (SPEC §5.5)`)
    if (NO_BODY_STATUS.has(this.#code)) {
      throw violation(`a ${this.#code} response must have no body; ${source} produced ${size} bytes (SPEC §5.5)`)
    }
    if (this.#localRedirect)
      throw violation('a local redirect (200 with Location: /path) must have an empty body (SPEC §5.7)')
    if (!this.#hasContentType) throw violation('a response with a body must have a Content-Type (SPEC §5.6)')
    this.bytes += size
    if (this.#declared !== undefined && this.bytes > this.#declared) {
      throw violation(
        `the body is longer than its Content-Length of ${this.#declared}: ${this.bytes} bytes so far (SPEC §5.2)`,
      )
    }
  }

  /** The gateway began iterating the body. */
  beginBody(): void {
    this.bodyBegan = true
  }

  /** The body reported its end: the response must be complete (SPEC §4, §5.2). */
  end(): void {
    if (this.ended) return
    this.ended = true
    if (!this.#started) throw violation('the body ended but startResponse was never called (SPEC §4)')
    const exempt = this.#method === 'HEAD' || this.#code === 304
    if (this.#declared !== undefined && !exempt && this.bytes !== this.#declared) {
      throw violation(`the body has ${this.bytes} bytes but its Content-Length says ${this.#declared} (SPEC §5.2)`)
    }
  }

  #declare(code: number, headers: HeaderList): void {
    this.#started = true
    this.#code = code
    this.#declared = undefined
    this.#hasContentType = false
    this.#localRedirect = false
    for (const [name, value] of headers) {
      const lower = name.toLowerCase()
      if (lower === 'content-length') this.#declared = Number(value)
      else if (lower === 'content-type') this.#hasContentType = true
      else if (lower === 'location') this.#localRedirect = code === 200
    }
  }

  #wrapWrite(write: Write): Write {
    return (...args: unknown[]): Promise<void> => {
      if (args.length !== 1) throw violation(`write() takes one chunk, got ${args.length} arguments (SPEC §4.3)`)
      if (this.bodyBegan) throw violation('write() called after the gateway began iterating the body (SPEC §4.3)')
      const chunk = args[0]
      this.chunk(chunk, 'write()')
      const done: unknown = write(chunk)
      if (!isThenable(done))
        throw violation(`the gateway's write() must return a promise, got ${describe(done)} (SPEC §4.3)`)
      if (chunkLength(chunk) > 0) {
        done.then(
          () => (this.headersSent = true),
          () => undefined,
        )
      }
      return done as Promise<void>
    }
  }
}

/** Header rules that depend on the status or on several headers (SPEC §4.2, §5.5, §5.7). */
function checkResponseHeaders(code: number, headers: HeaderList): void {
  const count = new Map<string, number>()
  let location: string | undefined
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    count.set(lower, (count.get(lower) ?? 0) + 1)
    if (lower === 'location') location = value
  }
  for (const name of ['Content-Type', 'Location']) {
    if ((count.get(name.toLowerCase()) ?? 0) > 1) throw violation(`${name} given twice (SPEC §4.2)`)
  }
  if (NO_BODY_STATUS.has(code) && count.has('content-type')) {
    throw violation(`a ${code} response must not have a Content-Type (SPEC §5.5)`)
  }
  if (code === 204 && count.has('content-length'))
    throw violation('a 204 response must not have a Content-Length (SPEC §5.5)')
  if (code !== 200 || location === undefined) return
  if (!/^\/(?!\/)/.test(location)) {
    throw violation(
      `a 200 with Location must be a local redirect to an absolute path, got ${show(location)}; use a 3xx for a client redirect (SPEC §5.7)`,
    )
  }
  if (headers.length > 1) throw violation('a local redirect must have no header but Location (SPEC §5.7)')
}
