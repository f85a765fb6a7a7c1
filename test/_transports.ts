// The gateways the conformance suite (test/_conformance.ts) runs the same app through: in-process
// (buildEnviron + runApp), the CGI adapter (a spawned bundle), the dev server, and the FastCGI
// responder over TCP, a Unix socket and an inherited fd-0 listening socket. Differences are flags.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import type { HeaderList } from '../src/app.js'
import { type ResponseSink, runApp } from '../src/core/engine.js'
import { BodyInput } from '../src/core/input.js'
import { type FastcgiServer, serveFastcgi } from '../src/gateways/fastcgi/index.js'
import { serve } from '../src/gateways/http/index.js'
import { FastcgiClient } from '../src/hosts/fastcgi/client.js'
import { buildEnviron } from '../src/protocol/cgi/environ.js'
import { parseCgiHead } from '../src/protocol/cgi/parse.js'
import conformanceApp from './fixtures/conformance-app.js'

export const ROOT = resolve(import.meta.dirname, '..')
const APP_PATH = join(ROOT, 'test/fixtures/conformance-app.ts')

export interface ConfRequest {
  method?: string
  /** PATH_INFO below the app's mount point, e.g. `/echo`. */
  path: string
  query?: string
  /** Request header lines; a repeated name is sent as repeated lines. */
  headers?: Array<[string, string]>
  body?: Uint8Array
}

export interface ConfResponse {
  status: number
  /** Response header lines in order, names lower-cased. */
  headers: Array<[string, string]>
  body: Buffer
  /** The response arrived whole and the gateway reported no delivery failure (CGI: exit status 0). */
  complete: boolean
  /** What tsgi.errors received for this request. */
  stderr: string
}

export interface Capabilities {
  /**
   * `dispatch`: the gateway serves a local redirect's target itself (RFC 3875 §6.2.2); `location`: 200 +
   * Location reaches the client; `client`: the web server turns it into a 302 (nginx, lighttpd).
   */
  localRedirect: 'dispatch' | 'location' | 'client'
  /** SCRIPT_NAME the app sees (the mount point). */
  scriptName: string
  multiprocess: boolean
  runOnce: boolean
  /** A 5 KiB response header becomes a clean 500 (the FastCGI responder keeps heads under nginx's 4 KiB). */
  headerCap: boolean
  // What a web server in front changes (test/integration/_http-transport.ts); absent: as the gateway itself does.
  /** environ CONTENT_LENGTH on a GET without a body: absent, or '0' (mod_fcgid and lighttpd send it). */
  getContentLength?: '0'
  /** How two Cookie request lines arrive: joined with '; ' (tsgi's own join) or with ', ' (Apache, like any header). */
  cookieJoin?: '; ' | ', '
  /** The server drops a request's `Proxy:` header itself (httpoxy, CVE-2016-5385): environ has no HTTP_PROXY. */
  dropsProxyHeader?: boolean
  /** The server drops the app's Content-Length from HEAD and streamed responses (Apache mod_cgid, mod_proxy_fcgi). */
  dropsContentLength?: boolean
  /**
   * What the client sees of a response cut short after its first chunk: `incomplete` (a truncated body), `complete`
   * (the server ends it cleanly: mod_cgid, nginx without fastcgi_keep_conn), `error` (mod_fcgid had sent nothing
   * yet and answers 500 itself).
   */
  cutShort?: 'incomplete' | 'complete' | 'error'
}

export interface Transport {
  readonly name: string
  readonly caps: Capabilities
  send(request: ConfRequest): Promise<ConfResponse>
  /** Sends `request` and goes away after the first body bytes (or at once when `immediately`). */
  abandon(request: ConfRequest): Promise<void>
  close(): Promise<void>
}

export interface TransportFactory {
  name: string
  /** Why this gateway cannot run here (a web server that is not installed): the suite is skipped. */
  skip?: string
  /** Told each check's name as it is registered and its outcome when it has run (the compatibility table). */
  report?: { declare(check: string): void; record(check: string, passed: boolean): void }
  start(): Promise<Transport>
}

/** Clean environment for children: NODE_EXTRA_CA_CERTS in this shell triples node's start-up. */
export function cleanEnv(vars: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars }
}

