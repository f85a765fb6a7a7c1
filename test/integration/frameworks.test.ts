// The example Hono and Express apps (examples/hono.ts, examples/express.ts), unchanged, under real web
// servers, as a user sets them up: `tsgi build APP --out cgi-bin/NAME --strip-script-name` scripts that
// Apache mod_cgid runs, and `tsgi fastcgi APP --strip-script-name` responders that nginx (and Apache
// mod_proxy_fcgi) reach: Hono on TCP, Express on a Unix socket (tsgi:www-data 0660), both dropping to the
// tsgi user when started as root. Each app must answer the same request the same way through every gateway.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { headerValues, type RequestOptions, type Response, request } from './_client.js'
import {
  APACHE_MODULES,
  CLEAN_ENV,
  freePort,
  makeRunDir,
  missingBinaries,
  Proc,
  REQUIRE_SERVERS,
  ROOT,
  removeRunDir,
  serverDir,
  serverUser,
  serviceUser,
  skipMessage,
  socketDir,
  tail,
  waitForListen,
} from './_harness.js'
import { type Server, type Shared, startApache, startNginx } from './_servers.js'

const missing = missingBinaries([
  'apache2',
  'nginx',
  ...['mod_cgid', 'mod_proxy_fcgi', 'mod_fcgid', 'mod_authnz_fcgi'].map((m) => `${APACHE_MODULES}/${m}.so`),
])
if (missing.length > 0 && !REQUIRE_SERVERS) console.warn(skipMessage('frameworks', missing))
const asRoot = serverUser() !== undefined
const TSGI = join(ROOT, 'bin/tsgi.js')

/** A gateway to one app: the web server's port and the mount point (SCRIPT_NAME) of the app below it. */
interface Gateway {
  name: string
  port: () => number
  base: string
}

interface App {
  name: 'Hono' | 'Express'
  module: string
  gateways: Gateway[]
}

/** What must be the same through every gateway: status, the headers that matter, the body. */
function answer(response: Response, base: string): Record<string, unknown> {
  const location = headerValues(response, 'location')
  return {
    status: response.status,
    'content-type': headerValues(response, 'content-type'),
    // The apps run with --strip-script-name: a redirect to /users/1 gets the mount point back in front.
    location: location.map((value) => (value.startsWith(`${base}/`) ? value.slice(base.length) : `UNMOUNTED ${value}`)),
    'set-cookie': headerValues(response, 'set-cookie'),
    body: response.body.toString('utf8'),
  }
}

const form = (text: string): RequestOptions => ({
  method: 'POST',
  headers: [['Content-Type', 'application/x-www-form-urlencoded']],
  body: Buffer.from(text),
})

