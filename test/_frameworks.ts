// ONE framework suite: a real Hono app and a real Express app (test/fixtures/frameworks/) through every
// gateway in test/_transports.ts, mounted below SCRIPT_NAME with stripScriptName. Each check fails if the
// bridge (src/bridges/) or a gateway breaks what a framework app relies on. Like test/_conformance.ts.
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromFetch } from '../src/bridges/fetch.js'
import { fromNode, type NodeListener } from '../src/bridges/node.js'
import { waitForFile } from './_conformance.js'
import {
  type AppSpec,
  type ConfRequest,
  type ConfResponse,
  makeTransports,
  ROOT,
  type Transport,
  type TransportFactory,
} from './_transports.js'
import { downloadChunks } from './fixtures/frameworks/common.js'
import expressApp from './fixtures/frameworks/express-app.js'
import honoApp from './fixtures/frameworks/hono-app.js'

export const header = (response: ConfResponse, name: string): string | undefined =>
  response.headers.find(([n]) => n === name)?.[1]
export const all = (response: ConfResponse, name: string): string[] =>
  response.headers.filter(([n]) => n === name).map(([, v]) => v)
const json = (response: ConfResponse): unknown => {
  try {
    return JSON.parse(response.body.toString('utf8'))
  } catch {
    throw new Error(`expected JSON, got ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`)
  }
}
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

const MOUNT = { stripScriptName: true }

/** The fixture apps, as the transports serve them: adapted in-process, detected by shape in the CGI script. */
export const FRAMEWORKS: Record<'hono' | 'express', AppSpec> = {
  hono: {
    label: 'Hono',
    appPath: join(ROOT, 'test/fixtures/frameworks/hono-app.ts'),
    app: fromFetch(honoApp, MOUNT),
    mount: MOUNT,
  },
  express: {
    label: 'Express',
    appPath: join(ROOT, 'test/fixtures/frameworks/express-app.ts'),
    app: fromNode(expressApp as unknown as NodeListener, MOUNT),
    mount: MOUNT,
  },
}

/** The gateways of the framework suite, for one fixture app (fd 0: a spawned responder, as mod_fcgid starts it). */
export function frameworkTransports(spec: AppSpec): TransportFactory[] {
  const t = makeTransports(spec)
  return [t.inProcess, t.cgi, t.devServer, t.fastcgiTcp, t.fastcgiUnix, t.fastcgiFd0]
}

/** Bytes 0..255 repeated to `length`. */
export function allBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length)
  for (let i = 0; i < length; i++) bytes[i] = i % 256
  return bytes
}

/** Rejects when `promise` takes over `ms`: a check that hangs fails in seconds, not at the test timeout. */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/**
 * The transport of a describe block: started before its checks, closed after. `send` is bounded (a check
 * that hangs fails in seconds); `scratch()` is a temp dir any process may write (marker and outcome files).
 */
