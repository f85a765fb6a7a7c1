// The FastCGI client (src/hosts/fastcgi/client.ts): CGI response heads (RFC 3875 §6), connection reuse with
// KEEP_CONN, queueing under maxConnections, multiplexing, abort (ABORT_REQUEST), and failures it reports.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FastcgiClient } from '../../../src/hosts/fastcgi/client.js'
import { parseCgiHead } from '../../../src/protocol/cgi/parse.js'
import { concatBytes, encodeEndRequestBody, encodeRecord } from '../../../src/protocol/fastcgi/index.js'
import { waitForFile } from '../../_conformance.js'
import { responder, T, useResponder, vars } from '../../gateways/fastcgi/_raw.js'

let scratch: string
const server = useResponder()
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-client-'))
})
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

let files = 0
const marker = (): string => join(scratch, `m${++files}`)
const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1')

describe('parseCgiHead (RFC 3875 §6)', () => {
  it.each([
    [
      'Status with reason, CRLF',
      'Status: 418 I am a teapot\r\nContent-Type: text/plain\r\n\r\nbody',
      418,
      'I am a teapot',
    ],
    ['LF-only lines (§7)', 'Status: 201 Created\nContent-Type: text/plain\n\nbody', 201, 'Created'],
    ['Status without reason', 'Status: 204\r\n\r\n', 204, ''],
    ['no Status: 200', 'Content-Type: text/plain\r\n\r\n', 200, 'OK'],
    [
      'local redirect (§6.2.2): 200 + Location for the caller to re-dispatch',
      'Location: /elsewhere?x=1\r\n\r\n',
      200,
      'OK',
    ],
    ['client redirect (§6.2.3): 302', 'Location: http://example.invalid/\r\n\r\n', 302, 'Found'],
    ['a network-path Location is a client redirect', 'Location: //example.invalid/\r\n\r\n', 302, 'Found'],
    ['Location with Status keeps the Status', 'Status: 301 Moved\r\nLocation: /x\r\n\r\n', 301, 'Moved'],
  ])('%s', (_name, text, status, reason) => {
    const head = parseCgiHead(bytes(text))
    expect(head).toMatchObject({
      status,
      reason,
      bodyStart: text.search(/\r?\n\r?\n/) + (text.includes('\r\n\r\n') ? 4 : 2),
    })
    expect(head).not.toHaveProperty('headers', expect.arrayContaining([['Status', expect.anything()]]))
  })

  it('keeps repeated headers in order', () => {
    const head = parseCgiHead(bytes('Set-Cookie: a=1\r\nX: 1\r\nSet-Cookie: b=2\r\n\r\n'))
    expect(head).toMatchObject({
      headers: [
        ['Set-Cookie', 'a=1'],
        ['X', '1'],
        ['Set-Cookie', 'b=2'],
      ],
    })
  })

  it('is undefined until the blank line', () => {
    expect(parseCgiHead(bytes('Status: 200 OK\r\nContent-Type: text/plain\r\n'))).toBeUndefined()
    expect(parseCgiHead(bytes(''))).toBeUndefined()
  })

  it.each([
    ['a line without a colon', 'garbage\r\n\r\n'],
    ['a space before the colon', 'Bad : x\r\n\r\n'],
    ['two Status lines', 'Status: 200 OK\r\nStatus: 404 Not Found\r\n\r\n'],
    ['a bad status code', 'Status: 99 Low\r\n\r\n'],
    ['an empty header block', '\r\n'],
  ])('rejects %s', (_name, text) => {
    expect(parseCgiHead(bytes(text))).toMatchObject({ code: 'ERR_BAD_HEADER' })
  })
})