/** The requests, and what each app answers them (the same through every gateway). */
const EXCHANGES: Array<{
  path: string
  options?: RequestOptions
  expect: (app: App['name']) => Record<string, unknown>
}> = [
  {
    path: '/users/7?q=x',
    expect: (app) => ({
      status: 200,
      'content-type': [app === 'Hono' ? 'application/json' : 'application/json; charset=utf-8'],
      body: '{"id":"7","q":"x"}',
    }),
  },
  {
    path: '/json',
    options: {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from('{"a":1,"b":["x",null],"c":"é"}'),
    },
    expect: () => ({ status: 200, body: '{"got":{"a":1,"b":["x",null],"c":"é"}}' }),
  },
  {
    path: '/form',
    options: form('a=1&b=two+words&c=%C3%A9'),
    expect: () => ({ status: 200, body: '{"got":{"a":"1","b":"two words","c":"é"}}' }),
  },
  {
    path: '/cookies',
    expect: () => ({ status: 200, 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'], body: 'two cookies\n' }),
  },
  { path: '/redirect', expect: () => ({ status: 302, location: ['/users/1'] }) },
  {
    path: '/',
    options: { method: 'HEAD' },
    expect: () => ({
      status: 200,
      // Hono leaves the type of c.text() to Fetch (text/plain;charset=UTF-8); Express adds a space.
      'content-type': [expect.stringMatching(/^text\/plain; ?charset=utf-8$/i)],
      body: '',
    }),
  },
  { path: '/stream', expect: () => ({ status: 200, body: 'chunk 0\nchunk 1\nchunk 2\n' }) },
  { path: '/fail', expect: () => ({ status: 500 }) },
]

describe.skipIf(missing.length > 0 && !REQUIRE_SERVERS)('the example Hono and Express apps under real servers', () => {
  const shared: Shared = { RUNDIR: '', SOCKDIR: '', DOCROOT: '', CGI_BIN: '', FCGI_PORT: '' }
  const running: Array<Server | Proc> = []
  let apache: Server | undefined
  let nginx: Server | undefined
  const port = (server: () => Server | undefined) => (): number => {
    const s = server()
    if (s === undefined) throw new Error('integration: the server did not start')
    return s.port
  }
  const apachePort = port(() => apache)
  const nginxPort = port(() => nginx)
  const APPS: App[] = [
    {
      name: 'Hono',
      module: 'examples/hono.ts',
      gateways: [
        { name: 'Apache mod_cgid (tsgi build)', port: apachePort, base: '/cgi-bin/hono' },
        { name: 'nginx FastCGI, TCP', port: nginxPort, base: '/ngx-tcp' },
        { name: 'Apache mod_proxy_fcgi, TCP', port: apachePort, base: '/fcgi-tcp' },
      ],
    },
    {
      name: 'Express',
      module: 'examples/express.ts',
      gateways: [
        { name: 'Apache mod_cgid (tsgi build)', port: apachePort, base: '/cgi-bin/express' },
        { name: 'nginx FastCGI, Unix socket', port: nginxPort, base: '/ngx-uds' },
        { name: 'Apache mod_proxy_fcgi, Unix socket', port: apachePort, base: '/fcgi-uds' },
      ],
    },
  ]

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(skipMessage('frameworks', missing).replace('skipped', 'but'))
    shared.RUNDIR = serverDir(makeRunDir())
    shared.SOCKDIR = socketDir(join(shared.RUNDIR, 'tsgi'))
    shared.DOCROOT = serverDir(join(shared.RUNDIR, 'htdocs'))
    shared.CGI_BIN = join(shared.RUNDIR, 'cgi-bin')
    shared.FCGI_PORT = String(await freePort())
    // The CGI scripts, built by the command a user runs.
    for (const [module, name] of [
      ['examples/hono.ts', 'hono'],
      ['examples/express.ts', 'express'],
    ] as const) {
      const args = [TSGI, 'build', module, '--out', join(shared.CGI_BIN, name), '--strip-script-name']
      const run = spawnSync(process.execPath, args, { cwd: ROOT, env: CLEAN_ENV, encoding: 'utf8', timeout: 120_000 })
      if (run.status !== 0) throw new Error(`tsgi build ${module} exited ${run.status}:\n${run.stdout}\n${run.stderr}`)
    }
    // The responders, as examples/nginx.conf starts them: as root, each drops to the tsgi user.
    if (asRoot) serviceUser()
    const socket = join(shared.SOCKDIR, 'tsgi.sock')
    const drop = asRoot ? ['--user', 'tsgi'] : []
    const owner = asRoot ? ['--socket-owner', 'tsgi:www-data', '--socket-mode', '0660'] : []
    const hono = new Proc('tsgi fastcgi examples/hono.ts', TSGI, [
      'fastcgi',
      'examples/hono.ts',
      '--strip-script-name',
      '--listen',
      `127.0.0.1:${shared.FCGI_PORT}`,
      ...drop,
    ])
    const express = new Proc('tsgi fastcgi examples/express.ts', TSGI, [
      'fastcgi',
      'examples/express.ts',
      '--strip-script-name',
      '--listen',
      socket,
      ...owner,
      ...drop,
    ])
    running.push(hono, express)
    await Promise.all([waitForListen(Number(shared.FCGI_PORT), hono), waitForListen(socket, express)])
    apache = await startApache(shared)
    running.push(apache)
    nginx = await startNginx(shared)
    running.push(nginx)
  }, 180_000)

  afterAll(async () => {
    for (const proc of running.reverse()) await proc.stop()
    if (shared.RUNDIR !== '') removeRunDir(shared.RUNDIR)
  })

  /** The logs, for a failure message. */
  const logs = (): string =>
    [
      ...running.filter((p): p is Proc => p instanceof Proc).map((p) => `--- ${p.name}\n${p.output.slice(-2000)}`),
      `--- apache\n${tail(join(shared.RUNDIR, 'apache-error.log'), 2000)}`,
      `--- nginx\n${tail(join(shared.RUNDIR, 'nginx-error.log'), 2000)}`,
    ].join('\n')

  for (const app of APPS) {
    describe(app.name, () => {
      for (const exchange of EXCHANGES) {
        const what = `${exchange.options?.method ?? 'GET'} ${exchange.path}`
        it(`${what}: the same answer through ${app.gateways.map((g) => g.name).join(', ')}`, async () => {
          const answers: Array<[string, Record<string, unknown>]> = []
          for (const gateway of app.gateways) {
            const response = await request(gateway.port(), gateway.base + exchange.path, exchange.options)
            answers.push([gateway.name, answer(response, gateway.base)])
          }
          const [first, ...rest] = answers
          expect(first![1], `${first![0]}\n${logs()}`).toMatchObject(exchange.expect(app.name))
          for (const [name, got] of rest) expect(got, `${name} differs from ${first![0]}`).toEqual(first![1])
        })
      }
    })
  }
})
