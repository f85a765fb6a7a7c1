// The dev server when things go wrong: an app that throws, a client that leaves mid-response, a busy
// port, and close() with a keep-alive connection still open.

import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import hello from '../../../examples/hello.js'
import type { Body } from '../../../src/app.js'
import { isTsgiError } from '../../../src/errors.js'
import { serve } from '../../../src/gateways/http/index.js'
import conformanceApp from '../../fixtures/conformance-app.js'
import { rawRequest, start, type TestServer } from './_helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('app failures', () => {
  it('an app that throws gives a 500 that hides the stack; the stack goes to tsgi.errors', async () => {
    server = await start(() => {
      throw new Error('secret database password is hunter2')
    })
    const res = await fetch(new URL('/boom', server.url))
    const text = await res.text()
    expect(res.status).toBe(500)
    expect(text).toBe('Internal Server Error\n')
    const logged = server.errors.join('')
    expect(logged).toContain('secret database password is hunter2')
    expect(logged).toMatch(/\n\s+at /)
    expect(await server.nextLog(/"GET \/boom /)).toMatch(/" 500 \d+ /)
  })

  it('an app that fails mid-body breaks the response instead of ending it', async () => {
    server = await start((_env, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']])
      return (async function* () {
        yield 'partial '
        throw new Error('mid-body failure')
      })()
    })
    const outcome = await new Promise<string>((resolve) => {
      const broken = (error: NodeJS.ErrnoException): void => resolve(`broken: ${error.code ?? error.message}`)
      request(server!.url, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => resolve(`complete: ${body}`))
        res.on('error', broken)
      })
        .on('error', broken)
        .end()
    })
    expect(outcome).toMatch(/^broken/)
    expect(server.errors.join('')).toContain('mid-body failure')
  })
  it('mid-body failure: chunked framing lacks its last chunk; a close-delimited body is reset', async () => {
    server = await start((_env, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']])
      return (async function* () {
        yield 'partial '
        throw new Error('mid-body failure')
      })()
    })
    const talk = (version: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(server!.port, '127.0.0.1')
        let out = ''
        socket.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')))
        socket.on('end', () => resolve(`end ${out.slice(out.indexOf('\r\n\r\n') + 4)}`))
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`))
        socket.write(`GET / HTTP/${version}\r\nHost: x\r\n\r\n`)
      })
    expect(await talk('1.1')).toBe('end 8\r\npartial \r\n')
    expect(await talk('1.0')).toBe('error ECONNRESET')
  })
})

describe('credentials never reach the access log or the error output (S-17)', () => {
  const SECRETS = {
    authorization: 'Basic c2VjcmV0',
    cookie: 'session=k3ks',
    'proxy-authorization': 'Basic cHJveHk6cGFzcw==',
  }
  const leaks = (text: string): string[] => Object.values(SECRETS).filter((value) => text.includes(value))

  it.each([
    ['an app that throws (/error)', '/error', 'HTTP/1.1 500 Internal Server Error'],
    ['an app that fails after its head (/error-after)', '/error-after', 'HTTP/1.1 200 OK'],
  ])('S-17: %s', async (_name, path, statusLine) => {
    server = await start(conformanceApp)
    const head = Object.entries(SECRETS)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')
    const response = await rawRequest(
      server.port,
      `GET ${path} HTTP/1.1\r\nHost: x\r\n${head}Connection: close\r\n\r\n`,
    )
    expect(response.statusLine).toBe(statusLine)
    expect(await server.nextLog(new RegExp(`"GET ${path} `))).toBeDefined()
    expect(server.errors.join('')).toMatch(/secret-detail-/) // the app's error was logged...
    expect(leaks(server.errors.join(''))).toEqual([]) // ...without the request's credentials
    expect(leaks(server.logs.join('\n'))).toEqual([])
  })
})

describe('client disconnects', () => {
  it('mid-response: tsgi.signal fires, the body is closed (return() called), no error is logged', async () => {
    let fired: () => void = () => {}
    let closed: () => void = () => {}
    const signalFired = new Promise<void>((resolve) => (fired = resolve))
    const bodyClosed = new Promise<void>((resolve) => (closed = resolve))
    server = await start((env, startResponse) => {
      env['tsgi.signal'].addEventListener('abort', () => fired())
      startResponse('200 OK', [['Content-Type', 'text/plain']])
      return (async function* (): AsyncGenerator<string> {
        try {
          // Big chunks: the socket fills up, so the server is waiting for 'drain' when the client leaves.
          for (;;) yield 'x'.repeat(64 * 1024)
        } finally {
          closed()
        }
      })() satisfies Body
    })
    const socket = connect(server.port, '127.0.0.1')
    socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n')
    socket.once('data', () => socket.destroy())
    await Promise.all([signalFired, bodyClosed])
    expect(await server.nextLog(/"GET \/stream /)).toMatch(/ aborted$/)
    // A client that leaves is not an app failure: nothing in the error log.
    expect(server.errors).toEqual([])
  })

  it('the next request is served normally afterwards', async () => {
    server = await start(hello)
    const socket = connect(server.port, '127.0.0.1')
    await new Promise((resolve) => socket.write('GET / HTTP/1.1\r\nHost: x\r\n', resolve))
    socket.destroy()
    expect(await (await fetch(server.url)).text()).toBe('Hello world!\n')
  })
})

describe('listening and closing', () => {
  it('a busy port rejects with ERR_LISTEN', async () => {
    server = await start(hello)
    const error = await serve(hello, { port: server.port, log: false }).catch((e: unknown) => e)
    expect(isTsgiError(error, 'ERR_LISTEN')).toBe(true)
    expect((error as Error).message).toContain(`127.0.0.1:${server.port}`)
  })

  it('an invalid port rejects with ERR_INVALID_ARGUMENT', async () => {
    const error = await serve(hello, { port: 70000 }).catch((e: unknown) => e)
    expect(isTsgiError(error, 'ERR_INVALID_ARGUMENT')).toBe(true)
  })

  it('close() resolves with a keep-alive connection open, and stops accepting', async () => {
    const s = await start(hello)
    const agent = new Agent({ keepAlive: true })
    await new Promise<void>((resolve, reject) => {
      request(s.url, { agent }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
        .on('error', reject)
        .end()
    })
    await s.close()
    agent.destroy()
    expect(s.server.listening).toBe(false)
    await expect(fetch(s.url)).rejects.toThrow()
  })

  it('close() waits for an in-flight response, which completes', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => (started = resolve))
    const s = await start(async (_env, startResponse) => {
      started()
      await gate
      startResponse('200 OK', [])
      return ['late']
    })
    const response = fetch(s.url).then((res) => res.text())
    await running
    const closed = s.close()
    release()
    expect(await response).toBe('late')
    await closed
  })
})
