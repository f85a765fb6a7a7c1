// Apache httpd 2.4 from apache.conf.example: mod_cgid, mod_proxy_fcgi over TCP and a Unix socket,
// mod_fcgid spawning the responder on fd 0, and mod_authnz_fcgi's FastCGI Authorizer.
import { readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { definePathChecks, registerCheck } from '../_checks.js'
import { headerValues, json, request } from '../_client.js'
import { ROOT, sleep, tail } from '../_harness.js'
import { get } from '../_http-load.js'
import { conformance, path, shared, skipFor, useServer } from '../_paths.js'
import { declarePath } from '../_results.js'
import { startApache } from '../_servers.js'

/** FcgidMaxRequestsPerProcess, as apache.conf.example sets it. */
const FCGID_MAX_REQUESTS = Number(
  /^FcgidMaxRequestsPerProcess (\d+)/m.exec(readFileSync(join(ROOT, 'apache.conf.example'), 'utf8'))?.[1],
)

export function defineApache(): void {
  describe('Apache httpd', () => {
    const apache = useServer('apache', startApache)
    const apacheLogs = apache.logs
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
}
