// The HTTP front (`tsgi front`): a node:http server that plays the web server for measuring and trying
// things out: CGI scripts per request through the CGI host, FastCGI prefixes through our client.
// Production traffic belongs to nginx or Apache; this has no load balancing, TLS or static files.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { TsgiError } from '../errors.js'
import { formatAccessLog } from '../gateways/http/access-log.js'
import { MAX_LOCAL_REDIRECTS } from '../gateways/http/server.js'
import { sendPlain } from '../gateways/http/sink.js'
import {
  type BadTarget,
  bodyFraming,
  parseTarget,
  redirectVariables,
  requestVariables,
  type Target,
} from '../gateways/http/variables.js'
import { listenHttp } from '../net/http-listen.js'
import { localRedirectOf } from '../protocol/cgi/redirect.js'
import { cgiBackend, FastcgiClient, fastcgiBackend } from './backends.js'
import { type Delivery, deliver } from './reply.js'
import { cgiRoute, fastcgiRoute, type Match, normalizePath, type Route, route } from './routes.js'
import type { BackendResponse, Vars } from './types.js'

export interface FrontOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 8080; 0 picks a free port. */
  port?: number
  /** A directory of CGI scripts, served at `cgiPrefix`. */
  cgiBin?: string
  /** Default `/cgi-bin`. */
  cgiPrefix?: string
  /** Prefixes forwarded to FastCGI responders: `{ prefix: '/fcgi', address: '/run/app.sock' }`. */
  fastcgi?: ReadonlyArray<{ prefix: string; address: string }>
  /** A CGI script without progress (no input taken, no output) for longer is killed (C-21). Default 60 s. */
  cgiTimeoutMs?: number
  /** Fixed variables every CGI script gets on top of the request's (Apache's SetEnv). */
  cgiEnv?: Readonly<Record<string, string>>
  /** One access-log line per request. Default stderr; `false`: none. */
  log?: ((line: string) => void) | false
  /** Backend failures and what scripts and apps write to stderr. Default stderr. */
  errors?: (line: string) => void
  /** Paths no route serves: answer and resolve true, or false for a 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>
}

export interface Front {
  server: Server
  /** `http://host:port/` */
  url: string
  port: number
  /** One client per FastCGI prefix: `stats` counts its connections and requests. */
  clients: ReadonlyMap<string, FastcgiClient>
  /** Stops accepting, waits for requests in flight, closes the FastCGI connections. */
  close(): Promise<void>
}

const toStderr = (line: string): void => void process.stderr.write(`${line}\n`)

/** Starts the front; resolves once it listens. */
export async function startFront(options: FrontOptions = {}): Promise<Front> {
  const errors = options.errors ?? toStderr
  const log = options.log === false ? undefined : (options.log ?? toStderr)
  const clients = new Map<string, FastcgiClient>()
  const routes: Route[] = []
  for (const { prefix, address } of options.fastcgi ?? []) {
    const client = new FastcgiClient({ address })
    clients.set(prefix, client)
    routes.push(
      fastcgiRoute(
        mountPoint(prefix),
        fastcgiBackend(client, (line) => errors(`fcgi ${prefix}: ${line}`)),
      ),
    )
  }
  if (options.cgiBin !== undefined) {
    const cgi = pick(options)
    const backendFor = (script: string) =>
      cgiBackend(script, { ...cgi, log: (line) => errors(`cgi ${script}: ${line}`) })
    routes.push(cgiRoute(mountPoint(options.cgiPrefix ?? '/cgi-bin'), options.cgiBin, backendFor))
  }
  routes.sort((a, b) => b.prefix.length - a.prefix.length)
  const server = createServer((req, res) => {
    handle(req, res, { routes, errors, log, fallback: options.fallback }).catch((error: unknown) => {
      errors(`front: internal error: ${error instanceof Error ? error.stack : String(error)}`)
      sendPlain(res, 500)
    })
  })
  const listening = await listenHttp(server, options.host ?? '127.0.0.1', options.port ?? 8080, 'front')
  const close = async (): Promise<void> => {
    await listening.close()
    await Promise.all([...clients.values()].map((client) => client.close()))
  }
  return { server, url: listening.url, port: listening.port, clients, close }
}

function pick(options: FrontOptions): { timeoutMs?: number; env?: Readonly<Record<string, string>> } {
  return {
    ...(options.cgiTimeoutMs === undefined ? {} : { timeoutMs: options.cgiTimeoutMs }),
    ...(options.cgiEnv === undefined ? {} : { env: options.cgiEnv }),
  }
}

/** `/fcgi/` and `/fcgi` mount at `/fcgi`; `/` at the root. */
function mountPoint(prefix: string): string {
  if (!prefix.startsWith('/')) throw new TsgiError('ERR_INVALID_ARGUMENT', `front: a prefix starts with /: ${prefix}`)
  return prefix.replace(/\/+$/, '')
}

