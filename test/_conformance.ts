// ONE conformance suite: the same app (test/fixtures/conformance-app.ts) and the same assertions through
// every gateway in test/_transports.ts. What legitimately differs between gateways is a capability flag.
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest'
import type { ConfResponse, Transport, TransportFactory } from './_transports.js'
import { pattern } from './fixtures/conformance-app.js'

const header = (response: ConfResponse, name: string): string | undefined =>
  response.headers.find(([n]) => n === name)?.[1]
const all = (response: ConfResponse, name: string): string[] =>
  response.headers.filter(([n]) => n === name).map(([, v]) => v)
const json = (response: ConfResponse): Record<string, unknown> =>
  JSON.parse(response.body.toString('utf8')) as Record<string, unknown>

/** Waits for a file a spawned or in-process app writes; the deadline only bounds a failing test. */
export async function waitForFile(path: string, deadlineMs = 10_000): Promise<boolean> {
  const start = Date.now()
  while (!existsSync(path)) {
    if (Date.now() - start > deadlineMs) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

/** `it`, with each check's name and outcome also told to `factory.report` (the compatibility table). */
function reporting(factory: TransportFactory, prefix = ''): (name: string, run: () => Promise<void>) => void {
  return (name, run) => {
    const report = factory.report
    report?.declare(prefix + name)
    vitestIt(name, async () => {
      try {
        await run()
      } catch (err) {
        report?.record(prefix + name, false)
        throw err
      }
      report?.record(prefix + name, true)
    })
  }
}

export function conformanceSuite(factory: TransportFactory): void {
  const it = reporting(factory)
  const suite = factory.skip === undefined ? describe : describe.skip
  suite(`conformance: ${factory.name}`, () => {
    let t: Transport
    let scratch: string
    beforeAll(async () => {
      t = await factory.start()
      scratch = mkdtempSync(join(tmpdir(), 'tsgi-conf-'))
      // The app may run as another user (a web server's www-data) and writes its /slow markers here.
      chmodSync(scratch, 0o777)
    })
    afterAll(async () => {
      await t?.close()
      if (scratch) rmSync(scratch, { recursive: true, force: true })
    })

    it('hello', async () => {
      const r = await t.send({ path: '/hello' })
      expect(r.status).toBe(200)
      expect(header(r, 'content-type')).toBe('text/plain')
      expect(r.body.toString()).toBe('Hello world!\n')
      expect(r.complete).toBe(true)
    })

    it('echo: method, path, query, body length, sha256 and content type of a 100 KB POST', async () => {
      const body = randomBytes(100_000)
      const r = await t.send({
        method: 'POST',
        path: '/echo/x',
        query: 'a=1&b=%20',
        headers: [['Content-Type', 'application/x-test']],
        body,
      })
      expect(r.status).toBe(200)
      expect(json(r)).toEqual({
        method: 'POST',
        path: `${t.caps.scriptName}/echo/x`,
        query: 'a=1&b=%20',
        length: 100_000,
        sha256: createHash('sha256').update(body).digest('hex'),
        CONTENT_LENGTH: '100000',
        CONTENT_TYPE: 'application/x-test',
      })
    })

    it('environ: RFC 3875 variables as strings and the tsgi keys of this gateway', async () => {
      const r = await t.send({ path: '/env/a b', query: 'q=1', headers: [['X-Test', 'yes']] })
      const {
        environ,
        tsgi,
        process: proc,
      } = json(r) as {
        environ: Record<string, string>
        tsgi: Record<string, unknown>
        process: Record<string, unknown>
      }
      expect(environ).toMatchObject({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: t.caps.scriptName,
        PATH_INFO: '/env/a b',
        QUERY_STRING: 'q=1',
        HTTP_X_TEST: 'yes',
        SERVER_PROTOCOL: 'HTTP/1.1',
      })
      expect(environ.SERVER_NAME).toBeTruthy()
      expect(environ.SERVER_PORT).toMatch(/^\d+$/)
      if (t.caps.getContentLength === undefined) expect(environ).not.toHaveProperty('CONTENT_LENGTH')
      else expect(environ.CONTENT_LENGTH).toBe(t.caps.getContentLength)
      expect(tsgi).toMatchObject({
        version: [1, 0],
        url_scheme: 'http',
        multithread: false,
        multiprocess: t.caps.multiprocess,
        run_once: t.caps.runOnce,
        signal: true,
      })
      // The FastCGI responder never copies params into process.env (S-01); CGI's process.env is the request.
      if (!t.caps.runOnce) expect(proc.REQUEST_METHOD).toBeNull()
    })

    it('status 418 with its reason', async () => {
      const r = await t.send({ path: '/status/418' })
      expect(r.status).toBe(418)
      expect(r.body.toString()).toBe('status 418\n')
    })

    it('repeated Set-Cookie stay separate header lines', async () => {
      const r = await t.send({ path: '/cookies' })
      expect(all(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/'])
    })

    it('repeated request headers are merged (Cookie with "; ", others with ", ")', async () => {
      const r = await t.send({
        path: '/headers',
        headers: [
          ['X-Dup', 'one'],
          ['X-Dup', 'two'],
          ['Cookie', 'a=1'],
          ['Cookie', 'b=2'],
        ],
      })
      const headers = new Map(json(r) as unknown as Array<[string, string]>)
      expect(headers.get('HTTP_X_DUP')).toBe('one, two')
      expect(headers.get('HTTP_COOKIE')).toBe(['a=1', 'b=2'].join(t.caps.cookieJoin ?? '; '))
    })

    it('an app error before the headers: a 500 that hides the detail, which goes to tsgi.errors', async () => {
      const r = await t.send({ path: '/error' })
      expect(r.status).toBe(500)
      expect(r.body.toString()).toBe('Internal Server Error\n')
      expect(r.body.toString()).not.toContain('secret')
      expect(r.complete).toBe(true)
      expect(r.stderr).toContain('secret-detail-7f3a')
    })

    it('header injection: CR LF in a header value is a clean 500, no injected header reaches the client (S-04)', async () => {
      const r = await t.send({ path: '/inject' })
      expect(r.status).toBe(500)
      expect(r.headers.map(([name]) => name)).not.toContain('x-injected')
      expect(r.body.toString()).toBe('Internal Server Error\n')
    })

    it('an app error after the first chunk: the response is visibly incomplete', async () => {
      const r = await t.send({ path: '/error-after' })
      expect(r.stderr).toContain('secret-detail-91c2')
      if (t.caps.cutShort === 'error') {
        // The server held the first chunk back, so it can still answer with its own error page.
        expect(r.status).toBe(500)
        expect(r.body.toString()).not.toContain('first chunk')
        return
      }
      expect(r.status).toBe(200)
      expect(r.body.toString()).toBe('first chunk\n')
      expect(r.complete).toBe(t.caps.cutShort === 'complete')
    })

    it('local redirect (RFC 3875 §6.2.2)', async () => {
      const r = await t.send({ path: '/local-redirect' })
      expect(r.status).toBe(t.caps.localRedirect === 'client' ? 302 : 200)
      if (t.caps.localRedirect === 'client') {
        expect(header(r, 'location')).toBe(`${t.caps.scriptName}/env/redirected?from=local`)
      } else if (t.caps.localRedirect === 'dispatch') {
        const { environ } = json(r) as { environ: Record<string, string> }
        expect(environ).toMatchObject({
          PATH_INFO: '/env/redirected',
          QUERY_STRING: 'from=local',
          REDIRECT_STATUS: '200',
        })
      } else {
        // Over CGI and FastCGI the head is `Location` alone (no Status line); in process, the engine's own head.
        expect(r.headers.filter(([name]) => name !== 'content-length')).toEqual([
          ['location', `${t.caps.scriptName}/env/redirected?from=local`],
        ])
        expect(r.body.length).toBe(0)
      }
    })

    it('a local redirect done in the app by localRedirects() looks the same through every gateway', async () => {
      const r = await t.send({ path: '/in-app-redirect' })
      expect(r.status).toBe(200)
      const { environ } = json(r) as { environ: Record<string, string> }
      expect(environ).toMatchObject({
        PATH_INFO: '/env/redirected',
        QUERY_STRING: 'from=middleware',
        REQUEST_METHOD: 'GET',
      })
    })

    it('client redirect: 302 with an absolute URL', async () => {
      const r = await t.send({ path: '/client-redirect' })
      expect(r.status).toBe(302)
      expect(header(r, 'location')).toBe('http://example.invalid/elsewhere')
    })

    it('a 3 MiB response streamed in chunks arrives byte-exact', async () => {
      const size = 3 * 1024 * 1024 + 17
      const r = await t.send({ path: `/big/${size}` })
      expect(r.status).toBe(200)
      expect(header(r, 'content-length')).toBe(t.caps.dropsContentLength ? undefined : String(size))
      expect(r.body.length).toBe(size)
      expect(r.body.equals(Buffer.from(pattern(0, size)))).toBe(true)
      expect(r.complete).toBe(true)
    })

    it('HEAD: the head of the GET response and no body', async () => {
      const r = await t.send({ method: 'HEAD', path: '/big/100000' })
      expect(r.status).toBe(200)
      expect(header(r, 'content-length')).toBe(t.caps.dropsContentLength ? undefined : '100000')
      expect(r.body.length).toBe(0)
    })

    it('httpoxy: a Proxy header is environ HTTP_PROXY, never process.env.HTTP_PROXY (S-01)', async () => {
      const r = await t.send({ path: '/proxy', headers: [['Proxy', 'http://evil.invalid:8080']] })
      expect(json(r)).toEqual({ process: null, environ: t.caps.dropsProxyHeader ? null : 'http://evil.invalid:8080' })
    })

    it('tsgi.errors reaches the gateway', async () => {
      const r = await t.send({ path: '/stderr', query: 'line=first&line=second' })
      expect(r.status).toBe(200)
      expect(r.stderr).toContain('first\nsecond\n')
    })

    it('a client that goes away mid-response fires tsgi.signal', async () => {
      const file = join(scratch, 'slow')
      await t.abandon({ path: '/slow', query: `file=${encodeURIComponent(file)}&n=500&ms=10` })
      expect(await waitForFile(`${file}.signal`)).toBe(true)
      expect(existsSync(`${file}.done`)).toBe(false)
    })

    it('the authorizer answers 200 with Variable-* headers, or 403', async () => {
      const ok = await t.send({ path: '/auth', headers: [['X-Token', 'let-me-in']] })
      expect(ok.status).toBe(200)
      expect(header(ok, 'variable-tsgi_user')).toBe('alice')
      const denied = await t.send({ path: '/auth' })
      expect(denied.status).toBe(403)
      expect(denied.body.toString()).toBe('denied by the tsgi authorizer\n')
    })

    it('a 5 KiB response header', async () => {
      const r = await t.send({ path: '/big-header', query: 'size=5120' })
      if (t.caps.headerCap) {
        // S-22: over nginx's 4 KiB fastcgi_buffer_size; a clean 500 instead of a 502 at the web server.
        expect(r.status).toBe(500)
        expect(r.body.toString()).toBe('Internal Server Error\n')
        expect(r.stderr).toContain('header block')
      } else {
        expect(r.status).toBe(200)
        expect(header(r, 'x-big')).toHaveLength(5120)
      }
    })

    describe('the seed examples under validate() (SPEC §8)', () => {
      const it = reporting(factory, 'seed example ')
      for (const [name, path, expected] of [
        ['hello', '/example/hello', 'Hello world!\n'],
        ['app-class', '/example/app-class', 'Hello world!\n'],
        ['path', '/example/path/tsgi', ' tsgi '],
        ['upper', '/example/upper', 'HELLO WORLD!\n'],
      ] as const) {
        it(name, async () => {
          const r = await t.send({ path })
          expect(r.stderr).not.toMatch(/validat/i)
          expect(r.status).toBe(200)
          expect(r.body.toString()).toBe(expected)
        })
      }

      it('environ: the dump of this gateway passes the validator', async () => {
        const r = await t.send({ path: '/example/environ/x', query: 'k=v' })
        expect(r.status).toBe(200)
        expect(r.body.toString()).toMatch(/^PATH_INFO: \/x$/m)
        expect(r.body.toString()).toMatch(/^QUERY_STRING: k=v$/m)
        expect(r.body.toString()).toMatch(/^tsgi\.input: </m)
      })

      it('echo reads a POST body through the validated tsgi.input', async () => {
        const r = await t.send({ method: 'POST', path: '/example/echo', body: Buffer.from('hello world') })
        expect(r.status).toBe(200)
        expect(r.body.toString()).toMatch(/^length: 11$/m)
        expect(r.body.toString()).toMatch(/^sha256: b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9$/m)
      })
    })
  })
}