/** RFC 3875 §4.1 variables for a request, as a web server would send them; headers stay repeated (nginx < 1.23). */
export function cgiVars(request: ConfRequest, scriptName: string): Array<[string, string]> {
  const query = request.query ?? ''
  const vars: Array<[string, string]> = [
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['REQUEST_METHOD', request.method ?? 'GET'],
    ['SCRIPT_NAME', scriptName],
    ['PATH_INFO', request.path],
    ['QUERY_STRING', query],
    ['REQUEST_URI', `${encodeURI(scriptName + request.path)}${query ? `?${query}` : ''}`],
    ['SERVER_NAME', 'localhost'],
    ['SERVER_PORT', '80'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_SOFTWARE', 'tsgi-conformance'],
    ['REMOTE_ADDR', '127.0.0.1'],
  ]
  if (request.body !== undefined) vars.push(['CONTENT_LENGTH', String(request.body.byteLength)])
  for (const [name, value] of request.headers ?? []) {
    const key = name.toLowerCase()
    if (key === 'content-type') vars.push(['CONTENT_TYPE', value])
    else if (key !== 'content-length') vars.push([`HTTP_${name.toUpperCase().replaceAll('-', '_')}`, value])
  }
  return vars
}

/** A process environment holds one value per name: merge like Apache (Cookie with `; ` as buildEnviron does). */
function envRecord(vars: Array<[string, string]>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of vars)
    env[name] = name in env ? `${env[name]}${name === 'HTTP_COOKIE' ? '; ' : ', '}${value}` : value
  return env
}

const lower = (headers: Array<[string, string]>): Array<[string, string]> =>
  headers.map(([n, v]) => [n.toLowerCase(), v])

// --- in-process: buildEnviron + runApp with a recording sink ---

export const inProcess: TransportFactory = {
  name: 'in-process',
  async start() {
    const run = async (request: ConfRequest, abortAfterFirst: boolean): Promise<ConfResponse> => {
      const controller = new AbortController()
      let stderr = ''
      const input = new BodyInput({ expectedLength: request.body?.byteLength ?? 0 })
      if (request.body !== undefined) input.push(request.body)
      input.end()
      const environ = buildEnviron(cgiVars(request, '/app'), {
        input,
        errors: {
          write: (message) => {
            stderr += message
          },
        },
        signal: controller.signal,
        multithread: false,
        multiprocess: false,
        runOnce: false,
      })
      let status = 0
      let headers: HeaderList = []
      const chunks: Uint8Array[] = []
      let aborted = false
      const sink: ResponseSink = {
        head: (code, _reason, list) => {
          status = code
          headers = list
        },
        body: (chunk) => {
          chunks.push(chunk)
          if (abortAfterFirst) controller.abort()
        },
        end: () => undefined,
        abort: () => {
          aborted = true
        },
      }
      const result = await runApp(conformanceApp, environ, sink)
      return {
        status,
        headers: lower(headers),
        body: Buffer.concat(chunks),
        complete: !aborted && !result.aborted,
        stderr,
      }
    }
    return {
      name: 'in-process',
      caps: { localRedirect: 'location', scriptName: '/app', multiprocess: false, runOnce: false, headerCap: false },
      send: (request) => run(request, false),
      abandon: async (request) => void (await run(request, true)),
      close: async () => {},
    }
  },
}

// --- bundles for spawned processes (esbuild, like scripts/build.mjs) ---

let bundleDir: string | undefined

