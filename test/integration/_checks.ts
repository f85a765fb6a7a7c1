// The checks every web-server path runs (the C- and S- rules of docs/checklist.md): one `it` per behaviour, with the server's
// own quirks (CONTENT_LENGTH on GET, Cookie joining, underscores, redirects, client aborts, keep-conn) as
// per-path expectations. Each result also lands in the compatibility table.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { expect, it } from 'vitest'
import { pattern } from '../fixtures/conformance-app.js'
import { headerValues, type JsonObject, json, type Response, request, requestAndHangUp } from './_client.js'
import { sleep } from './_harness.js'
import { declarePath, type PathInfo, record } from './_results.js'

const MiB = 1024 * 1024

export interface Expectations {
  /** environ CONTENT_LENGTH on a GET (null: absent; nginx sends '' and the environ builder drops it). */
  getContentLength: string | null
  /**
   * environ CONTENT_LENGTH for a chunked POST (null: the server passes the body without it); `bufferOnly`:
   * the server holds a chunked body whole in one buffer, answers 400 to a 3 MiB one, and passes this many
   * bytes with CONTENT_LENGTH (HAProxy).
   */
  chunkedContentLength: string | null | { bufferOnly: number }
  /** environ HTTP_COOKIE for two `Cookie:` lines `a=1` and `b=2`. */
  cookie: string
  /** environ HTTP_X_UNDER_SCORE for `X-Under-Score: dash` plus `X-Under_score: underscore` (a list: any one of them). */
  underscore: string | string[]
  /** environ HTTP_PROXY for a `Proxy: http://evil.invalid` header (null: dropped by the server). */
  httpProxy: string | null
  /** RFC 3875 §6.2.2: the server serves the new path itself, sends the client a 302, or passes the 200 on. */
  localRedirect: 'internal' | 'client' | 'passed through'
  /** What the app sees when the client hangs up: tsgi.signal fires, it runs to the end, or it is killed first. */
  abort: 'signal' | 'runs to the end' | 'killed'
  /**
   * Content-Length of a HEAD answer whose GET has 1000 bytes: the app's value, or null where the server drops
   * it (Apache mod_cgid and mod_proxy_fcgi, observed; mod_fcgid, nginx and lighttpd pass it on).
   */
  headContentLength: '1000' | null
  /** FastCGI connections the responder accepts for 7 requests: a few (reused) or one each. */
  reuse?: 'reused' | 'one per request'
  /** Over the server's HTTPS port: what it sends as HTTPS and REQUEST_SCHEME (null: not sent). */
  https?: { HTTPS: string | null; REQUEST_SCHEME: string | null }
}

export interface PathSpec extends PathInfo {
  gateway: 'cgi' | 'fastcgi'
  /** The SCRIPT_NAME the app sees; URLs are base + PATH_INFO. */
  base: string
  port: () => number
  expect: Expectations
  /** Why this path cannot run here (a missing binary, the responder not built yet). */
  skip?: string
  /** The server's HTTPS port, where its example has one (with expect.https). */
  tlsPort?: () => number
}

type Check = [name: string, run: (spec: PathSpec) => Promise<void>]

let big: { bytes: Buffer; sha256: string } | undefined
function bigBody(): { bytes: Buffer; sha256: string } {
  if (big === undefined) {
    const bytes = Buffer.from(pattern(0, 10 * MiB))
    big = { bytes, sha256: sha256(bytes) }
  }
  return big
}

/** A body sent with Transfer-Encoding: chunked, 64 KiB a chunk. */
function chunked(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += 64 * 1024) chunks.push(bytes.subarray(at, at + 64 * 1024))
  return chunks
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function envOf(spec: PathSpec, target: string, headers: Array<[string, string]> = []): Promise<JsonObject> {
  const response = await request(spec.port(), target, { headers })
  expect(response.status, describe(response)).toBe(200)
  return json(response)
}

function describe(response: Response): string {
  return `${response.status} ${response.body.toString('utf8').slice(0, 300)}`
}

