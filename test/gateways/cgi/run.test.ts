// runCgi in-process, with injected environment and stdio: body reading (RFC 3875 §4.2), the response
// sink (backpressure, EPIPE), NPH selection and the gateway's own error answers.
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import echo from '../../../examples/echo.js'
import hello from '../../../examples/hello.js'
import type { App, Environ, StartResponse } from '../../../src/app.js'
import { type CgiOptions, runCgi } from '../../../src/gateways/cgi/run.js'
import { Collector, header, parseCgi, stdio } from './_cgi.js'

const GET = { REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1', SCRIPT_NAME: '/cgi-bin/app' }

afterEach(() => {
  // runCgi sets process.exitCode: do not let it leak into the test runner's own exit status.
  process.exitCode = undefined
})

async function run(app: App, env: Record<string, string>, extra: Partial<CgiOptions> = {}) {
  const io = stdio()
  const code = await runCgi(app, {
    env,
    stdin: io.stdin,
    stdout: io.stdout,
    stderr: io.stderr,
    scriptPath: '/srv/cgi-bin/app',
    ...extra,
  })
  const stdout = (extra.stdout as Collector | undefined) ?? io.stdout
  return { code, io, response: stdout.chunks.length > 0 ? parseCgi(stdout.buffer) : undefined }
}

describe('runCgi: request body (RFC 3875 §4.2)', () => {
  it('never touches stdin when the app does not read the body', async () => {
    let opened = 0
    const stdin = () => {
      opened++
      return new PassThrough()
    }
    const { code, response } = await run(hello, { ...GET, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '5' }, { stdin })
    expect(code).toBe(0)
    expect(response?.body.toString()).toBe('Hello world!\n')
    expect(opened).toBe(0)
  })

  it('reads exactly CONTENT_LENGTH bytes and does not wait for EOF', async () => {
    const stdin = new PassThrough()
    stdin.write('hello, and bytes past CONTENT_LENGTH') // never ended: the server keeps the pipe open
    const { code, response } = await run(echo, { ...GET, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '5' }, { stdin })
    expect(code).toBe(0)
    expect(response?.body.toString()).toContain('length: 5\n')
    expect(stdin.destroyed).toBe(true)
  })

  it('reads to EOF without CONTENT_LENGTH (mod_cgid chunked, C-04)', async () => {
    const stdin = new PassThrough()
    stdin.end('0123456789')
    const env = { ...GET, REQUEST_METHOD: 'POST', HTTP_TRANSFER_ENCODING: 'chunked' }
    const { response } = await run(echo, env, { stdin })
    expect(response?.body.toString()).toContain('length: 10\n')
  })

  it('answers 400 for a body shorter than CONTENT_LENGTH and logs it', async () => {
    const stdin = new PassThrough()
    stdin.end('short')
    const { code, response, io } = await run(echo, { ...GET, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '100' }, { stdin })
    expect(code).toBe(0)
    expect(response?.status).toBe('400 Bad Request')
    expect(io.stderr.text).toContain('ended after 5 of 100 bytes')
  })

  it('gives an empty body for a terminal stdin without CONTENT_LENGTH', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true })
    const { response } = await run(echo, { ...GET }, { stdin })
    expect(response?.body.toString()).toContain('length: 0\n')
  })

  it('answers 413 over bodyLimit', async () => {
    const stdin = new PassThrough()
    stdin.end('x'.repeat(100))
    const { response } = await run(
      echo,
      { ...GET, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '100' },
      { stdin, bodyLimit: 10 },
    )
    expect(response?.status).toBe('413 Content Too Large')
  })
})

