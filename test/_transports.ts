// The gateways the conformance suite (test/_conformance.ts) runs an app through: in-process (here), CGI, the
// dev server and FastCGI over TCP, a Unix socket and fd 0 (test/_transport-*.ts). Differences are flags.
// makeTransports() makes the set for any app module (test/_frameworks.ts); the plain exports are the conformance app's.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App, HeaderList } from '../src/app.js'
import type { Shape } from '../src/bridges/shape.js'
import type { MountOptions } from '../src/bridges/url.js'
import { type ResponseSink, runApp } from '../src/core/engine.js'
import { BodyInput } from '../src/core/input.js'
import { type FastcgiServer, serveFastcgi } from '../src/gateways/fastcgi/index.js'
import { buildEnviron } from '../src/protocol/cgi/environ.js'
import { APP_PATH, bundlesOf } from './_bundles.js'
import { cgiFactory, cgiVars, lower } from './_transport-cgi.js'
import { devServerFactory } from './_transport-dev-server.js'
import { exited, fastcgiTransport, spawnOnFd0 } from './_transport-fastcgi.js'
import conformanceApp from './fixtures/conformance-app.js'

// Re-exported so the tests take every transport helper from this one module.
export { bundles, ROOT, removeBundles } from './_bundles.js'
export { cgiVars, cleanEnv } from './_transport-cgi.js'
export { type ExchangeOptions, httpExchange } from './_transport-dev-server.js'
export { exited, spawnOnFd0 } from './_transport-fastcgi.js'

export interface ConfRequest {
  method?: string
  /** PATH_INFO below the app's mount point, e.g. `/echo`. */
  path: string
  query?: string
  /** Request header lines; a repeated name is sent as repeated lines. */
  headers?: Array<[string, string]>
  body?: Uint8Array
  /** Called with response body bytes as they arrive (before the response is complete). */
  onData?: (bytes: Buffer) => void
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
  /** How two Cookie request lines arrive: joined with '; ' (tsgi's own join), ', ' (Apache, Caddy) or ';' (h2o). */
  cookieJoin?: '; ' | ', ' | ';'
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
  /** Connections opened so far, where the transport keeps them open between requests. */
  connections?(): number
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

// --- the app a set of transports serves ---

/** An app module, served in-process as `app` and, by spawned processes, bundled from `appPath`. */
export interface AppSpec {
  /** Added to each transport's name: `CGI (Hono)`. None for the conformance app. */
  label?: string
  /** The module whose default export is the app; the spawned CGI script bundles it. */
  appPath?: string
  /** The TSGI app the in-process transports run (a framework app through fromFetch or fromNode). */
  app: App
  /**
   * The spawned CGI script adapts the module's export as `tsgi build` does (runCgiExport: a Fetch or Node
   * app through its bridge) with these mount options. Absent: it runs the export as a TSGI app (runCgi).
   */
  mount?: MountOptions
  /** The export's shape for the spawned script (--shape), where detection would take it for another. */
  shape?: Shape
}

export interface Transports {
  inProcess: TransportFactory
  cgi: TransportFactory
  devServer: TransportFactory
  fastcgiTcp: TransportFactory
  fastcgiUnix: TransportFactory
  fastcgiFd0: TransportFactory
}

/** The gateways serving `spec.app`: in-process, CGI, dev server, FastCGI over TCP, a Unix socket and fd 0. */
export function makeTransports(spec: AppSpec): Transports {
  const named = (base: string): string => (spec.label === undefined ? base : `${base} (${spec.label})`)
  return {
    inProcess: inProcessFactory(named('in-process'), spec.app),
    cgi: cgiFactory(named('CGI'), spec),
    devServer: devServerFactory(named('dev server'), spec.app, spec.label !== undefined),
    fastcgiTcp: {
      name: named('FastCGI over TCP'),
      async start() {
        const server = await serveFastcgi(spec.app, { listen: '127.0.0.1:0', log: quiet })
        return fastcgiTransport(named('FastCGI over TCP'), server.address, () => server.close())
      },
    },
    fastcgiUnix: {
      name: named('FastCGI over a Unix socket'),
      async start() {
        const dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-'))
        const server: FastcgiServer = await serveFastcgi(spec.app, { listen: join(dir, 'app.sock'), log: quiet })
        return fastcgiTransport(named('FastCGI over a Unix socket'), server.address, async () => {
          await server.close()
          rmSync(dir, { recursive: true, force: true })
        })
      },
    },
    fastcgiFd0: {
      name: named('FastCGI on an inherited fd 0'),
      async start() {
        const { auto } = await bundlesOf(spec)
        const { child, address } = await spawnOnFd0([process.execPath, auto])
        return fastcgiTransport(named('FastCGI on an inherited fd 0'), address, async () => {
          child.kill('SIGTERM')
          await exited(child)
        })
      },
    },
  }
}

// --- in-process: buildEnviron + runApp with a recording sink ---

function inProcessFactory(name: string, app: App): TransportFactory {
  return {
    name,
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
            request.onData?.(Buffer.from(chunk))
            if (abortAfterFirst) controller.abort()
          },
          end: () => undefined,
          abort: () => {
            aborted = true
          },
        }
        const result = await runApp(app, environ, sink)
        return {
          status,
          headers: lower(headers),
          body: Buffer.concat(chunks),
          complete: !aborted && !result.aborted,
          stderr,
        }
      }
      return {
        name,
        caps: { localRedirect: 'location', scriptName: '/app', multiprocess: false, runOnce: false, headerCap: false },
        send: (request) => run(request, false),
        abandon: async (request) => void (await run(request, true)),
        close: async () => {},
      }
    },
  }
}

const quiet = (): void => {}

// --- the conformance app's transports (test/_conformance.ts) ---

const conformance = makeTransports({ appPath: APP_PATH, app: conformanceApp })

export const inProcess: TransportFactory = conformance.inProcess
export const cgi: TransportFactory = conformance.cgi
export const devServer: TransportFactory = conformance.devServer
export const fastcgiTcp: TransportFactory = conformance.fastcgiTcp
export const fastcgiUnix: TransportFactory = conformance.fastcgiUnix
export const fastcgiFd0: TransportFactory = conformance.fastcgiFd0

export const ALL_TRANSPORTS = [inProcess, cgi, devServer, fastcgiTcp, fastcgiUnix, fastcgiFd0]
