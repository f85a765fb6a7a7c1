// The dev server end to end on 127.0.0.1:0: the seed apps, HEAD, request and response headers, bodies,
// failures, and the access log. Each test starts its own server and closes it.
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import appClass from '../../../examples/app-class.js'
import echo from '../../../examples/echo.js'
import environ from '../../../examples/environ.js'
import hello from '../../../examples/hello.js'
import pathApp from '../../../examples/path.js'
import upper from '../../../examples/upper.js'
import type { App, Environ } from '../../../src/app.js'
import { isTsgiError } from '../../../src/errors.js'
import { parseDump, rawRequest, start, type TestServer } from './_helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function get(app: App, path: string, init?: RequestInit): Promise<Response> {
  server = await start(app)
  return fetch(new URL(path, server.url), init)
}

describe('the seed apps', () => {
  it('hello: 200, text/plain, a Content-Length from the list body', async () => {
    const res = await get(hello, '/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain')
    expect(res.headers.get('content-length')).toBe('13')
    expect(res.headers.get('server')).toMatch(/^tsgi\/\d+\.\d+\.\d+/)
    expect(await res.text()).toBe('Hello world!\n')
  })

  it('AppClass: the instance is the body', async () => {
    const res = await get(appClass, '/')
    expect(await res.text()).toBe('Hello world!\n')
  })

  it('Upperware: the wrapped body, upper-cased', async () => {
    const res = await get(upper, '/')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('HELLO WORLD!\n')
  })

  it('path app: the first path segment, hello by default', async () => {
    server = await start(pathApp)
    expect(await (await fetch(new URL('/world', server.url))).text()).toBe(' world ')
    expect(await (await fetch(server.url)).text()).toBe(' hello ')
  })

  it('environ dump: the RFC 3875 variables of the request', async () => {
    const res = await get(environ, '/a%20b/caf%C3%A9?x=1&y=%41')
    const env = parseDump(await res.text())
    const port = String(server!.port)
    expect(Object.fromEntries([...env].filter(([k]) => !k.startsWith('HTTP_') && k !== 'REMOTE_PORT'))).toEqual({
      GATEWAY_INTERFACE: 'CGI/1.1',
      PATH_INFO: '/a b/café',
      QUERY_STRING: 'x=1&y=%41',
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: '/a%20b/caf%C3%A9?x=1&y=%41',
      SCRIPT_NAME: '',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: port,
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: expect.stringMatching(/^tsgi\//),
      'tsgi.errors': '<Object>',
      'tsgi.input': '<BodyInput>',
      'tsgi.multiprocess': 'false',
      'tsgi.multithread': 'false',
      'tsgi.run_once': 'false',
      'tsgi.signal': '<AbortSignal aborted=false>',
      'tsgi.url_scheme': 'http',
      'tsgi.version': '[1, 0]',
    })
    expect(env.get('REMOTE_PORT')).toMatch(/^\d+$/)
    expect(env.get('HTTP_HOST')).toBe(`127.0.0.1:${port}`)
  })

  it('echo: a 1 MiB POST body arrives whole, with CONTENT_LENGTH', async () => {
    const body = randomBytes(1024 * 1024)
    const res = await get(echo, '/up?n=1', { method: 'POST', body })
    expect(await res.text()).toBe(
      `method: POST\npath: /up\nquery: n=1\nlength: ${body.byteLength}\n` +
        `sha256: ${createHash('sha256').update(body).digest('hex')}\n`,
    )
  })
})

describe('request bodies', () => {
  const lengthApp: App = async (env, startResponse) => {
    let n = 0
    for await (const chunk of env['tsgi.input']) n += chunk.byteLength
    startResponse('200 OK', [['Content-Type', 'text/plain']])
    return [`${env.CONTENT_LENGTH ?? 'absent'} ${n} ${String(env.HTTP_TRANSFER_ENCODING)}`]
  }

  it('a chunked body has no CONTENT_LENGTH and is read to its end', async () => {
    server = await start(lengthApp)
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(server!.url, { method: 'POST' }, (res) => {
        let out = ''
        res.on('data', (c: Buffer) => (out += c.toString()))
        res.on('end', () => resolve(out))
      })
      req.on('error', reject)
      req.write('a'.repeat(1000))
      req.end('b'.repeat(234))
    })
    expect(text).toBe('absent 1234 chunked')
  })

  it('a GET without a body has no CONTENT_LENGTH and an empty input', async () => {
    const res = await get(lengthApp, '/')
    expect(await res.text()).toBe('absent 0 undefined')
  })

  it('a body the app read only partly does not stall the keep-alive connection', async () => {
    server = await start(async (env, startResponse) => {
      await env['tsgi.input'].read(1)
      return hello(env, startResponse)
    })
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 })
    const post = (): Promise<{ text: string; port: number }> =>
      new Promise((resolve, reject) => {
        const req = request(server!.url, { method: 'POST', agent }, (res) => {
          let out = ''
          res.on('data', (c: Buffer) => (out += c.toString()))
          res.on('end', () => resolve({ text: out, port: req.socket!.localPort! }))
        })
        req.on('error', reject)
        req.end(Buffer.alloc(300_000, 1))
      })
    const first = await post()
    const second = await post()
    agent.destroy()
    expect([first.text, second.text]).toEqual(['Hello world!\n', 'Hello world!\n'])
    expect(second.port).toBe(first.port)
  }, 10_000)

  it('a body cut short by the client fails the read with ERR_BODY_INCOMPLETE', async () => {
    let seen: (code: string) => void = () => {}
    const failed = new Promise<string>((resolve) => (seen = resolve))
    server = await start(async (env, startResponse) => {
      try {
        await env['tsgi.input'].read()
        seen('no error')
      } catch (error) {
        seen(isTsgiError(error) ? error.code : String(error))
      }
      startResponse('200 OK', [])
      return []
    })
    const { connect } = await import('node:net')
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789', () => socket.destroy())
    })
    expect(await failed).toBe('ERR_BODY_INCOMPLETE')
  })
})

