// tsgi under real web servers (Apache httpd, nginx, lighttpd, Caddy, HAProxy and h2o from the distribution):
// each runs from the example config in this repo and serves test/fixtures/conformance-app.ts over CGI and
// FastCGI; the same checks run through every path and the results become docs/COMPATIBILITY.md.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { registerCheck } from './_checks.js'
import {
  buildCgiBin,
  freePort,
  makeRunDir,
  type Proc,
  removeRunDir,
  selfSignedCert,
  serverDir,
  socketDir,
  startResponder,
  waitForListen,
} from './_harness.js'
import { responderLog, shared, warnMissing } from './_paths.js'
import { QUIRKS } from './_quirks.js'
import { declarePath, writeCompatibility } from './_results.js'
import { serverVersions } from './_servers.js'
import { defineSpawnFcgi } from './_spawn-fcgi.js'
import { defineApache } from './paths/apache.js'
import { defineCaddy } from './paths/caddy.js'
import { defineH2o } from './paths/h2o.js'
import { defineHaproxy } from './paths/haproxy.js'
import { defineLighttpd } from './paths/lighttpd.js'
import { defineNginx } from './paths/nginx.js'

warnMissing()

const responders: Proc[] = []

beforeAll(async () => {
  shared.RUNDIR = serverDir(makeRunDir())
  shared.SOCKDIR = socketDir(join(shared.RUNDIR, 'tsgi'))
  shared.DOCROOT = join(shared.RUNDIR, 'htdocs')
  shared.CGI_BIN = join(shared.RUNDIR, 'cgi-bin')
  shared.FCGI_PORT = String(await freePort())
  const tls = selfSignedCert(shared.RUNDIR)
  Object.assign(shared, { TLS_CERT: tls.cert, TLS_KEY: tls.key, TLS_PEM: tls.pem })
  mkdirSync(join(shared.DOCROOT, 'protected'), { recursive: true })
  writeFileSync(join(shared.DOCROOT, 'index.html'), 'tsgi integration\n')
  writeFileSync(join(shared.DOCROOT, 'protected/secret.txt'), 'behind the authorizer\n')
  await buildCgiBin(shared.CGI_BIN)
  // The resident responders the proxy paths talk to (mod_fcgid and lighttpd's bin-path start their own).
  // Their own logs land in files: where Caddy and HAProxy cannot take tsgi.errors, it goes there (F-34).
  const tcp = startResponder('responder (TCP)', `127.0.0.1:${shared.FCGI_PORT}`, shared.RUNDIR, [], responderLog.tcp())
  // With a status page: apache.conf.example restricts it to this machine (README "Operations").
  const status = ['--status-path', '/tsgi-status']
  const socket = join(shared.SOCKDIR, 'tsgi.sock')
  const uds = startResponder('responder (Unix socket)', socket, shared.RUNDIR, status, responderLog.uds())
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

defineApache()
defineNginx()
defineLighttpd()
defineCaddy()
defineHaproxy()
defineH2o()

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
