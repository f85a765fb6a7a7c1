// tsgi front (src/front): routing of /cgi-bin/* and FastCGI prefixes, the RFC 3875 variables a script gets
// over HTTP, NPH, redirects, failures as 502/504, a client that leaves, kept FastCGI connections.
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Front, startFront } from '../../src/front/index.js'
import { type FastcgiServer, serveFastcgi } from '../../src/gateways/fastcgi/index.js'
import { waitForFile } from '../_conformance.js'
import conformanceApp from '../fixtures/conformance-app.js'

const SCRIPTS: Record<string, string> = {
  env: 'printf "Content-Type: text/plain\\n\\n"; env',
  stream: 'printf "Content-Type: text/plain\\n\\n"; echo first; sleep 1; echo second',
  garbage: 'echo "this is no header"; echo more',
  empty: 'exit 0',
  'nph-teapot':
    'printf "HTTP/1.1 418 I am a teapot\\r\\nContent-Type: text/plain\\r\\nContent-Length: 4\\r\\n\\r\\ntea\\n"',
  'to-fcgi': 'printf "Location: /fcgi/env/redirected?from=cgi\\n\\n"',
  away: 'printf "Location: https://example.org/x\\n\\n"',
  lingers: 'printf "Content-Type: text/plain\\nContent-Length: 3\\n\\nok\\n"; sleep 1; touch "$PID_FILE.lingered"',
  'short-length': 'printf "Content-Type: text/plain\\nContent-Length: 20\\n\\nfive\\n"',
  'bad-length': 'printf "Content-Type: text/plain\\nContent-Length: 1e1\\n\\n0123456789"',
  interim: 'printf "Status: 100 Continue\\n\\n"',
  'no-read': 'printf "Content-Type: text/plain\\n\\nnot reading\\n"; exec 0<&-',
  sleepy: 'echo $$ > "$PID_FILE"; sleep 30; printf "Content-Type: text/plain\\n\\nlate\\n"',
  upload: 'printf "Content-Type: text/plain\\n\\n"; sha256sum | cut -d" " -f1',
  download: 'printf "Content-Type: application/octet-stream\\n\\n"; head -c 10485760 /dev/zero',
  'not-exec': 'echo never',
}

