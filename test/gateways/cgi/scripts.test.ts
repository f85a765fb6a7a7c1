// The real cgi-bin/ scripts, built and spawned the way a web server runs them: a clean environment
// (RFC 3875 §4.1 variables and PATH only), the body on stdin, the CGI response on stdout.
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { header, parseCgi } from './_cgi.js'

const root = resolve(import.meta.dirname, '../../..')
const bin = (name: string) => join(root, 'cgi-bin', name)
let temp: string
let probe: string

beforeAll(async () => {
  // The bundles are build output (gitignored): make them, so a fresh clone's `npm test` passes.
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--cgi'], {
    env: cleanEnv(),
    encoding: 'utf8',
  })
  expect(built.status, built.stderr).toBe(0)
  temp = mkdtempSync(join(tmpdir(), 'tsgi-cgi-'))
  probe = join(temp, 'probe.cjs')
  await build({
    entryPoints: [join(root, 'test/fixtures/cgi-probe.ts')],
    outfile: probe,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  })
})

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true })
})

/** PATH (to find node) and nothing else from this shell: NODE_EXTRA_CA_CERTS triples node's start-up. */
function cleanEnv(vars: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars }
}

const GET = {
  REQUEST_METHOD: 'GET',
  SERVER_PROTOCOL: 'HTTP/1.1',
  GATEWAY_INTERFACE: 'CGI/1.1',
  SERVER_NAME: 'localhost',
  SERVER_PORT: '80',
  REMOTE_ADDR: '127.0.0.1',
}

interface Run {
  code: number | null
  stdout: Buffer
  stderr: string
}

interface SpawnOptions {
  body?: Buffer | string
  /** Close our end of the child's stdout: after the first chunk, or at once. */
  closeStdout?: 'first-chunk' | 'at-once'
  /** Send SIGTERM after the first chunk, as mod_cgid does when the client goes away. */
  termAfterFirstChunk?: boolean
}

function runScript(command: string[], vars: Record<string, string>, options: SpawnOptions = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command[0]!, command.slice(1), { env: cleanEnv(vars), stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk)
      if (options.closeStdout === 'first-chunk') child.stdout.destroy()
      if (options.termAfterFirstChunk === true && out.length === 1) child.kill('SIGTERM')
    })
    if (options.closeStdout === 'at-once') child.stdout.destroy()
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
    // A script that does not read its body exits first: our write then fails with EPIPE, as Apache's would.
    child.stdin.on('error', () => {})
    child.stdin.end(options.body ?? '')
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout: Buffer.concat(out), stderr: err }))
  })
}

function bodyLines(run: Run): Map<string, string> {
  const lines = parseCgi(run.stdout).body.toString('utf8').trimEnd().split('\n')
  return new Map(lines.map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]))
}