const CHECKS: Check[] = [
  [
    'GET with a query and a non-ASCII path',
    async (spec) => {
      const target = `${spec.base}/env/caf%C3%A9/%E2%9C%93?q=%C3%A9&x=1`
      const { environ, tsgi } = await envOf(spec, target)
      expect(environ.SCRIPT_NAME).toBe(spec.base)
      expect(environ.PATH_INFO).toBe('/env/café/✓')
      expect(environ.QUERY_STRING).toBe('q=%C3%A9&x=1')
      expect(environ.REQUEST_URI).toBe(target)
      expect(environ.REQUEST_METHOD).toBe('GET')
      expect(environ.SERVER_PORT).toBe(String(spec.port()))
      expect(environ.CONTENT_LENGTH ?? null).toBe(spec.expect.getContentLength)
      expect(tsgi.run_once).toBe(spec.gateway === 'cgi')
    },
  ],
  [
    'POST of 10 MiB',
    async (spec) => {
      const body = bigBody()
      const response = await request(spec.port(), `${spec.base}/echo`, {
        method: 'POST',
        body: body.bytes,
        headers: [['Content-Type', 'application/octet-stream']],
      })
      expect(response.status, describe(response)).toBe(200)
      expect(json(response)).toMatchObject({ length: 10 * MiB, sha256: body.sha256, CONTENT_LENGTH: String(10 * MiB) })
    },
  ],
  [
    'chunked POST',
    async (spec) => {
      const bytes = bigBody().bytes.subarray(0, 3 * MiB)
      const expected = spec.expect.chunkedContentLength
      const sent = request(spec.port(), `${spec.base}/echo`, { method: 'POST', chunks: chunked(bytes) })
      if (expected === null || typeof expected === 'string') {
        const response = await sent
        expect(response.status, describe(response)).toBe(200)
        expect(json(response)).toMatchObject({ length: 3 * MiB, sha256: sha256(bytes), CONTENT_LENGTH: expected })
        return
      }
      const response = await sent.catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return undefined
        throw err
      })
      // The server's own limit: refused before the app is asked (its 400, or a reset that overtakes it when
      // it closes with our body unread); a body that fits its buffer goes through.
      if (response !== undefined) expect(response.status, describe(response)).toBe(400)
      const small = bytes.subarray(0, expected.bufferOnly)
      const fits = await request(spec.port(), `${spec.base}/echo`, { method: 'POST', chunks: chunked(small) })
      expect(fits.status, describe(fits)).toBe(200)
      expect(json(fits)).toMatchObject({ length: small.length, CONTENT_LENGTH: String(small.length) })
    },
  ],
  [
    '10 MiB response',
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/big/${10 * MiB}`)
      expect(response.status).toBe(200)
      expect(response.body.length).toBe(10 * MiB)
      expect(sha256(response.body)).toBe(bigBody().sha256)
    },
  ],
  [
    'HEAD',
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/big/1000`, { method: 'HEAD' })
      expect(response.status).toBe(200)
      expect(response.body.length).toBe(0)
      const expected = spec.expect.headContentLength
      expect(headerValues(response, 'content-length')).toEqual(expected === null ? [] : [expected])
    },
  ],
  [
    'local redirect (RFC 3875 §6.2.2)',
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/local-redirect`)
      if (spec.expect.localRedirect === 'internal') {
        expect(response.status, describe(response)).toBe(200)
        const { environ } = json(response)
        expect([environ.PATH_INFO, environ.QUERY_STRING, environ.REQUEST_METHOD]).toEqual([
          '/env/redirected',
          'from=local',
          'GET',
        ])
      } else {
        expect(response.status, describe(response)).toBe(spec.expect.localRedirect === 'client' ? 302 : 200)
        expect(headerValues(response, 'location')).toEqual([`${spec.base}/env/redirected?from=local`])
        if (spec.expect.localRedirect === 'passed through') expect(response.body.length).toBe(0)
      }
    },
  ],
  [
    'local redirect through localRedirects()',
    async (spec) => {
      const { environ } = await envOf(spec, `${spec.base}/in-app-redirect`)
      expect([environ.PATH_INFO, environ.QUERY_STRING, environ.REDIRECT_STATUS]).toEqual([
        '/env/redirected',
        'from=middleware',
        '200',
      ])
    },
  ],
  [
    'client redirect',
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/client-redirect`)
      expect(response.status).toBe(302)
      expect(headerValues(response, 'location')).toEqual(['http://example.invalid/elsewhere'])
    },
  ],
  [
    "the app's Status line is not a response header",
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/status/404`)
      expect(response.status).toBe(404)
      // RFC 3875 §6.3.3: Status is for the server. Caddy 2.6 passes it on unless told (header_down -Status).
      expect(headerValues(response, 'status')).toEqual([])
    },
  ],
  [
    'two Set-Cookie headers',
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/cookies`)
      expect(response.status).toBe(200)
      expect(headerValues(response, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/'])
    },
  ],
  [
    'repeated request headers',
    async (spec) => {
      const headers: Array<[string, string]> = [
        ['X-Dup', 'a'],
        ['X-Dup', 'b'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
      ]
      const { environ } = await envOf(spec, `${spec.base}/env/dup`, headers)
      expect(environ.HTTP_X_DUP).toBe('a, b')
      expect(environ.HTTP_COOKIE).toBe(spec.expect.cookie)
    },
  ],
  [
    'header name with an underscore',
    async (spec) => {
      const { environ } = await envOf(spec, `${spec.base}/env/underscore`, [
        ['X-Under-Score', 'dash'],
        ['X-Under_score', 'underscore'],
      ])
      const seen = spec.expect.underscore
      if (Array.isArray(seen)) expect(seen).toContain(environ.HTTP_X_UNDER_SCORE)
      else expect(environ.HTTP_X_UNDER_SCORE).toBe(seen)
    },
  ],
  [
    'Proxy header stays out of process.env (httpoxy)',
    async (spec) => {
      const { environ, process } = await envOf(spec, `${spec.base}/env/proxy`, [['Proxy', 'http://evil.invalid']])
      expect(process.HTTP_PROXY).toBe(null)
      expect(environ.HTTP_PROXY ?? null).toBe(spec.expect.httpProxy)
      // FastCGI: params never become process.env (CGI gets its request in the environment by design).
      if (spec.gateway === 'fastcgi') expect(process.REQUEST_METHOD).toBe(null)
    },
  ],
  [
    'app error is a clean 500',
    async (spec) => {
      const response = await request(spec.port(), `${spec.base}/error`)
      expect(response.status).toBe(500)
      const text = response.body.toString('utf8')
      expect(text).not.toContain('secret-detail')
      expect(text).not.toContain('app.ts')
    },
  ],
  [
    'client hangs up mid-response',
    async (spec) => {
      const token = randomBytes(8).toString('hex')
      const statusLine = await requestAndHangUp(spec.port(), `${spec.base}/slow?token=${token}`)
      expect(statusLine).toMatch(/^HTTP\/1\.1 200/)
      const file = (suffix: string): string => `/tmp/tsgi-it-${token}.${suffix}`
      try {
        expect(await watchSlowApp(file)).toBe(spec.expect.abort)
      } finally {
        for (const suffix of ['start', 'signal', 'done']) rmSync(file(suffix), { force: true })
      }
    },
  ],
]

