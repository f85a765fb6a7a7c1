// h2o 2.2 from examples/h2o.conf: fastcgi.connect to the responder on TCP (kept connections) and on a Unix
// socket, and fastcgi.spawn starting a responder of its own on fd 0.
import { describe } from 'vitest'
import { definePathChecks } from '../_checks.js'
import { conformance, path, skipFor, useServer } from '../_paths.js'
import { startH2o } from '../_servers.js'

export function defineH2o(): void {
  describe('h2o', () => {
    const h2o = useServer('h2o', startH2o)
    const common = { server: 'h2o 2.2', module: 'fastcgi' }
    const seen = {
      getContentLength: null,
      headContentLength: '1000',
      chunkedContentLength: String(3 * 1024 * 1024),
      cookie: 'a=1;b=2',
      underscore: 'dash, underscore',
      httpProxy: 'http://evil.invalid',
      localRedirect: 'passed through',
      abort: 'signal',
      https: { HTTPS: 'on', REQUEST_SCHEME: null },
    } as const
    const paths = [
      ['h2o-tcp', 'TCP, fastcgi.timeout.keepalive', '/h2-tcp', 'reused'],
      ['h2o-uds', 'Unix socket', '/h2-uds', 'one per request'],
      ['h2o-spawn', 'spawned, socket on fd 0 (fastcgi.spawn)', '/h2-spawn', 'one per request'],
    ] as const
    for (const [id, mode, base, reuse] of paths) {
      describe(mode, () => {
        const spec = path({
          id,
          ...common,
          mode,
          gateway: 'fastcgi',
          base,
          port: h2o.port,
          tlsPort: h2o.tlsPort,
          skip: skipFor('h2o'),
          expect: { ...seen, reuse },
          extraNotes: id === 'h2o-tcp' ? ['SCRIPT_NAME from setenv, the mount taken off PATH_INFO (C-25)'] : [],
        })
        definePathChecks(spec)
        // h2o ends a response the app cut short cleanly (the last chunk): the client cannot tell.
        conformance(spec, h2o.logs, { cutShort: 'complete' })
      })
    }
  })
}