describe('cgi-bin scripts answer GET', () => {
  it('hello', async () => {
    const run = await runScript([bin('hello')], GET)
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    const response = parseCgi(run.stdout)
    expect(response.status).toBe('200 OK')
    expect(header(response, 'content-type')).toBe('text/plain')
    expect(header(response, 'content-length')).toBe('13')
    expect(response.body.toString()).toBe('Hello world!\n')
  })

  it('environ: the RFC 3875 variables and the tsgi keys of a CGI gateway', async () => {
    const run = await runScript([bin('environ')], {
      ...GET,
      SCRIPT_NAME: '/cgi-bin/environ',
      PATH_INFO: '/a b',
      QUERY_STRING: 'x=1',
      HTTPS: 'on',
      HTTP_X_TEST: 'yes',
    })
    expect(run.code).toBe(0)
    const env = bodyLines(run)
    expect(env.get('REQUEST_METHOD')).toBe('GET')
    expect(env.get('SCRIPT_NAME')).toBe('/cgi-bin/environ')
    expect(env.get('PATH_INFO')).toBe('/a b')
    expect(env.get('QUERY_STRING')).toBe('x=1')
    expect(env.get('HTTP_X_TEST')).toBe('yes')
    expect(env.get('tsgi.url_scheme')).toBe('https')
    expect(env.get('tsgi.version')).toBe('[1, 0]')
    expect(env.get('tsgi.run_once')).toBe('true')
    expect(env.get('tsgi.multiprocess')).toBe('true')
    expect(env.get('tsgi.multithread')).toBe('false')
    expect(env.has('CONTENT_LENGTH')).toBe(false)
  })

  it('upper: the Upperware middleware streams HELLO WORLD! without a Content-Length', async () => {
    const run = await runScript([bin('upper')], GET)
    const response = parseCgi(run.stdout)
    expect(response.status).toBe('200 OK')
    expect(header(response, 'content-length')).toBeUndefined()
    expect(response.body.toString()).toBe('HELLO WORLD!\n')
  })

  it('echo: method, path and query', async () => {
    const run = await runScript([bin('echo')], {
      ...GET,
      SCRIPT_NAME: '/cgi-bin/echo',
      PATH_INFO: '/p',
      QUERY_STRING: 'q=1',
    })
    const echo = bodyLines(run)
    expect(echo.get('method')).toBe('GET')
    expect(echo.get('path')).toBe('/cgi-bin/echo/p')
    expect(echo.get('query')).toBe('q=1')
    expect(echo.get('length')).toBe('0')
  })

  // RFC 3875 §4.4: for an ISINDEX-style query (no unencoded '=') a server may also pass the words as argv
  // (Apache's CGI does); request data comes from the environment only, so argv must change nothing.
  it.each([
    ['QUERY_STRING a+b, argv a b', 'a+b', ['a', 'b']],
    ['an empty QUERY_STRING, argv x=1', '', ['x=1']],
  ])('C-11: request data never comes from argv (%s)', async (_name, query, argv) => {
    const vars = { ...GET, SCRIPT_NAME: '/cgi-bin/echo', QUERY_STRING: query }
    const run = await runScript([bin('echo'), ...argv], vars)
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    expect(Object.fromEntries(bodyLines(run))).toEqual({
      method: 'GET',
      path: '/cgi-bin/echo',
      query,
      length: '0',
      sha256: createHash('sha256').digest('hex'),
    })
    expect(run.stdout.toString('latin1')).toBe((await runScript([bin('echo')], vars)).stdout.toString('latin1'))
  })

  it('the tsx variant gives the same response (slow: TypeScript compiled per request)', async () => {
    const run = await runScript([bin('hello-tsx')], GET)
    expect(run.code).toBe(0)
    expect(parseCgi(run.stdout).body.toString()).toBe('Hello world!\n')
  })
})

describe('cgi-bin scripts with a request body (RFC 3875 §4.2)', () => {
  const big = randomBytes(10 * 1024 * 1024)
  const sha = createHash('sha256').update(big).digest('hex')
  const POST = {
    ...GET,
    REQUEST_METHOD: 'POST',
    CONTENT_TYPE: 'application/octet-stream',
    CONTENT_LENGTH: String(big.byteLength),
  }

  it('echo reads a 10 MiB POST whole: right length and SHA-256', async () => {
    const run = await runScript([bin('echo')], POST, { body: big })
    expect(run.code).toBe(0)
    const echo = bodyLines(run)
    expect(echo.get('length')).toBe(String(big.byteLength))
    expect(echo.get('sha256')).toBe(sha)
  })

  it.each(['hello', 'environ', 'upper'])('%s answers a 10 MiB POST it does not read', async (name) => {
    const run = await runScript([bin(name)], POST, { body: big })
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    expect(parseCgi(run.stdout).status).toBe('200 OK')
  })

  it('without CONTENT_LENGTH reads to EOF (mod_cgid passes chunked bodies so, C-04)', async () => {
    const body = randomBytes(200_000)
    const vars = { ...GET, REQUEST_METHOD: 'POST', HTTP_TRANSFER_ENCODING: 'chunked' }
    const echo = bodyLines(await runScript([bin('echo')], vars, { body }))
    expect(echo.get('length')).toBe('200000')
    expect(echo.get('sha256')).toBe(createHash('sha256').update(body).digest('hex'))
  })

  it('never reads past CONTENT_LENGTH', async () => {
    const echo = bodyLines(
      await runScript([bin('echo')], { ...POST, CONTENT_LENGTH: '5' }, { body: 'hello, and more' }),
    )
    expect(echo.get('length')).toBe('5')
    expect(echo.get('sha256')).toBe(createHash('sha256').update('hello').digest('hex'))
  })

  it('a body shorter than CONTENT_LENGTH is a 400, logged on stderr', async () => {
    const run = await runScript([bin('echo')], { ...POST, CONTENT_LENGTH: '100' }, { body: 'only 10 b.' })
    expect(parseCgi(run.stdout).status).toBe('400 Bad Request')
    expect(run.stderr).toContain('request body ended after 10 of 100 bytes')
  })

  it('a bad CONTENT_LENGTH is a 400 naming the value on stderr', async () => {
    const run = await runScript([bin('echo')], { ...POST, CONTENT_LENGTH: '10 ' }, { body: 'x' })
    expect(run.code).toBe(1)
    expect(parseCgi(run.stdout).status).toBe('400 Bad Request')
    expect(run.stderr).toBe('cgi: bad CONTENT_LENGTH "10 "\n')
  })
})

