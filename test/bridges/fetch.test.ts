// fromFetch under every gateway (in-process, CGI, dev server, FastCGI over TCP and a Unix socket): what
// Fetch adapters for Node got wrong, each its own check, on a plain Fetch handler
// (test/fixtures/frameworks/fetch-handler.ts). Hono itself runs the framework suite (test/_frameworks.ts).
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fromFetch } from '../../src/bridges/fetch.js'
import { waitForFile } from '../_conformance.js'
import { all, bounded, frameworkTransports, header, useTransport } from '../_frameworks.js'
import { type AppSpec, ROOT, removeBundles } from '../_transports.js'
import handler from '../fixtures/frameworks/fetch-handler.js'

afterAll(removeBundles)

const MOUNT = { stripScriptName: true }
const spec: AppSpec = {
  label: 'Fetch handler',
  appPath: join(ROOT, 'test/fixtures/frameworks/fetch-handler.ts'),
  app: fromFetch(handler, MOUNT),
  mount: MOUNT,
  shape: 'fetch',
}

for (const factory of frameworkTransports(spec)) {
  describe(`fromFetch: ${factory.name}`, () => {
    const { send, transport, scratch } = useTransport(factory)

    it('several Set-Cookie headers stay separate lines (never joined with a comma)', async () => {
      const r = await send({ path: '/cookies' })
      expect(r.status).toBe(200)
      expect(all(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly'])
      // Any other repeated header is one line, joined as Fetch's Headers joins it.
      expect(all(r, 'x-multi')).toEqual(['a, b'])
    })

    it('a handler that never reads the request body does not hang, nor the request after it', async () => {
      const body = randomBytes(1024 * 1024)
      for (let i = 0; i < 2; i++) {
        const r = await send({ method: 'POST', path: '/ignore', body })
        expect([r.status, r.body.toString()]).toEqual([200, 'ignored\n'])
      }
      const next = await send({ path: '/cookies' })
      expect(next.status).toBe(200)
    })

    it('await request.body.cancel() in the handler crashes nothing: it answers, and so does the next request', async () => {
      const r = await send({ method: 'POST', path: '/cancel-body', body: randomBytes(512 * 1024) })
      expect([r.status, r.body.toString(), r.complete]).toEqual([200, 'cancelled\n', true])
      expect(r.stderr).toBe('')
      const next = await send({ method: 'POST', path: '/cancel-body', body: Buffer.from('small') })
      expect([next.status, next.body.toString()]).toEqual([200, 'cancelled\n'])
    })

    // A CGI process ends with its response: after mod_cgid's SIGTERM the engine stops and the script exits,
    // so what a handler does once the client has left never runs there. Resident gateways only.
    const leaveCheck = factory.name.startsWith('CGI') ? it.skip : it
    leaveCheck('a client that leaves does not make reading the body it sent throw "Body is unusable"', async () => {
      const file = join(scratch(), `leave-${randomBytes(4).toString('hex')}`)
      const body = 'a body sent in full before the client left'
      await bounded(
        transport().abandon({
          method: 'POST',
          path: '/read-after-leave',
          query: `file=${encodeURIComponent(file)}`,
          body: Buffer.from(body),
        }),
        5000,
        'abandon',
      )
      // The read settles: with the body (it had arrived), or with the gateway's reason it could not.
      expect(await waitForFile(`${file}.outcome`, 3000)).toBe(true)
      const outcome = readFileSync(`${file}.outcome`, 'utf8')
      expect(outcome).not.toMatch(/unusable/i)
      expect(outcome).toMatch(new RegExp(`^(text:${body}|error:.*(abort|ABORT|closed|gone).*)$`, 's'))
    })

    it('no chunked framing: a Transfer-Encoding the handler sets is dropped, the body is as given', async () => {
      const r = await send({ path: '/transfer-encoding' })
      expect(r.status).toBe(200)
      expect(r.body.toString('latin1')).toBe('one\ntwo\n')
      expect(header(r, 'transfer-encoding')).toBeUndefined()
    })

    it('a handler that throws: a clean 500 hiding the detail, which goes to tsgi.errors', async () => {
      const r = await send({ path: '/throw' })
      expect([r.status, r.body.toString(), r.complete]).toEqual([500, 'Internal Server Error\n', true])
      expect(r.stderr).toContain('secret-detail-fetch-31c4')
    })

    it('a handler that returns something else than a Response: a clean 500 saying so on tsgi.errors', async () => {
      const r = await send({ path: '/not-a-response' })
      expect([r.status, r.body.toString()]).toEqual([500, 'Internal Server Error\n'])
      expect(r.stderr).toContain('must return a Response')
    })
  })
}