/** What became of the /slow app after its client left, as it recorded it (or its process vanishing). */
async function watchSlowApp(file: (suffix: string) => string): Promise<Expectations['abort'] | 'still running'> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (existsSync(file('signal'))) return 'signal'
    if (existsSync(file('done'))) return 'runs to the end'
    const pid = existsSync(file('start')) ? Number(readFileSync(file('start'), 'utf8')) : undefined
    if (pid !== undefined && !alive(pid)) return existsSync(file('signal')) ? 'signal' : 'killed'
    await sleep(50)
  }
  return 'still running'
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const REUSE: Check = [
  'keep-conn reuse, counted by the responder',
  async (spec) => {
    const stats = async (): Promise<{ pid: number; accepted: number }> => {
      const response = await request(spec.port(), `${spec.base}/stats`)
      expect(response.status).toBe(200)
      return json(response) as { pid: number; accepted: number }
    }
    const before = await stats()
    for (let i = 0; i < 6; i++) expect((await request(spec.port(), `${spec.base}/env/reuse${i}`)).status).toBe(200)
    const after = await stats()
    expect(after.pid).toBe(before.pid)
    // 7 requests (6 + the second /stats) since the first count.
    const accepted = after.accepted - before.accepted
    if (spec.expect.reuse === 'reused') expect(accepted).toBeLessThanOrEqual(2)
    else expect(accepted).toBe(7)
  },
]

const HTTPS: Check = [
  'HTTPS: the variables and the https scheme (C-09)',
  async (spec) => {
    const port = spec.tlsPort?.() ?? Number.NaN
    const response = await request(port, `${spec.base}/env/tls`, { tls: true })
    expect(response.status, describe(response)).toBe(200)
    const { environ, tsgi } = json(response)
    expect({ HTTPS: environ.HTTPS ?? null, REQUEST_SCHEME: environ.REQUEST_SCHEME ?? null }).toEqual(spec.expect.https)
    expect([tsgi.url_scheme, environ.SERVER_PORT, environ.PATH_INFO]).toEqual(['https', String(port), '/env/tls'])
  },
]

/** Registers every check for one path (skipped, with the reason in the table, when it cannot run). */
export function definePathChecks(spec: PathSpec, extra: Check[] = []): void {
  const optional = [...(spec.expect.reuse === undefined ? [] : [REUSE]), ...(spec.tlsPort === undefined ? [] : [HTTPS])]
  const checks = [...CHECKS, ...optional, ...extra]
  declarePath(spec, checks.length)
  for (const [name, run] of checks) registerCheck(spec, name, () => run(spec))
}

/**
 * One `it` whose outcome is also recorded for the table. With `knownIssue` (a bug owned elsewhere, named in
 * the table) a failure is expected and recorded as such; a pass then fails the test, to retire the marker.
 */
export function registerCheck(
  spec: Pick<PathSpec, 'id' | 'skip'>,
  name: string,
  run: () => Promise<void>,
  knownIssue?: string,
): void {
  if (spec.skip !== undefined) {
    record(spec.id, name, { skipped: spec.skip })
    it.skip(name, () => {})
    return
  }
  it(name, async () => {
    let failure: unknown
    try {
      await run()
    } catch (err) {
      failure = err
    }
    if (knownIssue === undefined) {
      record(spec.id, name, failure === undefined ? 'pass' : 'fail')
      if (failure !== undefined) throw failure
      return
    }
    record(spec.id, name, failure === undefined ? 'pass' : { known: knownIssue })
    if (failure === undefined) throw new Error(`${name} passes now: remove its known-issue marker (${knownIssue})`)
  })
}

export type { Check }