describe('cgi-bin gateway behaviour', () => {
  it('nph-hello writes the HTTP status line itself (RFC 3875 §5)', async () => {
    const run = await runScript([bin('nph-hello')], { ...GET, SCRIPT_NAME: '/cgi-bin/nph-hello' })
    const response = parseCgi(run.stdout)
    expect(response.status).toBe('HTTP/1.1 200 OK')
    expect(run.stdout.toString('latin1')).not.toContain('Status:')
    expect(header(response, 'connection')).toBe('close')
    expect(response.body.toString()).toBe('Hello world!\n')
  })

  it('httpoxy: the app sees the Proxy header in environ, never in process.env (S-01)', async () => {
    const run = await runScript([process.execPath, probe], {
      ...GET,
      QUERY_STRING: 'httpoxy',
      HTTP_PROXY: 'http://evil.test:8080',
      http_proxy: 'http://ops.test:3128',
    })
    expect(run.code).toBe(0)
    expect(JSON.parse(parseCgi(run.stdout).body.toString())).toEqual({
      environ: 'http://evil.test:8080',
      atLoad: null,
      atRequest: null,
      lowercase: 'http://ops.test:3128',
    })
  })

  it('run by hand without REQUEST_METHOD: one line on stderr, nothing on stdout, exit 2', async () => {
    const run = await runScript([bin('hello')], {})
    expect(run.code).toBe(2)
    expect(run.stdout.byteLength).toBe(0)
    expect(run.stderr).toMatch(
      /^cgi: .*hello is a CGI script .*REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP\/1\.1 .*hello\n$/,
    )
  })

  it('the server closing stdout before the response (EPIPE): exit 0, no stack', async () => {
    const run = await runScript([bin('hello')], GET, { closeStdout: 'at-once' })
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
  })

  it('the server closing stdout mid-body: the app is aborted and its body closed, exit 0, no stack', async () => {
    const run = await runScript(
      [process.execPath, probe],
      { ...GET, QUERY_STRING: 'endless' },
      { closeStdout: 'first-chunk' },
    )
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('probe: body closed, signal aborted: true\n')
  })

  it('SIGTERM from the web server (mod_cgid on client abort) fires tsgi.signal and closes the body', async () => {
    const run = await runScript(
      [process.execPath, probe],
      { ...GET, QUERY_STRING: 'endless' },
      { termAfterFirstChunk: true },
    )
    expect(run.stderr).toBe('probe: body closed, signal aborted: true\n')
    expect(run.code).toBe(0)
  })

  it('a launcher whose bundle is missing answers a well-formed 500 saying to build', async () => {
    const lonely = join(temp, 'hello')
    copyFileSync(bin('hello'), lonely)
    const run = await runScript([process.execPath, lonely], GET)
    expect(run.code).toBe(1)
    const response = parseCgi(run.stdout)
    expect(response.status).toBe('500 Internal Server Error')
    expect(response.body.toString()).toContain('npm run build')
  })
})
