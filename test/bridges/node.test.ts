// fromNode under every gateway (in-process, CGI, dev server, FastCGI over TCP and a Unix socket): what
// Node adapters got wrong, each its own check, on Express (test/fixtures/frameworks/express-app.ts) and on
// a plain Connect-style listener (test/fixtures/frameworks/node-listener.ts).
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fromNode, type NodeListener } from '../../src/bridges/node.js'
import { all, FRAMEWORKS, frameworkTransports, header, useTransport } from '../_frameworks.js'
import { type AppSpec, ROOT, removeBundles } from '../_transports.js'
import listener from '../fixtures/frameworks/node-listener.js'

afterAll(removeBundles)

const MOUNT = { stripScriptName: true }
const plain: AppSpec = {
  label: 'node listener',
  appPath: join(ROOT, 'test/fixtures/frameworks/node-listener.ts'),
  app: fromNode(listener as NodeListener, MOUNT),
  mount: MOUNT,
  shape: 'node',
}

for (const factory of frameworkTransports(FRAMEWORKS.express)) {
  describe(`fromNode: ${factory.name}`, () => {
    const { send } = useTransport(factory)

    it('Express streaming: a second res.write is not lost', async () => {
      const r = await send({ path: '/write-twice' })
      expect([r.status, r.body.toString(), r.complete]).toEqual([200, 'one\ntwo\nthree\n', true])
      expect(header(r, 'content-type')).toBe('text/plain; charset=utf-8')
    })

    it("Express: two res.cookie() and res.setHeader('X-Multi', ['a', 'b']) are separate header lines", async () => {
      const r = await send({ path: '/headers' })
      expect(r.status).toBe(200)
      expect(all(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly'])
      expect(all(r, 'x-multi')).toEqual(['a', 'b'])
      expect(r.body.toString()).toBe('headers\n')
    })

    it("Express: a request no route takes ends in the bridge's next(): a 404", async () => {
      const r = await send({ path: '/no/such/route' })
      expect([r.status, r.body.toString(), r.complete]).toEqual([404, 'Not Found\n', true])
    })
  })
}

for (const factory of frameworkTransports(plain)) {
  describe(`fromNode: ${factory.name}`, () => {
    const { send } = useTransport(factory)

    it('no chunked framing leaks into the body: writes without a Content-Length come out as written', async () => {
      const r = await send({ path: '/streamed' })
      expect(r.status).toBe(200)
      expect(r.body.toString('latin1')).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n')
      expect(header(r, 'transfer-encoding')).toBeUndefined()
    })

    it('no chunked framing leaks into the body, even when the app sets Transfer-Encoding: chunked itself', async () => {
      const r = await send({ path: '/chunked-by-hand' })
      expect(r.status).toBe(200)
      expect(r.body.toString('latin1')).toBe('one\ntwo\n')
      expect(header(r, 'transfer-encoding')).toBeUndefined()
    })

    it('a second res.write is not lost', async () => {
      const r = await send({ path: '/write-twice' })
      expect([r.status, r.body.toString(), r.complete]).toEqual([200, 'one\ntwo\nthree\n', true])
    })

    it('Set-Cookie and another header set as arrays are one line per value', async () => {
      const r = await send({ path: '/headers' })
      expect(all(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly'])
      expect(all(r, 'x-multi')).toEqual(['a', 'b'])
    })

    it('next() at the end of the chain: a 404', async () => {
      const r = await send({ path: '/next' })
      expect([r.status, r.body.toString(), r.complete]).toEqual([404, 'Not Found\n', true])
      expect(header(r, 'content-type')).toBe('text/plain; charset=utf-8')
    })

    it('next(error): a 500 whose body hides the error, which goes to tsgi.errors', async () => {
      const r = await send({ path: '/next-error' })
      expect([r.status, r.body.toString(), r.complete]).toEqual([500, 'Internal Server Error\n', true])
      expect(r.stderr).toContain('secret-detail-next-77aa')
    })

    it('a listener that throws, or returns a rejected promise: the same clean 500', async () => {
      for (const [path, secret] of [
        ['/throw', 'secret-detail-throw-77aa'],
        ['/reject', 'secret-detail-reject-77aa'],
      ] as const) {
        const r = await send({ path })
        expect([r.status, r.body.toString(), r.complete]).toEqual([500, 'Internal Server Error\n', true])
        expect(r.stderr).toContain(secret)
      }
    })

    it('a handler that never reads the request body does not hang, nor the request after it', async () => {
      const body = randomBytes(1024 * 1024)
      for (let i = 0; i < 2; i++) {
        const r = await send({ method: 'POST', path: '/ignore', headers: [['Content-Type', 'text/plain']], body })
        expect([r.status, r.body.toString()]).toEqual([200, 'ignored\n'])
      }
      expect((await send({ path: '/write-twice' })).body.toString()).toBe('one\ntwo\nthree\n')
    })

    it("pipeline(stream, res): backpressure-aware writes go on after 'drain'", async () => {
      const size = 1024 * 1024
      const r = await send({ path: '/pipeline', query: `n=${size}` }, 2000) // well under that when it works
      expect(r.body.byteLength).toBe(size)
    })
  })
}
