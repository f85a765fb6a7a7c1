// A TSGI app as a Fetch handler: toFetch(app) answers a Request with a Response wherever one is expected
// (Bun.serve, Deno.serve, a service worker, a test). The Request becomes CGI variables (RFC 3875 §4.1)
// and the shared engine drives a streamed Response, with backpressure.
import type { App, ErrorStream, HeaderList } from '../app.js'
import type { ResponseSink } from '../core/engine.js'
import { runApp } from '../core/engine.js'
import { BodyInput } from '../core/input.js'
import { buildEnviron } from '../protocol/cgi/environ.js'
import { SERVER_SOFTWARE } from '../version.js'

export interface ToFetchOptions {
  /** tsgi.errors; default: console.error. */
  errors?: ErrorStream
}

/** The Fetch handler that serves `app`. */
export function toFetch(app: App, options: ToFetchOptions = {}): (request: Request) => Promise<Response> {
  const errors = options.errors ?? { write: (message: string) => console.error(message.trimEnd()) }
  return (request) => {
    const url = new URL(request.url)
    const input = inputOf(request)
    const environ = buildEnviron(variablesOf(request, url), {
      input,
      errors,
      signal: request.signal,
      multithread: false,
      multiprocess: false,
      runOnce: false,
      urlScheme: url.protocol === 'https:' ? 'https' : 'http',
    })
    const sink = new StreamSink()
    void runApp(app, environ, sink).then((result) => {
      void input.discard()
      sink.settle(result.error)
    })
    return sink.response
  }
}

/** RFC 3875 §4.1 variables of a Fetch Request: path decoded for PATH_INFO, the query as it is. */
function variablesOf(request: Request, url: URL): Array<[string, string]> {
  const vars: Array<[string, string]> = [
    ['REQUEST_METHOD', request.method],
    ['SCRIPT_NAME', ''],
    ['PATH_INFO', decodePath(url.pathname)],
    ['QUERY_STRING', url.search.slice(1)],
    ['REQUEST_URI', url.pathname + url.search],
    ['SERVER_NAME', url.hostname],
    ['SERVER_PORT', url.port || (url.protocol === 'https:' ? '443' : '80')],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_SOFTWARE', SERVER_SOFTWARE],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
  ]
  if (url.protocol === 'https:') vars.push(['HTTPS', 'on'])
  for (const [name, value] of request.headers) {
    if (name === 'content-type') vars.push(['CONTENT_TYPE', value])
    else if (name === 'content-length') vars.push(['CONTENT_LENGTH', value])
    else if (/^[a-z0-9-]+$/.test(name)) vars.push([`HTTP_${name.toUpperCase().replaceAll('-', '_')}`, value])
  }
  return vars
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path // not valid percent-encoded UTF-8: as sent
  }
}

/** tsgi.input fed from the Request's body stream, read while the app waits for bytes (backpressure). */
function inputOf(request: Request): BodyInput {
  const body = request.body
  if (body === null) return BodyInput.empty()
  const reader = body.getReader()
  let pumping = false
  const pump = async (): Promise<void> => {
    if (pumping) return
    pumping = true
    try {
      while (!input.paused && !input.ended) {
        const step = await reader.read()
        if (step.done) {
          input.end()
          return
        }
        input.push(step.value)
      }
    } catch (error) {
      input.fail(error)
    } finally {
      pumping = false
    }
  }
  const input: BodyInput = new BodyInput({ paused: true, onResume: () => void pump() })
  return input
}

/** The engine's output as a Response: resolved at the head, its body a stream the consumer pulls. */
class StreamSink implements ResponseSink {
  readonly response: Promise<Response>
  #resolve!: (response: Response) => void
  #reject!: (error: unknown) => void
  #answered = false
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined
  #pulled: (() => void) | undefined

  constructor() {
    this.response = new Promise((resolve, reject) => {
      this.#resolve = (response) => {
        this.#answered = true
        resolve(response)
      }
      this.#reject = reject
    })
  }

  /** The run is over: a request that got no head at all (the client left first) fails. */
  settle(error: unknown): void {
    if (!this.#answered) this.#reject(error ?? new Error('toFetch: the request was aborted before a response'))
  }

  head(status: number, reason: string, headers: HeaderList): void {
    const init = { status, statusText: reason, headers }
    // 204 and 304 have no body; nor does a HEAD response, which never gets body() calls.
    if (status === 204 || status === 304) {
      this.#resolve(new Response(null, init))
      return
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller
        },
        pull: () => this.#wake(),
        cancel: () => this.#wake(),
      },
      { highWaterMark: 1 },
    )
    this.#resolve(new Response(stream, init))
  }

  body(chunk: Uint8Array): Promise<void> | undefined {
    const controller = this.#controller
    if (controller === undefined) return undefined
    controller.enqueue(chunk)
    if ((controller.desiredSize ?? 1) > 0) return undefined
    return new Promise((resolve) => {
      this.#pulled = resolve
    })
  }

  end(): void {
    this.#controller?.close()
  }

  abort(error: unknown): void {
    this.#controller?.error(error)
  }

  #wake(): void {
    const wake = this.#pulled
    this.#pulled = undefined
    wake?.()
  }
}
