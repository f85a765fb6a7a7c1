// nginx from examples/nginx.conf: FastCGI over TCP with kept connections, and over a Unix socket.
import { describe, expect } from 'vitest'
import { definePathChecks } from '../_checks.js'
import { json, request } from '../_client.js'
import { conformance, path, skipFor, useServer } from '../_paths.js'
import { startNginx } from '../_servers.js'

export function defineNginx(): void {
  describe('nginx', () => {
    const nginx = useServer('nginx', startNginx)
    const nginxLogs = nginx.logs
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
}
