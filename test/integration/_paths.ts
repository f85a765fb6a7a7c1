// What every web-server path of servers.test.ts shares: which servers are installed, the placeholder
// values, starting a server for one describe block, and running the path checks plus the shared
// conformance suite through it. The paths themselves are in test/integration/paths/, one file per server.
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { conformanceSuite } from '../_conformance.js'
import type { Capabilities } from '../_transports.js'
import type { PathSpec } from './_checks.js'
import { APACHE_MODULES, missingBinaries, REQUIRE_SERVERS, skipMessage, staleBuildWarning } from './_harness.js'
import { httpFront } from './_http-transport.js'
import { notesFor } from './_quirks.js'
import type { Server, Shared } from './_servers.js'

const NEEDS = {
  apache: [
    'apache2',
    ...['mod_cgid', 'mod_proxy_fcgi', 'mod_fcgid', 'mod_authnz_fcgi'].map((m) => `${APACHE_MODULES}/${m}.so`),
  ],
  nginx: ['nginx'],
  lighttpd: ['lighttpd'],
  caddy: ['caddy'],
  haproxy: ['haproxy'],
  h2o: ['h2o'],
}
export type ServerKey = keyof typeof NEEDS
const missing = Object.fromEntries(
  Object.entries(NEEDS).map(([key, names]) => [key, missingBinaries(names)]),
) as Record<ServerKey, string[]>

/** Why a path cannot run: its server is missing (a skip, or a failure under TSGI_REQUIRE_SERVERS=1). */
export function skipFor(server: ServerKey): string | undefined {
  return missing[server].length > 0 && !REQUIRE_SERVERS ? `${missing[server].join(', ')} not installed` : undefined
}

/** Warns once about a stale dist/ and about each missing server. */
export function warnMissing(): void {
  const stale = staleBuildWarning()
  if (stale !== undefined) console.warn(stale)
  for (const [server, names] of Object.entries(missing)) {
    if (names.length > 0) console.warn(skipMessage(server, names))
  }
}

/** The placeholder values every server shares; servers.test.ts fills them in its beforeAll. */
export const shared: Shared = {
  RUNDIR: '',
  SOCKDIR: '',
  DOCROOT: '',
  CGI_BIN: '',
  FCGI_PORT: '',
  TLS_CERT: '',
  TLS_KEY: '',
  TLS_PEM: '',
}

/** The resident responders' own logs (their stderr), where tsgi.errors goes for Caddy and HAProxy (F-34). */
export const responderLog = {
  tcp: (): string => join(shared.RUNDIR, 'responder-tcp.log'),
  uds: (): string => join(shared.RUNDIR, 'responder-uds.log'),
}

export interface Running {
  port: () => number
  tlsPort: () => number
  server: () => Server
  logs: () => string[]
}

/** Starts a server for one describe block and stops it (and what it spawned) afterwards. */
export function useServer(key: ServerKey, start: (shared: Shared) => Promise<Server>): Running {
  let server: Server | undefined
  beforeAll(async () => {
    if (missing[key].length > 0) {
      if (REQUIRE_SERVERS)
        throw new Error(skipMessage(key, missing[key]).replace('skipped', 'TSGI_REQUIRE_SERVERS=1 but'))
      return
    }
    server = await start(shared)
  })
  afterAll(async () => {
    await server?.stop()
  })
  const get = (): Server => {
    if (server === undefined) throw new Error(`integration: ${key} is not running`)
    return server
  }
  const tlsPort = (): number => get().tlsPort ?? Number.NaN
  return { port: () => get().port, tlsPort, server: get, logs: () => get().logs }
}

export function path(spec: Omit<PathSpec, 'notes'> & { extraNotes?: string[] }): PathSpec {
  return { ...spec, notes: [...notesFor(spec.expect), ...(spec.extraNotes ?? [])] }
}

/** The shared conformance suite (test/_conformance.ts) through this path's web server, over HTTP. */
export function conformance(spec: PathSpec, logs: () => string[], more: Partial<Capabilities> = {}): void {
  const caps: Capabilities = {
    localRedirect: ({ internal: 'dispatch', client: 'client', 'passed through': 'location' } as const)[
      spec.expect.localRedirect
    ],
    scriptName: spec.base,
    multiprocess: true,
    runOnce: spec.gateway === 'cgi',
    // The FastCGI responder keeps heads under nginx's 4 KiB whichever server is in front (S-22).
    headerCap: spec.gateway === 'fastcgi',
    ...(spec.expect.getContentLength === '0' ? { getContentLength: '0' } : {}),
    cookieJoin: spec.expect.cookie === 'a=1, b=2' ? ', ' : spec.expect.cookie === 'a=1;b=2' ? ';' : '; ',
    dropsProxyHeader: spec.expect.httpProxy === null,
    dropsContentLength: spec.expect.headContentLength === null,
    ...more,
  }
  const cut = {
    incomplete: 'the client sees it truncated',
    complete: 'the server ends it cleanly',
    error: 'the server answers 500',
  }[caps.cutShort ?? 'incomplete']
  spec.notes.push(`app error after the first chunk: ${cut}`)
  conformanceSuite(
    httpFront({
      id: spec.id,
      name: `${spec.server} ${spec.module}, ${spec.mode}`,
      port: spec.port,
      logs,
      skip: spec.skip,
      caps,
    }),
  )
}