interface Context {
  routes: Route[]
  errors: (line: string) => void
  log: ((line: string) => void) | undefined
  fallback: FrontOptions['fallback']
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const started = performance.now()
  const { remoteAddress } = req.socket // read now: a request destroyed later has no socket
  const controller = new AbortController()
  let delivered = false
  res.on('close', () => {
    // An NPH response never 'finishes' for node:http: once relayed whole, its script is left alone too.
    if (!res.writableFinished && !delivered) controller.abort(new TsgiError('ERR_ABORTED', 'front: the client left'))
  })
  res.on('error', () => {}) // a dead socket's EPIPE: the signal has already told the backend
  const outcome = await respond(req, res, ctx, controller.signal)
  delivered = outcome === undefined || !outcome.aborted
  if (!req.complete && !req.destroyed) req.resume() // a body the backend did not read: drop it, keep the connection
  if (outcome === undefined) return
  const entry = { remoteAddress, method: req.method ?? 'GET', uri: req.url ?? '/', httpVersion: req.httpVersion }
  ctx.log?.(formatAccessLog({ ...entry, ms: performance.now() - started, ...outcome }))
}

/** Routes the request, and again for each local redirect (RFC 3875 §6.2.2, C-14) a backend answers with. */
async function respond(req: IncomingMessage, res: ServerResponse, ctx: Context, signal: AbortSignal) {
  const first = normalized(parseTarget(req.url ?? '/'))
  if ('status' in first) return failed(res, first.status)
  let target: Target = first
  let vars: Vars = requestVariables(req, target)
  const framing = bodyFraming(req)
  let body: AsyncIterable<Uint8Array> | undefined =
    framing.chunked || (framing.length ?? 0) > 0 ? unread(req) : undefined
  for (let hop = 0; ; hop++) {
    const match = route(ctx.routes, target.pathInfo)
    if (match === undefined) {
      if (hop === 0 && ctx.fallback !== undefined && (await ctx.fallback(req, res))) return undefined
      return failed(res, 404)
    }
    const response = await call(match, withScript(vars, match), body, signal, ctx)
    if (typeof response === 'number') return failed(res, response)
    const location = response.kind === 'cgi' ? localRedirectOf(response.status, response.headers) : undefined
    if (location === undefined) {
      const onError = (error: unknown): void => ctx.errors(`front: ${match.scriptName}: ${describe(error)}`)
      return deliver(res, response, { method: req.method ?? 'GET' }, onError)
    }
    if (response.kind === 'cgi') for await (const _ of response.body); // a redirect has no body (C-14)
    const next = normalized(parseTarget(Buffer.from(location, 'utf8').toString('latin1')))
    if ('status' in next || hop === MAX_LOCAL_REDIRECTS) {
      ctx.errors(`front: local redirect to ${JSON.stringify(location)} refused (bad target or a loop)`)
      return failed(res, 500)
    }
    // Apache drops the body on an internal redirect: the new request is a bodyless GET.
    vars = redirectVariables(vars, target, next)
    target = next
    body = undefined
  }
}

/** The target with a dot-free path, or a 400 for one climbing above the root (S-03). */
function normalized(target: Target | BadTarget): Target | BadTarget {
  if ('status' in target) return target
  const pathInfo = normalizePath(target.pathInfo)
  if (pathInfo === undefined) return { status: 400, message: `front: ${target.rawPath} climbs above /` }
  return { ...target, pathInfo }
}

/** The request's variables with this route's SCRIPT_NAME, PATH_INFO and SCRIPT_FILENAME. */
function withScript(vars: Vars, match: Match): Vars {
  // HTTP_PROXY never leaves the front, to a script or a responder (httpoxy, S-01: PHP-FPM's getenv() reads it).
  const own = new Set(['SCRIPT_NAME', 'PATH_INFO', 'SCRIPT_FILENAME', 'HTTP_PROXY'])
  const out: Vars = vars.filter(([name]) => !own.has(name))
  out.push(['SCRIPT_NAME', match.scriptName], ['PATH_INFO', match.pathInfo])
  if (match.scriptFilename !== undefined) out.push(['SCRIPT_FILENAME', match.scriptFilename])
  return out
}

async function call(
  match: Match,
  vars: Vars,
  body: AsyncIterable<Uint8Array> | undefined,
  signal: AbortSignal,
  ctx: Context,
): Promise<BackendResponse | number> {
  try {
    return await match.backend({ vars, body, signal })
  } catch (error) {
    if (signal.aborted) return 0
    const status = error instanceof TsgiError && error.status !== undefined ? error.status : 502
    ctx.errors(`front: ${match.scriptName}: ${describe(error)}`)
    return status
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function failed(res: ServerResponse, status: number): Delivery {
  if (status === 0 || res.destroyed) return { status: 0, bytes: 0, aborted: true }
  return { status, bytes: sendPlain(res, status), aborted: false }
}

/** The request body for a backend; a backend that stops reading early leaves the request whole (drained after). */
function unread(req: IncomingMessage): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) }
}
