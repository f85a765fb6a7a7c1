// tsgi under real web servers (Apache httpd, nginx, lighttpd from the distribution): each runs from the
// example config in this repo and serves test/fixtures/conformance-app.ts over CGI and FastCGI; the same
// checks run through every path and the results become docs/COMPATIBILITY.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conformanceSuite } from '../_conformance.js'
import type { Capabilities } from '../_transports.js'
import { definePathChecks, type PathSpec, registerCheck } from './_checks.js'
import { headerValues, json, request } from './_client.js'
import {
  APACHE_MODULES,
  buildCgiBin,
  freePort,
  makeRunDir,
  missingBinaries,
  type Proc,
  REQUIRE_SERVERS,
  ROOT,
  removeRunDir,
  serverDir,
  skipMessage,
  sleep,
  socketDir,
  staleBuildWarning,
  startResponder,
  tail,
  waitForListen,
} from './_harness.js'
import { get } from './_http-load.js'
import { httpFront } from './_http-transport.js'
import { notesFor, QUIRKS } from './_quirks.js'
import { declarePath, writeCompatibility } from './_results.js'
import { type Server, type Shared, serverVersions, startApache, startLighttpd, startNginx } from './_servers.js'
import { defineSpawnFcgi } from './_spawn-fcgi.js'

const NEEDS = {
  apache: [
    'apache2',
    ...['mod_cgid', 'mod_proxy_fcgi', 'mod_fcgid', 'mod_authnz_fcgi'].map((m) => `${APACHE_MODULES}/${m}.so`),
  ],
  nginx: ['nginx'],
  lighttpd: ['lighttpd'],
}
const missing = {
  apache: missingBinaries(NEEDS.apache),
  nginx: missingBinaries(NEEDS.nginx),
  lighttpd: missingBinaries(NEEDS.lighttpd),
}
/** Why a path cannot run: its server is missing (a skip, or a failure under TSGI_REQUIRE_SERVERS=1). */
function skipFor(server: keyof typeof missing): string | undefined {
  return missing[server].length > 0 && !REQUIRE_SERVERS ? `${missing[server].join(', ')} not installed` : undefined
}

const stale = staleBuildWarning()
if (stale !== undefined) console.warn(stale)
for (const [server, names] of Object.entries(missing)) {
  if (names.length > 0) console.warn(skipMessage(server, names))
}

/** FcgidMaxRequestsPerProcess, as apache.conf.example sets it. */
const FCGID_MAX_REQUESTS = Number(
  /^FcgidMaxRequestsPerProcess (\d+)/m.exec(readFileSync(join(ROOT, 'apache.conf.example'), 'utf8'))?.[1],
)

const shared: Shared = { RUNDIR: '', SOCKDIR: '', DOCROOT: '', CGI_BIN: '', FCGI_PORT: '' }
const responders: Proc[] = []

beforeAll(async () => {
  shared.RUNDIR = serverDir(makeRunDir())
  shared.SOCKDIR = socketDir(join(shared.RUNDIR, 'tsgi'))
  shared.DOCROOT = join(shared.RUNDIR, 'htdocs')
  shared.CGI_BIN = join(shared.RUNDIR, 'cgi-bin')
  shared.FCGI_PORT = String(await freePort())
  mkdirSync(join(shared.DOCROOT, 'protected'), { recursive: true })
  writeFileSync(join(shared.DOCROOT, 'index.html'), 'tsgi integration\n')
  writeFileSync(join(shared.DOCROOT, 'protected/secret.txt'), 'behind the authorizer\n')
  await buildCgiBin(shared.CGI_BIN)
  // The resident responders the proxy paths talk to (mod_fcgid and lighttpd's bin-path start their own).
  const tcp = startResponder('responder (TCP)', `127.0.0.1:${shared.FCGI_PORT}`, shared.RUNDIR)
  // With a status page: apache.conf.example restricts it to this machine (README "Operations").
  const status = ['--status-path', '/tsgi-status']
  const uds = startResponder('responder (Unix socket)', join(shared.SOCKDIR, 'tsgi.sock'), shared.RUNDIR, status)
  responders.push(tcp, uds)
  await Promise.all([
    waitForListen(Number(shared.FCGI_PORT), tcp),
    waitForListen(join(shared.SOCKDIR, 'tsgi.sock'), uds),
  ])
})