describe('runCgi: environment problems', () => {
  it('without REQUEST_METHOD prints one line on how to try it and returns 2', async () => {
    const { code, io } = await run(hello, {})
    expect(code).toBe(2)
    expect(process.exitCode).toBe(2)
    expect(io.stdout.chunks).toHaveLength(0)
    const lines = io.stderr.text.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toContain('is a CGI script')
    expect(lines[0]).toContain('REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 /srv/cgi-bin/app')
  })

  it('answers a bad CONTENT_LENGTH with a 400 and logs the value, without running the app', async () => {
    let ran = false
    const app: App = (environ, start) => {
      ran = true
      return hello(environ, start)
    }
    const { code, response, io } = await run(app, { ...GET, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '12abc' })
    expect(code).toBe(1)
    expect(ran).toBe(false)
    expect(response?.status).toBe('400 Bad Request')
    expect(header(response!, 'content-type')).toBe('text/plain; charset=utf-8')
    expect(io.stderr.text).toContain('cgi: bad CONTENT_LENGTH "12abc"')
  })

  it('answers an invalid REQUEST_METHOD with a 500', async () => {
    const { code, response } = await run(hello, { ...GET, REQUEST_METHOD: 'G E T' })
    expect(code).toBe(1)
    expect(response?.status).toBe('500 Internal Server Error')
  })

  it('warns when NODE_USE_ENV_PROXY is set (node read HTTP_PROXY before us)', async () => {
    const { io, response } = await run(hello, { ...GET, NODE_USE_ENV_PROXY: '1' })
    expect(response?.status).toBe('200 OK')
    expect(io.stderr.text).toMatch(/^cgi: warning: NODE_USE_ENV_PROXY is set/)
  })
})

describe('runCgi: response', () => {
  it('selects NPH from the last segment of SCRIPT_NAME (RFC 3875 §5)', async () => {
    const { io } = await run(hello, { ...GET, SCRIPT_NAME: '/cgi-bin/nph-app' })
    expect(io.stdout.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true)
  })

  it('selects NPH from the script file name, and nph: false turns it off', async () => {
    const { io } = await run(hello, GET, { scriptPath: '/srv/cgi-bin/nph-app' })
    expect(io.stdout.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true)
    const off = await run(hello, GET, { scriptPath: '/srv/cgi-bin/nph-app', nph: false })
    expect(off.io.stdout.text.startsWith('Status: 200 OK\r\n')).toBe(true)
  })

  it('waits for drain: a slow stdout never holds much more than its high-water mark', async () => {
    const stdout = new Collector({ highWaterMark: 1024 })
    stdout.delay = true
    const chunk = new Uint8Array(1024).fill(97)
    const app: App = (_environ: Environ, start: StartResponse) => {
      start('200 OK', [['Content-Type', 'application/octet-stream']])
      return (function* () {
        for (let i = 0; i < 200; i++) yield chunk
      })()
    }
    const { code, response } = await run(app, GET, { stdout })
    expect(code).toBe(0)
    expect(response?.body.byteLength).toBe(200 * 1024)
    expect(stdout.maxBuffered).toBeLessThanOrEqual(2 * 1024)
  })

  it('on EPIPE stops the app through tsgi.signal, closes the body, and exits 0 quietly', async () => {
    const stdout = new Collector()
    stdout.failAfter = 3
    const seen = { closed: false, aborted: false }
    const app: App = (environ: Environ, start: StartResponse) => {
      start('200 OK', [['Content-Type', 'text/plain']])
      return (async function* () {
        try {
          for (let i = 0; i < 1_000_000; i++) yield 'x'.repeat(1024)
        } finally {
          seen.closed = true
          seen.aborted = environ['tsgi.signal'].aborted
        }
      })()
    }
    const { code, io } = await run(app, GET, { stdout })
    expect(code).toBe(0)
    expect(seen).toEqual({ closed: true, aborted: true })
    expect(io.stderr.text).not.toContain('failed')
  })

  it('on another write error (EIO) logs it and exits 1', async () => {
    const stdout = new Collector()
    stdout.failAfter = 1
    stdout.failCode = 'EIO'
    const { code, io } = await run(hello, GET, { stdout })
    expect(code).toBe(1)
    expect(io.stderr.text).toContain('cgi: writing the response failed: write EIO')
  })

  it('exits 1 when the app fails after the head was sent (C-20)', async () => {
    const app: App = (_environ: Environ, start: StartResponse) => {
      start('200 OK', [['Content-Type', 'text/plain']])
      return (async function* () {
        yield 'partial'
        throw new Error('boom')
      })()
    }
    const { code, io, response } = await run(app, GET)
    expect(code).toBe(1)
    expect(response?.body.toString()).toBe('partial')
    expect(io.stderr.text).toContain('boom')
    expect(io.stderr.text).toContain('cgi: the response was cut short')
  })

  it('answers an app error before the head with a well-formed 500 that hides the stack', async () => {
    const app: App = () => {
      throw new Error('secret detail')
    }
    const { code, response, io } = await run(app, GET)
    expect(code).toBe(0)
    expect(response?.status).toBe('500 Internal Server Error')
    expect(response?.body.toString()).not.toContain('secret')
    expect(io.stderr.text).toContain('secret detail')
  })
})