describe('headers', () => {
  it('HEAD: the headers of GET, no body', async () => {
    server = await start(hello)
    const res = await rawRequest(server.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(res.statusLine).toBe('HTTP/1.1 200 OK')
    expect(res.headers).toContainEqual(['content-length', '13'])
    expect(res.body).toBe('')
  })

  it('repeated request headers reach the app; Content-Type/Length only as CONTENT_*', async () => {
    server = await start(environ)
    const res = await rawRequest(
      server.port,
      'POST /h HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nX-Dup: one\r\nCookie: b=2\r\nX-Dup: two\r\n' +
        'X_Sneaky: 1\r\nX.Dotted: 1\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    )
    const env = parseDump(res.body)
    expect(env.get('HTTP_COOKIE')).toBe('a=1; b=2')
    expect(env.get('HTTP_X_DUP')).toBe('one, two')
    expect(env.get('CONTENT_TYPE')).toBe('text/plain')
    expect(env.get('CONTENT_LENGTH')).toBe('3')
    expect([...env.keys()].filter((k) => /CONTENT|SNEAKY|DOTTED/.test(k)).sort()).toEqual([
      'CONTENT_LENGTH',
      'CONTENT_TYPE',
    ])
  })

  it('repeated Set-Cookie response headers stay separate lines, in order', async () => {
    server = await start((_env: Environ, startResponse) => {
      startResponse('201 Made It', [
        ['Set-Cookie', 'a=1; Path=/'],
        ['X-Order', 'first'],
        ['Set-Cookie', 'b=2; HttpOnly'],
      ])
      return ['ok']
    })
    const res = await rawRequest(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(res.statusLine).toBe('HTTP/1.1 201 Made It')
    expect(res.headers.filter(([name]) => name === 'set-cookie' || name === 'x-order')).toEqual([
      ['set-cookie', 'a=1; Path=/'],
      ['x-order', 'first'],
      ['set-cookie', 'b=2; HttpOnly'],
    ])
  })
})

describe('request targets', () => {
  it('%2F and %00 give 404 and invalid escapes 400, before the app runs', async () => {
    let calls = 0
    server = await start((env, startResponse) => {
      calls++
      return hello(env, startResponse)
    })
    const statuses = []
    for (const path of ['/a%2Fb', '/a%2fb', '/a%00', '/a%zz', '/a%4', '/a%'])
      statuses.push((await fetch(server.url.slice(0, -1) + path)).status)
    expect(statuses).toEqual([404, 404, 404, 400, 400, 400])
    expect(calls).toBe(0)
  })

  it('bytes that are not UTF-8 become U+FFFD in PATH_INFO; REQUEST_URI keeps the escapes', async () => {
    const env = parseDump(await (await get(environ, '/caf%E9')).text())
    expect(env.get('PATH_INFO')).toBe('/caf\uFFFD')
    expect(env.get('REQUEST_URI')).toBe('/caf%E9')
  })

  it('an absolute-form target gives the path and query', async () => {
    server = await start(environ)
    const res = await rawRequest(
      server.port,
      'GET http://example.org/p/q?z=1 HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n',
    )
    const env = parseDump(res.body)
    expect([env.get('PATH_INFO'), env.get('QUERY_STRING')]).toEqual(['/p/q', 'z=1'])
  })
})

describe('access log', () => {
  it('one Common Log Format line per request, with the time taken', async () => {
    server = await start(hello)
    await (await fetch(new URL('/x?y=1', server.url))).text()
    const line = await server.nextLog(/x\?y=1/)
    expect(line).toMatch(
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/x\?y=1 HTTP\/1\.1" 200 13 \d+\.\dms$/,
    )
  })
})