export function useTransport(factory: TransportFactory) {
  let t: Transport | undefined
  let dir: string | undefined
  beforeAll(async () => {
    t = await factory.start()
    dir = mkdtempSync(join(tmpdir(), 'tsgi-fw-'))
    chmodSync(dir, 0o777)
  })
  afterAll(async () => {
    await t?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  return {
    send: (request: ConfRequest, ms = 10_000): Promise<ConfResponse> =>
      bounded(t!.send(request), ms, `${request.method ?? 'GET'} ${request.path}`),
    transport: (): Transport => t!,
    scratch: (): string => dir!,
  }
}

export function frameworkSuite(factory: TransportFactory): void {
  const suite = factory.skip === undefined ? describe : describe.skip
  suite(`frameworks: ${factory.name}`, () => {
    const { send, transport, scratch } = useTransport(factory)

    it('route params and a query: GET /users/7?q=x', async () => {
      const r = await send({ path: '/users/7', query: 'q=x' })
      expect(r.status).toBe(200)
      expect(header(r, 'content-type')).toMatch(/^application\/json/)
      expect(json(r)).toEqual({ id: '7', q: 'x' })
      expect(r.complete).toBe(true)
    })

    it('a JSON body and a urlencoded form body (POST)', async () => {
      const value = { a: 1, b: [true, 'x'], c: { d: null }, e: 'é' }
      const posted = await send({
        method: 'POST',
        path: '/json',
        headers: [['Content-Type', 'application/json']],
        body: Buffer.from(JSON.stringify(value)),
      })
      expect(posted.status).toBe(200)
      expect(json(posted)).toEqual({ got: value })
      const form = await send({
        method: 'POST',
        path: '/form',
        headers: [['Content-Type', 'application/x-www-form-urlencoded']],
        body: Buffer.from('a=1&b=two+words&c=%C3%A9%26'),
      })
      expect(form.status).toBe(200)
      expect(json(form)).toEqual({ got: { a: '1', b: 'two words', c: 'é&' } })
    })

    it('a streamed response: the first chunk arrives before the handler finishes', async () => {
      // The handler writes "first\n", then waits for this marker, which exists only once we saw bytes.
      const marker = join(scratch(), `stream-${randomBytes(4).toString('hex')}`)
      let seen = ''
      const r = await send({
        path: '/stream',
        query: `file=${encodeURIComponent(marker)}`,
        onData: (bytes) => {
          seen += bytes.toString('utf8')
          if (seen.length > 0 && !existsSync(marker)) writeFileSync(marker, seen, { mode: 0o666 })
        },
      })
      expect(r.status).toBe(200)
      expect(header(r, 'content-type')).toMatch(/^text\/plain/)
      expect(r.body.toString('utf8')).toBe('first\nsecond\n')
      expect(r.complete).toBe(true)
    })

    it('a 10 MiB upload, streamed into a hash by the handler', async () => {
      const body = randomBytes(10 * 1024 * 1024)
      const r = await send({
        method: 'POST',
        path: '/upload',
        headers: [['Content-Type', 'application/octet-stream']],
        body,
      })
      expect(r.status).toBe(200)
      expect(json(r)).toEqual({ length: body.byteLength, sha256: sha256(body) })
    })

    it('a 10 MiB download in 64 KiB chunks arrives byte-exact', async () => {
      const size = 10 * 1024 * 1024 + 17
      const r = await send({ path: '/download', query: `n=${size}` }, 3000) // well under a second when it works
      expect(r.status).toBe(200)
      expect(header(r, 'content-type')).toBe('application/octet-stream')
      expect(r.body.byteLength).toBe(size)
      const hash = createHash('sha256')
      for (const chunk of downloadChunks(size)) hash.update(chunk)
      expect(sha256(r.body)).toBe(hash.digest('hex'))
      expect(r.complete).toBe(true)
    })

    it('a 10 MiB file from disk (Express: res.sendFile) arrives byte-exact', async () => {
      const path = join(scratch(), 'file.bin')
      const bytes = allBytes(10 * 1024 * 1024 + 5)
      writeFileSync(path, bytes, { mode: 0o644 })
      const r = await send({ path: '/file', query: `path=${encodeURIComponent(path)}` }, 5000)
      expect(r.status).toBe(200)
      expect(header(r, 'content-type')).toBe('application/octet-stream')
      expect(r.body.byteLength).toBe(bytes.byteLength)
      expect(sha256(r.body)).toBe(sha256(bytes))
      expect(r.complete).toBe(true)
    })

    it('HEAD: status and content type, no body', async () => {
      const r = await send({ method: 'HEAD', path: '/users/7', query: 'q=x' })
      expect(r.status).toBe(200)
      expect(header(r, 'content-type')).toMatch(/^application\/json/)
      expect(r.body.byteLength).toBe(0)
      expect(r.complete).toBe(true)
    })

    it("HEAD: a Content-Length, if any, is the GET response's", async () => {
      const get = await send({ path: '/users/7', query: 'q=x' })
      const head = await send({ method: 'HEAD', path: '/users/7', query: 'q=x' })
      const length = header(head, 'content-length')
      if (length !== undefined) expect(length).toBe(String(get.body.byteLength))
    })

    it('a binary body (bytes 0..255 repeated) is echoed back identical', async () => {
      const body = allBytes(256 * 300 + 7)
      const r = await send({
        method: 'POST',
        path: '/echo-bytes',
        headers: [['Content-Type', 'application/octet-stream']],
        body,
      })
      expect(r.status).toBe(200)
      expect(r.body.equals(body)).toBe(true)
    })

    it('two cookies are two Set-Cookie lines', async () => {
      const r = await send({ path: '/cookies' })
      expect(r.status).toBe(200)
      expect(all(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/'])
      expect(r.body.toString()).toBe('two cookies\n')
    })

    it('a redirect: 302, its Location below the mount point', async () => {
      const r = await send({ path: '/redirect' })
      expect(r.status).toBe(302)
      expect(header(r, 'location')).toBe(`${transport().caps.scriptName}/users/1`)
    })

    it('an app error: a clean 500 that hides the detail, which goes to tsgi.errors', async () => {
      const r = await send({ path: '/fail' })
      expect(r.status).toBe(500)
      expect(r.body.toString()).toBe('Internal Server Error\n')
      expect(r.complete).toBe(true)
      expect(r.stderr).toMatch(/secret-detail-(hono|express)-5d1e/)
    })

    it("a client that leaves: the handler's signal fires, nothing hangs", async () => {
      const file = join(scratch(), `leave-${randomBytes(4).toString('hex')}`)
      await bounded(
        transport().abandon({ path: '/leave', query: `file=${encodeURIComponent(file)}&n=500` }),
        10_000,
        'abandon',
      )
      expect(await waitForFile(`${file}.start`, 5000)).toBe(true)
      expect(await waitForFile(`${file}.signal`, 5000)).toBe(true)
      expect(existsSync(`${file}.done`)).toBe(false)
    })

    it('a handler that never reads a 1 MiB POST body: the next request still works', async () => {
      const ignored = await send({
        method: 'POST',
        path: '/ignore',
        headers: [['Content-Type', 'application/octet-stream']],
        body: randomBytes(1024 * 1024),
      })
      expect(ignored.status).toBe(200)
      expect(ignored.body.toString()).toBe('ignored\n')
      const opened = transport().connections?.()
      const next = await send({ path: '/users/8', query: 'q=after' })
      expect(next.status).toBe(200)
      expect(json(next)).toEqual({ id: '8', q: 'after' })
      // Where connections are kept (FastCGI KEEP_CONN, HTTP keep-alive), the same one served it: the
      // gateway read and dropped the unread body instead of closing the connection.
      if (opened !== undefined) expect(transport().connections?.()).toBe(opened)
    })
  })
}