/** Builds (once per test file) the CGI script, the fd-0 entry and an ESM module of the conformance app. */
export async function bundles(): Promise<{ cgi: string; auto: string; module: string; dir: string }> {
  if (bundleDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-conformance-'))
    const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', keepNames: true } as const
    const entry = (code: string) => ({
      contents: `import app from ${JSON.stringify(APP_PATH)}\n${code}`,
      resolveDir: ROOT,
      loader: 'ts' as const,
    })
    await Promise.all([
      // run.js before the app, as the integration's cgi-entry does: loading it scrubs HTTP_PROXY (httpoxy).
      build({
        ...common,
        format: 'cjs',
        outfile: join(dir, 'cgi.cjs'),
        stdin: {
          ...entry(''),
          contents: `import { runCgi } from './src/gateways/cgi/run.js'\nimport app from ${JSON.stringify(APP_PATH)}\nvoid runCgi(app)\n`,
        },
      }),
      build({
        ...common,
        format: 'cjs',
        outfile: join(dir, 'auto.cjs'),
        stdin: entry(
          `import { serveAuto } from './src/gateways/auto.js'\nvoid serveAuto(app, { log: (m) => process.stderr.write(m + '\\n') })\n`,
        ),
      }),
      build({
        ...common,
        format: 'esm',
        outfile: join(dir, 'app.mjs'),
        stdin: entry('export default app\n'),
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      }),
    ])
    bundleDir = dir
  }
  return {
    cgi: join(bundleDir, 'cgi.cjs'),
    auto: join(bundleDir, 'auto.cjs'),
    module: join(bundleDir, 'app.mjs'),
    dir: bundleDir,
  }
}

export function removeBundles(): void {
  if (bundleDir !== undefined) rmSync(bundleDir, { recursive: true, force: true })
  bundleDir = undefined
}

// --- CGI: one spawned process per request, a clean environment ---

export const cgi: TransportFactory = {
  name: 'CGI',
  async start() {
    const { cgi: script } = await bundles()
    const run = (request: ConfRequest, abandon: boolean): Promise<ConfResponse> =>
      new Promise((done, fail) => {
        const child = spawn(process.execPath, [script], {
          env: cleanEnv(envRecord(cgiVars(request, '/app'))),
          stdio: ['pipe', 'pipe', 'pipe'],
        })
        const out: Buffer[] = []
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out.push(chunk)
          if (abandon && parseCgiHead(Buffer.concat(out)) !== undefined) child.stdout.destroy() // the web server went away: EPIPE
        })
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8')
        })
        child.stdin.on('error', () => {})
        child.stdin.end(request.body ?? '')
        child.on('error', fail)
        child.on('close', (code) => {
          try {
            done(fromCgiOutput(Buffer.concat(out), code === 0, stderr, abandon))
          } catch (err) {
            fail(err)
          }
        })
      })
    return {
      name: 'CGI',
      caps: { localRedirect: 'location', scriptName: '/app', multiprocess: true, runOnce: true, headerCap: false },
      send: (request) => run(request, false),
      abandon: async (request) => void (await run(request, true)),
      close: async () => {},
    }
  },
}

function fromCgiOutput(raw: Buffer, exitedZero: boolean, stderr: string, partial: boolean): ConfResponse {
  const head = parseCgiHead(raw)
  if (head === undefined || head instanceof Error) {
    if (partial) return { status: 0, headers: [], body: raw, complete: false, stderr }
    throw new Error(`bad CGI output (${String(head)}): ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`)
  }
  return {
    status: head.status,
    headers: lower(head.headers),
    body: raw.subarray(head.bodyStart),
    complete: exitedZero,
    stderr,
  }
}

// --- the dev server (node:http on 127.0.0.1:0) ---

export const devServer: TransportFactory = {
  name: 'dev server',
  async start() {
    let stderr = ''
    const server = await serve(conformanceApp, {
      port: 0,
      log: false,
      errors: {
        write: (message) => {
          stderr += message
        },
      },
    })
    const run = async (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => {
      stderr = ''
      const response = await httpExchange(server.port, '', request, abandon)
      await new Promise((resolve) => setImmediate(resolve)) // what the app logged on its way out
      return { ...response, stderr }
    }
    return {
      name: 'dev server',
      caps: { localRedirect: 'dispatch', scriptName: '', multiprocess: false, runOnce: false, headerCap: false },
      send: (request) => run(request, false),
      abandon: async (request) => void (await run(request, true)),
      close: () => server.close(),
    }
  },
}

/** Header lines the HTTP server adds on its own: the suite compares the app's headers only. */
const FRAMING = new Set(['date', 'server', 'connection', 'keep-alive', 'transfer-encoding'])

/** One request on its own connection (Connection: close); repeated request headers stay repeated lines. */
export function httpExchange(
  port: number,
  base: string,
  request: ConfRequest,
  abandon: boolean,
): Promise<Omit<ConfResponse, 'stderr'>> {
  return new Promise((done, fail) => {
    const query = request.query ? `?${request.query}` : ''
    // Raw header pairs: node:http would join two Cookie values into one line; the server must see both.
    const headers = [`Host`, `127.0.0.1:${port}`, 'Connection', 'close', ...(request.headers ?? []).flat()]
    if (request.body !== undefined) headers.push('Content-Length', String(request.body.byteLength))
    const path = `${encodeURI(base + request.path)}${query}`
    const req = httpRequest({ host: '127.0.0.1', port, method: request.method ?? 'GET', path, agent: false, headers })
    const nothing = { status: 0, headers: [], body: Buffer.alloc(0), complete: false }
    req.on('error', (err) => (abandon ? done(nothing) : fail(err)))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let complete = true
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        if (abandon) req.destroy()
      })
      res.on('aborted', () => {
        complete = false
      })
      res.on('error', () => {
        complete = false
      })
      res.on('close', () => {
        const headers: Array<[string, string]> = []
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
        done({
          status: res.statusCode ?? 0,
          headers: headers.filter(([name]) => !FRAMING.has(name)),
          body: Buffer.concat(chunks),
          complete: complete && res.complete,
        })
      })
    })
    req.end(request.body)
  })
}

