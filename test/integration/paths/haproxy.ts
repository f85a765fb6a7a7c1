// HAProxy 2.6 from examples/haproxy.cfg: `fcgi-app` backends to the responder on TCP (FCGI_KEEP_CONN,
// connections reused) and on a Unix socket. Two responders behind one backend: upstream-haproxy.test.ts.
import { describe } from 'vitest'
import { definePathChecks } from '../_checks.js'
import { conformance, path, responderLog, skipFor, useServer } from '../_paths.js'
import { startHaproxy } from '../_servers.js'

export function defineHaproxy(): void {
  describe('HAProxy', () => {
    const haproxy = useServer('haproxy', startHaproxy)
    const common = { server: 'HAProxy 2.6', module: 'fcgi-app' }
    const seen = {
      getContentLength: '0',
      headContentLength: '1000',
      // option http-buffer-request: a chunked body must fit one buffer (tune.bufsize, 16 KiB).
      chunkedContentLength: { bufferOnly: 8 * 1024 },
      cookie: 'a=1; b=2',
      underscore: 'dash',
      httpProxy: null,
      localRedirect: 'client',
      abort: 'signal',
      https: { HTTPS: 'on', REQUEST_SCHEME: null },
    } as const

    describe('TCP, option keep-conn', () => {
      const spec = path({
        id: 'haproxy-tcp',
        ...common,
        mode: 'TCP, option keep-conn',
        gateway: 'fastcgi',
        base: '/hp-tcp',
        port: haproxy.port,
        tlsPort: haproxy.tlsPort,
        skip: skipFor('haproxy'),
        expect: { ...seen, reuse: 'reused' },
        extraNotes: [
          'SERVER_NAME "host:port" (tsgi keeps the host, C-24)',
          "tsgi.errors after the head in the responder's log (F-34)",
        ],
      })
      definePathChecks(spec)
      // What the app writes after its response has begun goes to the responder's log (F-34).
      conformance(spec, () => [...haproxy.logs(), responderLog.tcp()])
    })

    describe('Unix socket', () => {
      const spec = path({
        id: 'haproxy-uds',
        ...common,
        mode: 'Unix socket',
        gateway: 'fastcgi',
        base: '/hp-uds',
        port: haproxy.port,
        tlsPort: haproxy.tlsPort,
        skip: skipFor('haproxy'),
        expect: { ...seen, reuse: 'one per request' },
      })
      definePathChecks(spec)
      conformance(spec, () => [...haproxy.logs(), responderLog.uds()])
    })
  })
}
