// lighttpd 1.4 from examples/lighttpd.conf: a responder it spawns on fd 0 (bin-path), one on TCP, and
// the FastCGI Authorizer in front of static files.
import { describe, expect } from 'vitest'
import { definePathChecks, registerCheck } from '../_checks.js'
import { request } from '../_client.js'
import { conformance, path, skipFor, useServer } from '../_paths.js'
import { declarePath } from '../_results.js'
import { startLighttpd } from '../_servers.js'

export function defineLighttpd(): void {
  describe('lighttpd', () => {
    const lighttpd = useServer('lighttpd', startLighttpd)
    const lighttpdLogs = lighttpd.logs
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
        const response = await request(lighttpd.port(), '/protected/secret.txt', {
          headers: [['X-Token', 'let-me-in']],
        })
        expect(response.status).toBe(200)
        expect(response.body.toString()).toBe('behind the authorizer\n')
      })
    })
  })
}