describe('connections', () => {
  it('keepAlive (default) reuses one connection with KEEP_CONN', async () => {
    const own = await responder()
    const client = new FastcgiClient({ address: own.address })
    for (let i = 0; i < 5; i++)
      expect(await (await client.request({ params: vars('/hello') })).text()).toBe('Hello world!\n')
    expect(client.stats).toEqual({ connections: 1, requests: 5 })
    expect(own.stats.connections).toBe(1)
    await client.close()
    await own.close()
  })

  it('keepAlive false: flags 0, one connection per request, which the application closes', async () => {
    const own = await responder()
    const client = new FastcgiClient({ address: own.address, keepAlive: false })
    for (let i = 0; i < 3; i++) expect((await client.request({ params: vars('/hello') })).status).toBe(200)
    expect(client.stats).toEqual({ connections: 3, requests: 3 })
    await client.close()
    await own.close()
    expect(own.stats).toMatchObject({ connections: 3, requests: 3 })
  })

  it('maxConnections 1 queues concurrent requests; each gets its own answer', async () => {
    const client = new FastcgiClient({ address: server().address, maxConnections: 1 })
    const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(1000 * (i + 1), i))
    const answers = await Promise.all(
      bodies.map(
        async (body) =>
          JSON.parse(
            await (await client.request({ params: vars('/echo', { method: 'POST', body }), body })).text(),
          ) as { length: number },
      ),
    )
    expect(answers.map((a) => a.length)).toEqual([1000, 2000, 3000, 4000, 5000, 6000])
    expect(client.stats.connections).toBe(1)
    await client.close()
  })

  it('multiplex: concurrent requests run at once on one connection', async () => {
    const mpx = await responder({ multiplex: true })
    const client = new FastcgiClient({ address: mpx.address, multiplex: true })
    const paths = [marker(), marker(), marker(), marker()]
    const controller = new AbortController()
    const pending = paths.map((file) =>
      client.request({ params: vars('/sleep', { query: `file=${file}` }), signal: controller.signal }),
    )
    for (const file of paths) expect(await waitForFile(`${file}.started`)).toBe(true) // all four running at once
    controller.abort()
    for (const result of await Promise.allSettled(pending))
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_ABORTED' } })
    expect(await (await client.request({ params: vars('/hello') })).text()).toBe('Hello world!\n')
    expect(client.stats.connections).toBe(1)
    expect(mpx.stats.connections).toBe(1)
    await client.close()
    await mpx.close()
  })

  it('a request the application refuses in-protocol (CANT_MPX_CONN) rejects with ERR_FCGI_REFUSED, 503', async () => {
    const client = new FastcgiClient({ address: server().address, multiplex: true })
    const file = marker()
    const first = client.request({ params: vars('/sleep', { query: `file=${file}&ms=200` }) })
    expect(await waitForFile(`${file}.started`)).toBe(true)
    await expect(client.request({ params: vars('/hello') })).rejects.toMatchObject({
      code: 'ERR_FCGI_REFUSED',
      status: 503,
      message: expect.stringContaining('CANT_MPX_CONN'),
    })
    expect(await (await first).text()).toBe('slept\n')
    await client.close()
  })

  it('an idle connection the application closed is not reused', async () => {
    const quick = await responder({ idleTimeoutMs: 50 })
    const client = new FastcgiClient({ address: quick.address })
    expect((await client.request({ params: vars('/hello') })).status).toBe(200)
    for (let i = 0; i < 100 && !quick.logs.some((line) => line.includes('idle for 50 ms')); i++)
      await new Promise((resolve) => setTimeout(resolve, 20))
    await new Promise((resolve) => setImmediate(resolve))
    expect((await client.request({ params: vars('/hello') })).status).toBe(200)
    expect(client.stats.connections).toBe(2)
    await client.close()
    await quick.close()
  })

  it('a refused connection rejects with ERR_FCGI_CONNECTION_CLOSED and status 502', async () => {
    const probe = await responder()
    const address = probe.address
    await probe.close()
    const client = new FastcgiClient({ address })
    await expect(client.request({ params: vars('/hello') })).rejects.toMatchObject({
      code: 'ERR_FCGI_CONNECTION_CLOSED',
      status: 502,
      message: expect.stringContaining('ECONNREFUSED'),
    })
    await client.close()
  })

  it('bad params reject at once, before any connection is opened', async () => {
    const client = new FastcgiClient({ address: server().address })
    await expect(client.request({ params: { REQUEST_METHOD: 5 as unknown as string } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    expect(client.stats).toEqual({ connections: 0, requests: 0 })
    await client.close()
  })

  it('getValues with keepAlive false does not leave its connection open', async () => {
    const own = await responder()
    const client = new FastcgiClient({ address: own.address, keepAlive: false })
    expect(await client.getValues(['FCGI_MPXS_CONNS'])).toEqual({ FCGI_MPXS_CONNS: '0' })
    const open = (): Promise<number> =>
      new Promise((resolve) => own.server.getConnections((_err, count) => resolve(count)))
    for (let i = 0; i < 100 && (await open()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await open()).toBe(0)
    await client.close()
    await own.close()
  })

  it('close() lets requests in flight finish, then refuses new ones', async () => {
    const client = new FastcgiClient({ address: server().address })
    const pending = client.request({ params: vars('/sleep', { query: `file=${marker()}&ms=100` }) })
    const closing = client.close()
    expect(await (await pending).text()).toBe('slept\n')
    await closing
    await expect(client.request({ params: vars('/hello') })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' })
  })
})

describe('responses', () => {
  it('streams the body: the first chunk arrives while the app is still producing', async () => {
    const client = new FastcgiClient({ address: server().address })
    const file = marker()
    const response = await client.request({ params: vars('/slow', { query: `file=${file}&n=20&ms=20` }) })
    const iterator = response.body[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toHaveLength(16384)
    expect(await waitForFile(`${file}.done`, 0)).toBe(false)
    let rest = 0
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) rest += step.value.length
    expect(rest).toBe(19 * 16384)
    await client.close()
  })

  it('stderr and end: STDERR text and END_REQUEST statuses', async () => {
    const client = new FastcgiClient({ address: server().address })
    const ok = await client.request({ params: vars('/stderr', { query: 'line=hello' }) })
    expect(await ok.text()).toBe('logged\n')
    expect(await ok.stderr).toBe('hello\n')
    expect(await ok.end).toEqual({ appStatus: 0, protocolStatus: 0 })
    const failed = await client.request({ params: vars('/error') })
    expect(failed.status).toBe(500)
    expect(await failed.end).toEqual({ appStatus: 1, protocolStatus: 0 })
    await client.close()
  })

  it('a connection lost mid-body fails the body and `end`', async () => {
    const client = new FastcgiClient({ address: server().address })
    const response = await client.request({ params: vars('/error-after') })
    await expect(response.text()).rejects.toMatchObject({ code: 'ERR_FCGI_CONNECTION_CLOSED' })
    await expect(response.end).rejects.toMatchObject({ code: 'ERR_FCGI_CONNECTION_CLOSED' })
    expect(await response.stderr).toContain('secret-detail-91c2')
    await client.close()
  })

  it('the body can be iterated once', async () => {
    const client = new FastcgiClient({ address: server().address })
    const response = await client.request({ params: vars('/hello') })
    expect(await response.text()).toBe('Hello world!\n')
    await expect(response.bytes()).rejects.toMatchObject({ code: 'ERR_BODY_CONSUMED' })
    await client.close()
  })
})

describe('abort (spec §5.4)', () => {
  it('before the head: the request rejects ERR_ABORTED, the app sees tsgi.signal, the connection is reused', async () => {
    const client = new FastcgiClient({ address: server().address })
    const file = marker()
    const controller = new AbortController()
    const pending = client.request({ params: vars('/sleep', { query: `file=${file}` }), signal: controller.signal })
    expect(await waitForFile(`${file}.started`)).toBe(true)
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(await waitForFile(`${file}.signal`)).toBe(true)
    expect((await client.request({ params: vars('/hello') })).status).toBe(200)
    expect(client.stats.connections).toBe(1)
    await client.close()
  })

  it('mid-body: the body throws ERR_ABORTED and `end` still resolves from END_REQUEST', async () => {
    const client = new FastcgiClient({ address: server().address })
    const file = marker()
    const controller = new AbortController()
    const response = await client.request({
      params: vars('/slow', { query: `file=${file}&n=500&ms=10` }),
      signal: controller.signal,
    })
    const chunks: Uint8Array[] = []
    await expect(
      (async () => {
        for await (const chunk of response.body) {
          chunks.push(chunk)
          controller.abort()
        }
      })(),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(await response.end).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(await waitForFile(`${file}.signal`)).toBe(true)
    await client.close()
  })

  it('leaving the body loop early aborts the request too', async () => {
    const client = new FastcgiClient({ address: server().address })
    const file = marker()
    const response = await client.request({ params: vars('/slow', { query: `file=${file}&n=500&ms=10` }) })
    for await (const chunk of response.body) if (chunk.length > 0) break
    expect(await response.end).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(await waitForFile(`${file}.signal`)).toBe(true)
    expect((await client.request({ params: vars('/hello') })).status).toBe(200)
    expect(client.stats.connections).toBe(1)
    await client.close()
  })

  it('an already aborted signal sends nothing', async () => {
    const own = await responder()
    const client = new FastcgiClient({ address: own.address })
    await expect(client.request({ params: vars('/hello'), signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
    expect(client.stats).toEqual({ connections: 0, requests: 0 })
    await client.close()
    await own.close()
  })
})

describe('a misbehaving application', () => {
  /** A fake application that answers every request with `reply` (raw records) once it has seen some bytes. */
  async function fakeApp(reply: Uint8Array): Promise<{ server: Server; address: string }> {
    const fake = createServer((socket) => socket.once('data', () => socket.write(reply)))
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    return { server: fake, address: `127.0.0.1:${(fake.address() as { port: number }).port}` }
  }
  const stdout = (id: number, text: string): Uint8Array => encodeRecord(T.Stdout, id, bytes(text))
  const end = (id: number): Uint8Array => encodeRecord(T.EndRequest, id, encodeEndRequestBody(0, 0))

  it.each([
    ['a bad header block', concatBytes([stdout(1, 'no colon here\r\n\r\n'), end(1)]), 'ERR_BAD_HEADER'],
    ['END_REQUEST without any header block', end(1), 'ERR_BAD_HEADER'],
    [
      'a record for a foreign request id (nginx: 502)',
      stdout(9, 'Status: 200 OK\r\n\r\n'),
      'ERR_FCGI_UNEXPECTED_RECORD',
    ],
  ])('%s: the request rejects with %s', async (_name, reply, code) => {
    const fake = await fakeApp(reply)
    const client = new FastcgiClient({ address: fake.address })
    await expect(client.request({ params: vars('/hello') })).rejects.toMatchObject({ code })
    client.destroy()
    await new Promise((resolve) => fake.server.close(resolve))
  })
})