afterAll(async () => {
  for (const proc of responders) await proc.stop()
  if (shared.RUNDIR !== '') removeRunDir(shared.RUNDIR)
  writeCompatibility(serverVersions(), QUIRKS)
})

/** Starts a server for one describe block and stops it (and what it spawned) afterwards. */
function useServer(
  key: keyof typeof missing,
  start: (shared: Shared) => Promise<Server>,
): { port: () => number; server: () => Server } {
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
  return { port: () => get().port, server: get }
}

function path(spec: Omit<PathSpec, 'notes'> & { extraNotes?: string[] }): PathSpec {
  return { ...spec, notes: [...notesFor(spec.expect), ...(spec.extraNotes ?? [])] }
}

/** The shared conformance suite (test/_conformance.ts) through this path's web server, over HTTP. */
function conformance(spec: PathSpec, logs: () => string[], more: Partial<Capabilities> = {}): void {
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
    cookieJoin: spec.expect.cookie === 'a=1, b=2' ? ', ' : '; ',
    // Every server here removes `Proxy:` (Apache since 2.4.24, nginx by the example's empty HTTP_PROXY, lighttpd).
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

describe('Apache httpd', () => {
  const apache = useServer('apache', startApache)
  const apacheLogs = (): string[] => apache.server().logs
  const common = { server: 'Apache httpd 2.4' }
  const seen = {
    getContentLength: null,
    cookie: 'a=1, b=2',
    underscore: 'dash',
    httpProxy: null,
    headContentLength: null,
  }

  describe('mod_cgid, CGI', () => {
    const spec = path({
      id: 'apache-cgid',
      server: common.server,
      module: 'mod_cgid',
      mode: 'CGI (ScriptAlias, mpm_event)',
      gateway: 'cgi',
      base: '/cgi-bin/app',
      port: apache.port,
      skip: skipFor('apache'),
      expect: { ...seen, chunkedContentLength: null, localRedirect: 'internal', abort: 'signal' },
      extraNotes: ['chunked body: no CONTENT_LENGTH, read to EOF (C-04)'],
    })
    definePathChecks(spec, [
      [
        'NPH script (nph-*)',
        async () => {
          const response = await request(apache.port(), '/cgi-bin/nph-app/cookies')
          expect(response.status).toBe(200)
          expect(headerValues(response, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/'])
          expect(headerValues(response, 'connection')).toContain('close')
        },
      ],
    ])
    conformance(spec, apacheLogs, { cutShort: 'complete' })
  })

  describe('mod_proxy_fcgi, TCP', () => {
    const spec = path({
      id: 'apache-proxy-tcp',
      server: common.server,
      module: 'mod_proxy_fcgi',
      mode: 'TCP, enablereuse=on',
      gateway: 'fastcgi',
      base: '/fcgi-tcp',
      port: apache.port,
      skip: skipFor('apache'),
      expect: {
        ...seen,
        chunkedContentLength: String(3 * 1024 * 1024),
        localRedirect: 'passed through',
        abort: 'signal',
        reuse: 'reused',
      },
      extraNotes: ['PATH_INFO only with proxy-fcgi-pathinfo=unescape'],
    })
    definePathChecks(spec)
    conformance(spec, apacheLogs)
  })

  describe('mod_proxy_fcgi, Unix socket', () => {
    const spec = path({
      id: 'apache-proxy-uds',
      server: common.server,
      module: 'mod_proxy_fcgi',
      mode: 'Unix socket',
      gateway: 'fastcgi',
      base: '/fcgi-uds',
      port: apache.port,
      skip: skipFor('apache'),
      expect: {
        ...seen,
        chunkedContentLength: String(3 * 1024 * 1024),
        localRedirect: 'passed through',
        abort: 'signal',
        reuse: 'one per request',
      },
    })
    definePathChecks(spec)
    conformance(spec, apacheLogs)
    it.skipIf(skipFor('apache') !== undefined)(
      'the status page: JSON to this machine, 403 from another address',
      async () => {
        const agent = new Agent()
        try {
          const local = await get(agent, apache.port(), '/tsgi-status')
          expect(local.status).toBe(200)
          expect(JSON.parse(local.body)).toMatchObject({ workers: 1, listen: join(shared.SOCKDIR, 'tsgi.sock') })
          expect((await get(agent, apache.port(), '/tsgi-status', '127.0.0.2')).status).toBe(403)
        } finally {
          agent.destroy()
        }
      },
    )
  })

  describe('mod_fcgid, responder spawned on fd 0', () => {
    const spec = path({
      id: 'apache-fcgid',
      server: common.server,
      module: 'mod_fcgid',
      mode: 'spawned, socket on fd 0 (FcgidWrapper)',
      gateway: 'fastcgi',
      base: '/fcgid',
      port: apache.port,
      skip: skipFor('apache'),
      expect: {
        ...seen,
        getContentLength: '0',
        headContentLength: '1000',
        chunkedContentLength: String(3 * 1024 * 1024),
        localRedirect: 'internal',
        abort: 'signal',
        reuse: 'one per request',
      },
      extraNotes: ['recycled by SIGTERM after FcgidMaxRequestsPerProcess, exit 0'],
    })
    definePathChecks(spec, [
      [
        'FcgidMaxRequestsPerProcess: SIGTERM, then exit 0',
        async () => {
          // mod_fcgid may run several responders (FcgidMaxProcessesPerClass); find one that served its 100th
          // request (the app counts them), then read how mod_fcgid saw it end.
          let spent: number | undefined
          for (let i = 0; i < 400 && spent === undefined; i++) {
            const stats = json(await request(apache.port(), '/fcgid/stats')) as { pid: number; served: number }
            if (stats.served === FCGID_MAX_REQUESTS) spent = stats.pid
          }
          expect(spent, 'no responder reached FcgidMaxRequestsPerProcess').toBeDefined()
          const log = join(shared.RUNDIR, 'apache-error.log')
          const line = new RegExp(`\\(${spent}\\) exit\\([^)]*\\), (.*)`)
          let ended: RegExpExecArray | null = null
          for (let i = 0; i < 100 && ended === null; i++) {
            // Keep requests coming: mod_fcgid's process manager does its scans as it serves them.
            await request(apache.port(), '/fcgid/env/after')
            await sleep(100)
            ended = line.exec(tail(log, 50_000))
          }
          expect(ended?.[1], tail(log)).toBe('terminated by calling exit(), return code: 0')
        },
      ],
    ])
    conformance(spec, apacheLogs, { cutShort: 'error' })
  })

  describe('mod_authnz_fcgi, FastCGI Authorizer', () => {
    const spec = { id: 'apache-authnz', skip: skipFor('apache') }
    declarePath(
      {
        id: spec.id,
        server: common.server,
        module: 'mod_authnz_fcgi',
        mode: 'Authorizer (TCP), then mod_proxy_fcgi',
        notes: ['`Variable-TSGI_USER` becomes REMOTE_USER via UserExpr'],
      },
      2,
    )
    registerCheck(spec, 'Authorizer denies with its own body', async () => {
      const response = await request(apache.port(), '/protected/env/x')
      expect(response.status).toBe(403)
      expect(response.body.toString()).toContain('denied by the tsgi authorizer')
    })
    registerCheck(spec, 'Authorizer allows, Variable- headers reach the app', async () => {
      const response = await request(apache.port(), '/protected/env/x', { headers: [['X-Token', 'let-me-in']] })
      expect(response.status).toBe(200)
      const { environ } = json(response)
      expect([environ.REMOTE_USER, environ.TSGI_USER, environ.PATH_INFO]).toEqual(['alice', 'alice', '/env/x'])
    })
  })
})

describe('nginx', () => {
  const nginx = useServer('nginx', startNginx)
  const nginxLogs = (): string[] => nginx.server().logs
  const common = { server: 'nginx', module: 'ngx_http_fastcgi_module' }
  const seen = {
    getContentLength: null,
    headContentLength: '1000',
    chunkedContentLength: String(3 * 1024 * 1024),
    cookie: 'a=1; b=2',
    underscore: 'dash',
    httpProxy: null,
    localRedirect: 'client',
    abort: 'signal',
  } as const

  describe('TCP, fastcgi_keep_conn', () => {
    const spec = path({
      id: 'nginx-tcp',
      server: common.server,
      module: common.module,
      mode: 'TCP, fastcgi_keep_conn on + keepalive',
      gateway: 'fastcgi',
      base: '/ngx-tcp',
      port: nginx.port,
      skip: skipFor('nginx'),
      expect: { ...seen, reuse: 'reused' },
      extraNotes: ['repeated headers arrive as repeated params'],
    })
    conformance(spec, nginxLogs)
    definePathChecks(spec, [
      [
        '%0A in the path (the CVE-2019-11043 shape)',
        async () => {
          const { environ } = json(await request(nginx.port(), '/ngx-tcp/env/a%0Ab'))
          expect([environ.SCRIPT_NAME, environ.PATH_INFO]).toEqual(['/ngx-tcp', '/env/a\nb'])
        },
      ],
    ])
  })

  describe('Unix socket', () => {
    const spec = path({
      id: 'nginx-uds',
      server: common.server,
      module: common.module,
      mode: 'Unix socket',
      gateway: 'fastcgi',
      base: '/ngx-uds',
      port: nginx.port,
      skip: skipFor('nginx'),
      expect: { ...seen, reuse: 'one per request' },
    })
    definePathChecks(spec)
    conformance(spec, nginxLogs, { cutShort: 'complete' })
  })
})

describe('lighttpd', () => {
  const lighttpd = useServer('lighttpd', startLighttpd)
  const lighttpdLogs = (): string[] => lighttpd.server().logs
  const common = { server: 'lighttpd 1.4', module: 'mod_fastcgi' }
  const seen = {
    getContentLength: '0',
    headContentLength: '1000',
    chunkedContentLength: String(3 * 1024 * 1024),
    cookie: 'a=1; b=2',
    underscore: 'dash, underscore',
    httpProxy: null,
    localRedirect: 'client',
    abort: 'signal',
  } as const

  describe('bin-path, responder spawned on fd 0', () => {
    const spec = path({
      id: 'lighttpd-spawn',
      server: common.server,
      module: common.module,
      mode: 'spawned, socket on fd 0 (bin-path)',
      gateway: 'fastcgi',
      base: '/lt-spawn',
      port: lighttpd.port,
      skip: skipFor('lighttpd'),
      expect: { ...seen, reuse: 'one per request' },
    })
    definePathChecks(spec)
    conformance(spec, lighttpdLogs)
  })

  describe('TCP', () => {
    const spec = path({
      id: 'lighttpd-tcp',
      server: common.server,
      module: common.module,
      mode: 'TCP',
      gateway: 'fastcgi',
      base: '/lt-tcp',
      port: lighttpd.port,
      skip: skipFor('lighttpd'),
      expect: { ...seen, reuse: 'one per request' },
    })
    definePathChecks(spec)
    conformance(spec, lighttpdLogs)
  })

  describe('FastCGI Authorizer', () => {
    const spec = { id: 'lighttpd-authorizer', skip: skipFor('lighttpd') }
    declarePath(
      {
        id: spec.id,
        server: common.server,
        module: common.module,
        mode: 'Authorizer (TCP), then a static file',
        notes: ['no STDIN record for the authorizer'],
      },
      2,
    )
    registerCheck(spec, 'Authorizer denies', async () => {
      const response = await request(lighttpd.port(), '/protected/secret.txt')
      expect(response.status).toBe(403)
      expect(response.body.toString()).toContain('denied by the tsgi authorizer')
    })
    registerCheck(spec, 'Authorizer allows', async () => {
      const response = await request(lighttpd.port(), '/protected/secret.txt', { headers: [['X-Token', 'let-me-in']] })
      expect(response.status).toBe(200)
      expect(response.body.toString()).toBe('behind the authorizer\n')
    })
  })
})

defineSpawnFcgi(() => shared.RUNDIR)

describe('the resident responders', () => {
  const spec = { id: 'responder-shutdown', skip: undefined }
  declarePath(
    {
      id: spec.id,
      server: '(none)',
      module: 'tsgi fastcgi',
      mode: 'SIGTERM to the TCP and Unix-socket responders',
      notes: ['exit 0, socket file removed'],
    },
    1,
  )
  registerCheck(spec, 'SIGTERM: exit 0 and the socket file is gone', async () => {
    const codes = await Promise.all(responders.map((proc) => proc.stop()))
    expect(codes, responders.map((p) => p.output).join('\n')).toEqual([0, 0])
    expect(existsSync(join(shared.SOCKDIR, 'tsgi.sock'))).toBe(false)
  })
})
