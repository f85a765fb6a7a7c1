// The development HTTP server (wsgiref.simple_server's job): one App on node:http. Each request becomes
// RFC 3875 §4.1 variables -> buildEnviron -> the shared engine (runApp) -> a NodeSink on the response.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { App, ErrorStream, InputStream } from '../../app.js'
import { runApp } from '../../core/engine.js'
import { BodyInput } from '../../core/input.js'
import { TsgiError } from '../../errors.js'
import { listenHttp } from '../../net/http-listen.js'
import { buildEnviron } from '../../protocol/cgi/environ.js'
import { formatAccessLog } from './access-log.js'
import { NodeSink, sendPlain } from './sink.js'
import { bodyFraming, parseTarget, redirectVariables, requestVariables, type Target } from './variables.js'

/** Apache's LimitInternalRecursion default: more local redirects than this in a row is a 500. */
export const MAX_LOCAL_REDIRECTS = 10

export interface ListenerOptions {
  /** Receives one access-log line per request (no newline). Default: stderr. `false`: no access log. */
  log?: ((line: string) => void) | false
  /** tsgi.errors, where app failures and their stacks go. Default: stderr. */
  errors?: ErrorStream
}

export interface ServeOptions extends ListenerOptions {
  /** Default 127.0.0.1: a dev server is not exposed unless asked (S-16). */
  host?: string
  /** Default 8000; 0 picks a free port. */
  port?: number
}

export interface DevServer {
  server: Server
  /** `http://host:port/` */
  url: string
  port: number
  /** Stops accepting, closes idle keep-alive connections, resolves when in-flight requests are done. */
  close(): Promise<void>
}

interface Outcome {
  status: number
  bytes: number
  aborted: boolean
}

const stderrStream: ErrorStream = { write: (message) => void process.stderr.write(message) }

/** A node:http request listener running `app`: mount it on your own http or https server. */
export function createRequestListener(app: App, options: ListenerOptions = {}) {
  const errors = options.errors ?? stderrStream
  const log =
    options.log === false ? undefined : (options.log ?? ((line: string) => void process.stderr.write(`${line}\n`)))
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(app, req, res, errors, log).catch((error: unknown) => {
      // runApp settles with a RunResult even when the app fails; reaching here is a tsgi bug.
      errors.write(`server: internal error: ${error instanceof Error ? error.stack : String(error)}\n`)
      sendPlain(res, 500)
    })
  }
}

async function handle(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  errors: ErrorStream,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  const started = performance.now()
  const remoteAddress = req.socket.remoteAddress
  const controller = new AbortController()
  // tsgi.signal: the client went away before the response ended.
  const gone = (): void => {
    if (!controller.signal.aborted) {
      controller.abort(new TsgiError('ERR_ABORTED', 'server: the client closed the connection'))
    }
  }
  res.on('close', () => {
    if (!res.writableFinished) gone()
  })
  // Writes racing a dead socket fail with EPIPE/ECONNRESET: expected, and already seen by the signal (S-13).
  res.on('error', () => {})
  const body = requestBody(req)
  let outcome: Outcome
  try {
    outcome = await respond(app, req, res, body.input, { signal: controller.signal, gone }, errors)
  } finally {
    body.release()
  }
  log?.(
    formatAccessLog({
      remoteAddress,
      method: req.method ?? 'GET',
      uri: req.url ?? '/',
      httpVersion: req.httpVersion,
      ms: performance.now() - started,
      ...outcome,
    }),
  )
}

/** Runs the app, then again for each local redirect (RFC 3875 §6.2.2) it answers with. */
async function respond(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  input: InputStream,
  { signal, gone }: { signal: AbortSignal; gone: () => void },
  errors: ErrorStream,
): Promise<Outcome> {
  const first = parseTarget(req.url ?? '/')
  if ('status' in first) return { status: first.status, bytes: sendPlain(res, first.status), aborted: false }
  let target: Target = first
  let vars = requestVariables(req, target)
  const urlScheme: 'http' | 'https' = (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http'
  for (let hop = 0; ; hop++) {
    const gateway = { input, errors, signal, multithread: false, multiprocess: false, runOnce: false, urlScheme }
    const sink = new NodeSink(res, gone)
    const result = await runApp(app, buildEnviron(vars, gateway), sink)
    const location = sink.localRedirect
    if (location === undefined) return { status: result.status, bytes: result.bytes, aborted: result.aborted }
    // The target is parsed as bytes, like a request line: UTF-8 encode the app's string first.
    const next = parseTarget(Buffer.from(location, 'utf8').toString('latin1'))
    if ('status' in next || hop === MAX_LOCAL_REDIRECTS) {
      const why =
        'status' in next
          ? `bad local redirect to ${JSON.stringify(location)}`
          : `more than ${MAX_LOCAL_REDIRECTS} local redirects in a row (last to ${JSON.stringify(location)})`
      errors.write(`server: ${why} for ${JSON.stringify(req.url)}\n`)
      return { status: 500, bytes: sendPlain(res, 500), aborted: false }
    }
    // Apache discards the request body on an internal redirect; the new request is a bodyless GET.
    vars = redirectVariables(vars, target, next)
    target = next
    input = BodyInput.empty()
  }
}

/**
 * tsgi.input fed from the request. The socket is read only while the app reads (BodyInput's onResume),
 * and paused when more than its high-water mark is buffered (backpressure).
 */
function requestBody(req: IncomingMessage): { input: BodyInput; release(): void } {
  const { length, chunked } = bodyFraming(req)
  // No body, or an empty one: nothing to read (node:http drains the request itself).
  if (!chunked && !length) return { input: BodyInput.empty(), release: () => {} }
  req.pause()
  const input = new BodyInput({
    ...(length === undefined ? {} : { expectedLength: length }),
    paused: true,
    onPause: () => req.pause(),
    onResume: () => req.resume(),
  })
  let ended = false
  const onData = (chunk: Buffer): void => input.push(chunk)
  const onEnd = (): void => {
    ended = true
    input.end()
  }
  // Not req.complete: the body may have arrived whole yet still sit unread in req, and a client that
  // leaves takes it along (node:http destroys req); the app's read must then fail, never hang.
  const onGone = (): void => {
    if (!ended) {
      const message = `server: the client closed the connection after ${input.received} body bytes`
      input.fail(new TsgiError('ERR_BODY_INCOMPLETE', message, { status: 400 }))
    }
  }
  req.on('data', onData)
  req.on('end', onEnd)
  req.on('error', onGone)
  req.on('close', onGone)
  return {
    input,
    // After the response, drop what the app did not read so the connection can serve the next request.
    release: () => {
      req.off('data', onData)
      if (!req.complete) req.resume()
    },
  }
}

/** Starts the dev server; resolves once it listens. */
export async function serve(app: App, options: ServeOptions = {}): Promise<DevServer> {
  const server = createServer(createRequestListener(app, options))
  const listening = await listenHttp(server, options.host ?? '127.0.0.1', options.port ?? 8000, 'server')
  return { server, ...listening }
}