let dir: string
let front: Front
let responder: FastcgiServer
let errors = ''

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-front-test-'))
  const bin = join(dir, 'cgi-bin')
  mkdirSync(join(bin, 'sub'), { recursive: true })
  for (const [name, body] of Object.entries(SCRIPTS)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`)
    chmodSync(join(bin, name), name === 'not-exec' ? 0o644 : 0o755)
  }
  writeFileSync(join(bin, 'sub', 'deep'), '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n$SCRIPT_NAME|$PATH_INFO"\n')
  chmodSync(join(bin, 'sub', 'deep'), 0o755)
  writeFileSync(join(bin, 'no-interpreter'), '#!/usr/bin/env tsgi-no-such-interpreter\n')
  chmodSync(join(bin, 'no-interpreter'), 0o755)
  writeFileSync(join(dir, 'outside'), '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nescaped"\n')
  chmodSync(join(dir, 'outside'), 0o755)
  symlinkSync(join(dir, 'outside'), join(bin, 'link-out'))
  writeFileSync(join(bin, '.hidden'), '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nhidden"\n')
  chmodSync(join(bin, '.hidden'), 0o755)
  responder = await serveFastcgi(conformanceApp, { listen: join(dir, 'app.sock'), log: () => {} })
  front = await startFront({
    port: 0,
    cgiBin: bin,
    fastcgi: [{ prefix: '/fcgi', address: responder.address }],
    cgiTimeoutMs: 1500,
    cgiEnv: { PID_FILE: join(dir, 'sleepy.pid') },
    log: false,
    errors: (line) => {
      errors += `${line}\n`
    },
  })
})

afterAll(async () => {
  await front?.close()
  await responder?.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  firstChunkMs: number
  ms: number
}

function get(path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}) {
  return new Promise<Reply>((resolve, reject) => {
    const started = performance.now()
    let firstChunkMs = -1
    // A connection each: an NPH script frames its own response, so the front closes the connection after it.
    const options = { port: front.port, host: '127.0.0.1', path, method: init.method ?? 'GET', agent: false }
    const req = request({ ...options, headers: init.headers })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => {
        if (firstChunkMs < 0) firstChunkMs = performance.now() - started
        chunks.push(chunk)
      })
      res.on('end', () => {
        const ms = performance.now() - started
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), firstChunkMs, ms })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

function envOf(reply: Reply): Record<string, string> {
  const lines = reply.body
    .toString()
    .split('\n')
    .filter((line) => line.includes('='))
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
}

describe('the variables a CGI script gets over HTTP (RFC 3875 §4.1)', () => {
  let env: Record<string, string>
  beforeAll(async () => {
    process.env.TSGI_FRONT_MARKER = 'leak'
    const reply = await get('/cgi-bin/env/a%20b/c?x=1&y=%41', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'X-Two': 'b', Proxy: 'http://evil.invalid', Cookie: 'a=1' },
      body: Buffer.from('hello'),
    })
    delete process.env.TSGI_FRONT_MARKER
    expect(reply.status).toBe(200)
    env = envOf(reply)
  })
  it.each([
    ['REQUEST_METHOD', 'POST'],
    ['SCRIPT_NAME', '/cgi-bin/env'],
    ['PATH_INFO', '/a b/c'],
    ['QUERY_STRING', 'x=1&y=%41'],
    ['REQUEST_URI', '/cgi-bin/env/a%20b/c?x=1&y=%41'],
    ['CONTENT_LENGTH', '5'],
    ['CONTENT_TYPE', 'text/plain'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_NAME', '127.0.0.1'],
    ['REMOTE_ADDR', '127.0.0.1'],
    ['HTTP_X_TWO', 'b'],
    ['HTTP_COOKIE', 'a=1'],
    ['PID_FILE', expect.stringContaining('sleepy.pid')],
  ])('%s', (name, value) => {
    expect(env[name]).toEqual(value)
  })
  it('SERVER_PORT is the front’s, SCRIPT_FILENAME the script’s real path', () => {
    expect(env.SERVER_PORT).toBe(String(front.port))
    expect(env.SCRIPT_FILENAME).toMatch(/\/cgi-bin\/env$/)
  })
  it('no HTTP_PROXY (httpoxy, S-01), nothing of the front’s own environment (S-02)', () => {
    expect(env).not.toHaveProperty('HTTP_PROXY')
    expect(env).not.toHaveProperty('TSGI_FRONT_MARKER')
    expect(env.PATH).toBeTruthy()
  })
})

describe('routes', () => {
  it('walks into subdirectories: the first file is the script, the rest PATH_INFO', async () => {
    expect((await get('/cgi-bin/sub/deep/x/y')).body.toString()).toBe('/cgi-bin/sub/deep|/x/y')
  })
  it.each(['/cgi-bin/missing', '/cgi-bin/.hidden', '/cgi-bin/link-out', '/cgi-bin/not-exec', '/other'])(
    '%s is a 404',
    async (path) => {
      const reply = await get(path)
      expect(reply.status).toBe(404)
      expect(reply.body.toString()).not.toMatch(/escaped|hidden|never/)
    },
  )
  it('FastCGI prefix: SCRIPT_NAME is the prefix, PATH_INFO below it', async () => {
    const reply = await get('/fcgi/env/x?q=1')
    const { environ } = JSON.parse(reply.body.toString()) as { environ: Record<string, string> }
    expect(environ).toMatchObject({ SCRIPT_NAME: '/fcgi', PATH_INFO: '/env/x', QUERY_STRING: 'q=1' })
  })
})

describe('responses', () => {
  it('streams: the first chunk arrives before the script ends', async () => {
    const reply = await get('/cgi-bin/stream')
    expect(reply.body.toString()).toBe('first\nsecond\n')
    expect(reply.firstChunkMs).toBeLessThan(reply.ms - 500)
  })
  it('NPH (RFC 3875 §5, C-19): the script’s status line reaches the client unchanged', async () => {
    const reply = await get('/cgi-bin/nph-teapot')
    expect(reply.status).toBe(418)
    expect(reply.body.toString()).toBe('tea\n')
  })
  it('a local redirect to a FastCGI path is served there (RFC 3875 §6.2.2)', async () => {
    const { environ } = JSON.parse((await get('/cgi-bin/to-fcgi')).body.toString()) as {
      environ: Record<string, string>
    }
    expect(environ).toMatchObject({ SCRIPT_NAME: '/fcgi', PATH_INFO: '/env/redirected', REDIRECT_STATUS: '200' })
  })
  it('a client redirect is a 302 (RFC 3875 §6.2.3)', async () => {
    const reply = await get('/cgi-bin/away')
    expect(reply.status).toBe(302)
    expect(reply.headers.location).toBe('https://example.org/x')
  })
  it.each(['garbage', 'empty'])(
    '%s output is a 502 with the reason in the log; the front keeps serving',
    async (name) => {
      errors = ''
      expect((await get(`/cgi-bin/${name}`)).status).toBe(502)
      expect(errors).toContain(`/cgi-bin/${name}`)
      expect((await get('/cgi-bin/sub/deep')).status).toBe(200)
    },
  )
  it('a #! interpreter not on PATH (exit 127): a 502 whose log line says where to look', async () => {
    errors = ''
    expect((await get('/cgi-bin/no-interpreter')).status).toBe(502)
    expect(errors).toContain('exit code 127): is the program on its #! line on the PATH scripts get (PATH=')
  })
  it('a script past --cgi-timeout is killed: 504', async () => {
    const reply = await get('/cgi-bin/sleepy')
    expect(reply.status).toBe(504)
    expect(await gone(Number(readFileSync(join(dir, 'sleepy.pid'), 'utf8')))).toBe(true)
  })
  it('10 MiB up and 10 MiB down', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 7)
    const up = await get('/cgi-bin/upload', { method: 'POST', body })
    expect(up.body.toString().trim()).toBe(createHash('sha256').update(body).digest('hex'))
    const down = await get('/cgi-bin/download')
    expect(down.body.length).toBe(10 * 1024 * 1024)
  })
})

it('a client that leaves: the script is killed', async () => {
  rmSync(join(dir, 'sleepy.pid'), { force: true })
  const req = request({ port: front.port, host: '127.0.0.1', path: '/cgi-bin/sleepy' })
  req.on('error', () => {})
  req.end()
  expect(await waitForFile(join(dir, 'sleepy.pid'))).toBe(true)
  await new Promise((resolve) => setTimeout(resolve, 50))
  const pid = Number(readFileSync(join(dir, 'sleepy.pid'), 'utf8'))
  expect(alive(pid)).toBe(true)
  req.destroy()
  expect(await gone(pid)).toBe(true)
})

it('a response with a Content-Length ends at that length, not when the script exits; the script runs on', async () => {
  const reply = await get('/cgi-bin/lingers')
  expect(reply.body.toString()).toBe('ok\n')
  expect(reply.ms).toBeLessThan(800) // the script sleeps 1 s after its response
  expect(await waitForFile(join(dir, 'sleepy.pid.lingered'), 5000)).toBe(true)
})

describe('what the front refuses to relay', () => {
  it('a body shorter than its Content-Length is cut, never passed off as complete', async () => {
    await expect(get('/cgi-bin/short-length')).rejects.toThrow()
  })
  it.each(['bad-length', 'interim'])('%s: a 502 (a head node:http cannot frame safely)', async (name) => {
    expect((await get(`/cgi-bin/${name}`)).status).toBe(502)
  })
  it('dot segments: resolved before routing, a 400 above the root (S-03)', async () => {
    expect(envOf(await get('/cgi-bin/env/a/../b/./c')).PATH_INFO).toBe('/b/c')
    expect((await get('/cgi-bin/env/../../../etc/passwd')).status).toBe(400)
    expect((await get('/cgi-bin/env/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).status).toBe(400)
  })
  it('a Proxy header reaches no FastCGI responder as HTTP_PROXY either (S-01)', async () => {
    const reply = await get('/fcgi/env/x', { headers: { Proxy: 'http://evil.invalid' } })
    const { environ } = JSON.parse(reply.body.toString()) as { environ: Record<string, string> }
    expect(environ).not.toHaveProperty('HTTP_PROXY')
  })
  it('a script that closes stdin early still answers, and the front logs no internal error', async () => {
    errors = ''
    const reply = await get('/cgi-bin/no-read', { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024, 1) })
    expect(reply.body.toString()).toBe('not reading\n')
    expect(errors).not.toContain('internal error')
  })
})

it('FastCGI connections are kept: 20 requests, one connection', async () => {
  const before = front.clients.get('/fcgi')!.stats.connections
  for (let i = 0; i < 20; i++) expect((await get('/fcgi/hello')).status).toBe(200)
  expect(front.clients.get('/fcgi')!.stats.connections - before).toBeLessThanOrEqual(1)
})

/** Waits up to 3 s (SIGTERM, then SIGKILL after the host's 2 s grace) for `pid` to be reaped. */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 3000
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  return !alive(pid)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
