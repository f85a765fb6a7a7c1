// Fetch handlers as TSGI apps: fromFetch(handler | { fetch }) runs a Fetch-API app (Hono, itty-router,
// anything with a `.fetch`) under every tsgi gateway, unchanged. The request body streams in only when
// there is one; the response streams out with backpressure; every Set-Cookie stays its own header.
import type { AppFunction, Body, Environ, HeaderList, InputStream, StartResponse } from '../app.js'
import { reasonPhrase } from '../core/http.js'
import { TsgiError } from '../errors.js'
import { requestHeaders, responseHeaders } from './headers.js'
import { bodySource } from './response-source.js'
import { type MountOptions, mountedLocation, origin, target } from './url.js'

/** A Fetch handler; the environ comes as the second argument (Hono's `c.env`). */
export type FetchHandler = (request: Request, environ: Environ) => Response | Promise<Response>

/** An object with a fetch method: a Hono app, `export default { fetch }`. */
export interface FetchApp {
  fetch(request: Request, environ: Environ, ...rest: never[]): Response | Promise<Response>
}

export type FromFetchOptions = MountOptions

/** The TSGI app that serves `handler`. */
export function fromFetch(handler: FetchHandler | FetchApp, options: FromFetchOptions = {}): AppFunction {
  const fetch = toHandler(handler)
  return async function fetchApp(environ: Environ, startResponse: StartResponse): Promise<Body> {
    const response = await fetch(requestOf(environ, options), environ)
    if (!(response instanceof Response)) {
      throw new TsgiError('ERR_BAD_BODY', `fromFetch: the handler must return a Response, got ${typeof response}`)
    }
    const reason = response.statusText || reasonPhrase(response.status)
    startResponse(`${response.status} ${reason}`, headersOf(response, environ, options))
    if (response.body === null) return []
    const source = bodySource(response)
    return source === undefined ? chunks(response.body) : [source]
  }
}

function toHandler(handler: FetchHandler | FetchApp): FetchHandler {
  if (typeof handler === 'function') return handler
  if (handler !== null && typeof handler === 'object' && typeof handler.fetch === 'function') {
    return (request, environ) => handler.fetch(request, environ)
  }
  throw new TsgiError('ERR_BAD_APP', 'fromFetch: needs a Fetch handler (request) => Response or an object with fetch()')
}

/** The Request the client sent, as far as the environ tells (SPEC §3.5); `signal` is tsgi.signal. */
export function requestOf(environ: Environ, options: MountOptions = {}): Request {
  const init: RequestInit & { duplex?: 'half' } = { method: environ.REQUEST_METHOD, headers: requestHeaders(environ) }
  if (hasBody(environ)) {
    init.body = streamOf(environ['tsgi.input'])
    init.duplex = 'half' // a streamed request body (Node's fetch requires saying so)
  }
  return new GatewayRequest(origin(environ) + target(environ, options), init, environ)
}

/**
 * A Request whose signal is tsgi.signal itself, made when first read: passing it to the constructor would
 * have undici make and link a follower signal for every request (docs/performance.md, "Bridges").
 */
class GatewayRequest extends Request {
  readonly #environ: Environ
  constructor(url: string, init: RequestInit, environ: Environ) {
    super(url, init)
    this.#environ = environ
  }
  // @ts-expect-error TS2611: lib.dom declares `signal` a field; on Request.prototype it is an accessor.
  override get signal(): AbortSignal {
    return this.#environ['tsgi.signal']
  }
}

/** A body only when the request has one: a CONTENT_LENGTH over 0, or none for a method that may carry one. */
function hasBody(environ: Environ): boolean {
  if (environ.REQUEST_METHOD === 'GET' || environ.REQUEST_METHOD === 'HEAD') return false
  return environ.CONTENT_LENGTH === undefined ? environ.REQUEST_METHOD !== 'OPTIONS' : environ.CONTENT_LENGTH !== '0'
}

/** tsgi.input as a byte stream that reads only when the handler does (backpressure). */
function streamOf(input: InputStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = await input.read(64 * 1024)
        if (chunk.byteLength === 0) controller.close()
        else controller.enqueue(chunk)
      },
      // The handler stopped reading: the gateway drops the rest of the body after the response.
      cancel() {},
    },
    { highWaterMark: 0 },
  )
}

function headersOf(response: Response, environ: Environ, options: MountOptions): HeaderList {
  const entries: Array<[string, string]> = []
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue // listed one by one below: never joined into one line
    entries.push([name, name === 'location' ? mountedLocation(value, environ, options) : value])
  }
  for (const cookie of response.headers.getSetCookie()) entries.push(['set-cookie', cookie])
  return responseHeaders(entries)
}

/** The response body as chunks pulled one at a time; closing the body early cancels the stream. */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  let done = false
  try {
    for (;;) {
      const step = await reader.read()
      if (step.done) {
        done = true
        return
      }
      yield step.value
    }
  } finally {
    if (!done) reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}