// --- the FastCGI responder, through our client ---

async function fastcgiTransport(name: string, address: string, stop: () => Promise<void>): Promise<Transport> {
  const client = new FastcgiClient({ address })
  const run = async (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => {
    const controller = new AbortController()
    const params = cgiVars(request, '/app')
    const response = await client.request({
      params,
      body: request.body ?? new Uint8Array(0),
      signal: controller.signal,
    })
    const chunks: Uint8Array[] = []
    let complete = true
    try {
      for await (const chunk of response.body) {
        chunks.push(chunk)
        if (abandon) controller.abort()
      }
    } catch {
      complete = false
    }
    const end = await response.end.catch(() => undefined)
    return {
      status: response.status,
      headers: lower(response.headers),
      body: Buffer.concat(chunks),
      complete: complete && end !== undefined,
      stderr: await response.stderr,
    }
  }
  return {
    name,
    caps: { localRedirect: 'location', scriptName: '/app', multiprocess: true, runOnce: false, headerCap: true },
    send: (request) => run(request, false),
    abandon: async (request) => void (await run(request, true)),
    close: async () => {
      await client.close()
      await stop()
    },
  }
}

const quiet = (): void => {}

export const fastcgiTcp: TransportFactory = {
  name: 'FastCGI over TCP',
  async start() {
    const server = await serveFastcgi(conformanceApp, { listen: '127.0.0.1:0', log: quiet })
    return fastcgiTransport('FastCGI over TCP', server.address, () => server.close())
  },
}

export const fastcgiUnix: TransportFactory = {
  name: 'FastCGI over a Unix socket',
  async start() {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-'))
    const server: FastcgiServer = await serveFastcgi(conformanceApp, { listen: join(dir, 'app.sock'), log: quiet })
    return fastcgiTransport('FastCGI over a Unix socket', server.address, async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    })
  },
}

/**
 * A child serving on fd 0 (FastCGI spec §2.2), handed a listening socket as spawn-fcgi and mod_fcgid do:
 * the socket is created here, dup'ed onto the child's stdin, and closed here.
 */
export async function spawnOnFd0(
  command: string[],
  env: Record<string, string> = cleanEnv(),
): Promise<{ child: ChildProcess; address: string; stderr: () => string }> {
  const listener: Server = createServer()
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (listener.address() as { port: number }).port
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd
  const child = spawn(command[0]!, command.slice(1), { env, stdio: [fd, 'ignore', 'pipe'] })
  listener.close()
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  return { child, address: `127.0.0.1:${port}`, stderr: () => stderr }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export const fastcgiFd0: TransportFactory = {
  name: 'FastCGI on an inherited fd 0',
  async start() {
    const { auto } = await bundles()
    const { child, address } = await spawnOnFd0([process.execPath, auto])
    return fastcgiTransport('FastCGI on an inherited fd 0', address, async () => {
      child.kill('SIGTERM')
      await exited(child)
    })
  },
}

export const ALL_TRANSPORTS = [inProcess, cgi, devServer, fastcgiTcp, fastcgiUnix, fastcgiFd0]
