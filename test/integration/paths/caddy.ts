// Caddy 2.6 from examples/Caddyfile: `reverse_proxy` with its fastcgi transport, to the responder on TCP
// and on a Unix socket.
import { describe, expect } from 'vitest'
import { definePathChecks } from '../_checks.js'
import { request } from '../_client.js'
import { conformance, path, responderLog, skipFor, useServer } from '../_paths.js'
import { startCaddy } from '../_servers.js'

export function defineCaddy(): void {
  describe('Caddy', () => {
    const caddy = useServer('caddy', startCaddy)
    const common = { server: 'Caddy 2.6', module: 'reverse_proxy, transport fastcgi' }
    const seen = {
      getContentLength: '0',
      headContentLength: '1000',
      // Streamed with CONTENT_LENGTH "-1", which tsgi reads to the end (C-23).
      chunkedContentLength: null,
      cookie: 'a=1, b=2',
      underscore: ['dash', 'underscore'],
      httpProxy: null, // header_up -Proxy
      localRedirect: 'passed through',
      abort: 'signal',
      https: { HTTPS: 'on', REQUEST_SCHEME: 'https' },
      reuse: 'one per request',
    } as const
    const extraNotes = ['chunked body: CONTENT_LENGTH "-1", read to the end (C-23)']
    // Caddy drops STDERR records: the responder writes tsgi.errors to its own log instead (F-34).
    const logs = { 'caddy-tcp': responderLog.tcp, 'caddy-uds': responderLog.uds }

    for (const [id, mode, base] of [
      ['caddy-tcp', 'TCP', '/cd-tcp'],
      ['caddy-uds', 'Unix socket', '/cd-uds'],
    ] as const) {
      describe(mode, () => {
        const spec = path({
          id,
          ...common,
          mode,
          gateway: 'fastcgi',
          base,
          port: caddy.port,
          tlsPort: caddy.tlsPort,
          skip: skipFor('caddy'),
          expect: { ...seen, underscore: [...seen.underscore] },
          extraNotes: [...(id === 'caddy-tcp' ? extraNotes : []), "tsgi.errors in the responder's log (F-34)"],
        })
        definePathChecks(spec, [
          [
            'the mount itself, without a slash, reaches the app (PATH_INFO "")',
            async () => {
              const response = await request(caddy.port(), base)
              expect([response.status, response.body.toString()]).toEqual([404, 'no route ""\n'])
            },
          ],
          [
            'Caddy takes the example as formatted (no `caddy fmt` warning)',
            async () => expect(caddy.server().proc.output).not.toContain('is not formatted'),
          ],
        ])
        // Caddy ends a response the app cut short cleanly: the client cannot tell it is incomplete.
        conformance(spec, () => [...caddy.logs(), logs[id]()], { cutShort: 'complete' })
      })
    }
  })
}
