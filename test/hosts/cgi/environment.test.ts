// The CGI host's script environment (RFC 3875 §4.1): each meta-variable as the script sees it in a real
// process, nothing of the host's own environment beyond the allow-list (S-02), never HTTP_PROXY (S-01),
// and values passed byte for byte, never evaluated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isTsgiError } from '../../../src/errors.js'
import { DEFAULT_PATH, runCgiScript, scriptEnvironment } from '../../../src/hosts/cgi/index.js'
import { asCgi, FIXTURES, fixture, textOf } from './_helpers.js'

const MARKER = 'TSGI_CGI_HOST_TEST_MARKER'
const SHELLSHOCK = '() { :;}; echo x'

interface Dump {
  env: Record<string, string>
  cwd: string
  argv: string[]
}

async function dump(request: Partial<Parameters<typeof runCgiScript>[0]> = {}): Promise<Dump> {
  const script = fixture('env-dump.cjs')
  const response = asCgi(await runCgiScript({ script, vars: [['REQUEST_METHOD', 'GET']], ...request }))
  expect(response.status).toBe(200)
  return JSON.parse(await textOf(response.body)) as Dump
}

const VARS: Array<[string, string]> = [
  ['REQUEST_METHOD', 'POST'],
  ['QUERY_STRING', 'a=1&b=%20'],
  ['PATH_INFO', '/x/y z'],
  ['PATH_TRANSLATED', '/srv/www/x/y z'],
  ['SCRIPT_NAME', '/cgi-bin/env-dump.cjs'],
  ['CONTENT_LENGTH', '5'],
  ['CONTENT_TYPE', 'text/plain'],
  ['SERVER_NAME', 'example.test'],
  ['SERVER_PORT', '8080'],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['SERVER_SOFTWARE', 'tsgi-front'],
  ['REMOTE_ADDR', '192.0.2.7'],
  ['REMOTE_PORT', '50123'],
  ['AUTH_TYPE', ''],
  ['REQUEST_URI', '/cgi-bin/env-dump.cjs/x/y%20z?a=1&b=%20'],
  ['HTTP_ACCEPT', 'text/html'],
  ['HTTP_ACCEPT', 'application/json'],
  ['HTTP_COOKIE', 'a=1'],
  ['HTTP_COOKIE', 'b=2'],
  ['HTTP_HOST', 'example.test:8080'],
  ['HTTP_CONTENT_TYPE', 'text/evil'],
  ['HTTP_PROXY', 'http://evil.test:3128'],
  ['HTTP_X_SHELLSHOCK', SHELLSHOCK],
]

describe('the environment a script gets (RFC 3875 §4.1)', () => {
  let seen: Dump
  beforeAll(async () => {
    process.env[MARKER] = 'must not leak'
    seen = await dump({
      vars: VARS,
      body: (async function* () {
        yield Buffer.from('hello')
      })(),
    })
  })
  afterAll(() => {
    delete process.env[MARKER]
  })

  it.each<[string, string | undefined]>([
    ['REQUEST_METHOD', 'POST'],
    ['QUERY_STRING', 'a=1&b=%20'],
    ['PATH_INFO', '/x/y z'],
    ['PATH_TRANSLATED', '/srv/www/x/y z'],
    ['SCRIPT_NAME', '/cgi-bin/env-dump.cjs'],
    ['CONTENT_LENGTH', '5'],
    ['CONTENT_TYPE', 'text/plain'],
    ['SERVER_NAME', 'example.test'],
    ['SERVER_PORT', '8080'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_SOFTWARE', 'tsgi-front'],
    ['REMOTE_ADDR', '192.0.2.7'],
    ['REMOTE_PORT', '50123'],
    ['REQUEST_URI', '/cgi-bin/env-dump.cjs/x/y%20z?a=1&b=%20'],
    ['HTTP_HOST', 'example.test:8080'],
    // §4.1.18, S-18: repeated headers merged, Cookie with '; ' (RFC 6265 §5.4), others with ', '.
    ['HTTP_ACCEPT', 'text/html, application/json'],
    ['HTTP_COOKIE', 'a=1; b=2'],
    // Added by the host when the caller did not send them (C-01, C-09).
    ['SCRIPT_FILENAME', fixture('env-dump.cjs')],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    // C-03: an empty optional variable is NULL, i.e. unset.
    ['AUTH_TYPE', undefined],
    // The body's type travels as CONTENT_TYPE only (§4.1.18).
    ['HTTP_CONTENT_TYPE', undefined],
    // S-01 (httpoxy).
    ['HTTP_PROXY', undefined],
    // S-02: a Shellshock-looking value arrives byte for byte.
    ['HTTP_X_SHELLSHOCK', SHELLSHOCK],
    ['PATH', process.env.PATH],
    [MARKER, undefined],
  ])('%s', (name, value) => {
    expect(seen.env[name]).toBe(value)
  })

  it('holds only the request, the allow-list and what the runtime adds: no host variable leaks (S-02)', () => {
    const allowed = new Set([...VARS.map(([name]) => name), 'SCRIPT_FILENAME', 'GATEWAY_INTERFACE'])
    for (const name of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'LD_LIBRARY_PATH']) allowed.add(name)
    const extra = Object.keys(seen.env).filter((name) => !allowed.has(name))
    expect(extra).toEqual([])
    expect(seen.argv).toEqual([]) // C-11: no search words on the command line
  })

  it("runs in the script's directory by default (as Apache does)", () => {
    expect(seen.cwd).toBe(FIXTURES)
  })
})

describe('environment options', () => {
  it('keeps the caller’s SCRIPT_FILENAME and GATEWAY_INTERFACE; takes cwd, inheritEnv and env', async () => {
    process.env[MARKER] = 'inherited on request'
    try {
      const seen = await dump({
        vars: [
          ['REQUEST_METHOD', 'GET'],
          ['SCRIPT_FILENAME', '/srv/other'],
          ['GATEWAY_INTERFACE', 'CGI/1.0'],
          ['NODE_OPTIONS', '--from-the-request'],
        ],
        cwd: '/tmp',
        inheritEnv: ['PATH', MARKER],
        env: { NODE_OPTIONS: '--max-old-space-size=64', HTTP_PROXY: 'http://operator.test' },
      })
      expect(seen.env).toMatchObject({
        SCRIPT_FILENAME: '/srv/other',
        GATEWAY_INTERFACE: 'CGI/1.0',
        [MARKER]: 'inherited on request',
        NODE_OPTIONS: '--max-old-space-size=64',
      })
      expect(seen.env.HTTP_PROXY).toBeUndefined()
      expect(seen.cwd).toBe('/tmp')
    } finally {
      delete process.env[MARKER]
    }
  })

  it('passes NUL-free values only: a NUL is a 400 before anything runs (S-23)', async () => {
    const err = await runCgiScript({
      script: fixture('env-dump.cjs'),
      vars: [
        ['REQUEST_METHOD', 'GET'],
        ['PATH_INFO', '/a\0b'],
      ],
    }).catch((e: unknown) => e)
    expect(isTsgiError(err, 'ERR_CGI_ENVIRONMENT')).toBe(true)
    expect(err).toMatchObject({ status: 400, message: expect.stringContaining('PATH_INFO') })
  })
})

describe('scriptEnvironment', () => {
  const base = { script: '/srv/cgi/x', vars: [['REQUEST_METHOD', 'GET']] as Array<[string, string]> }

  it('gives PATH a default when neither the host nor the caller has one', () => {
    expect(scriptEnvironment(base, {}).PATH).toBe(DEFAULT_PATH)
    expect(scriptEnvironment({ ...base, inheritEnv: [] }, { PATH: '/host/bin' }).PATH).toBe(DEFAULT_PATH)
    expect(scriptEnvironment(base, { PATH: '/host/bin' }).PATH).toBe('/host/bin')
  })

  it('copies only the allow-listed host variables, skipping empty ones', () => {
    const host = { PATH: '/p', LANG: 'C.UTF-8', TZ: '', HOME: '/root', NODE_EXTRA_CA_CERTS: '/ca.pem' }
    const env = scriptEnvironment(base, host)
    expect(Object.keys(env).sort()).toEqual(['GATEWAY_INTERFACE', 'LANG', 'PATH', 'REQUEST_METHOD', 'SCRIPT_FILENAME'])
  })

  it('lets later sources win: vars, then the host allow-list, then env (SetEnv)', () => {
    const env = scriptEnvironment(
      {
        ...base,
        vars: [
          ['LANG', 'from-vars'],
          ['TZ', 'from-vars'],
          ['X', 'from-vars'],
        ],
        env: { TZ: 'from-env' },
      },
      { LANG: 'from-host', TZ: 'from-host' },
    )
    expect([env.LANG, env.TZ, env.X]).toEqual(['from-host', 'from-env', 'from-vars'])
  })

  it('has no prototype, so a polluted Object.prototype adds nothing to the child', () => {
    const env = scriptEnvironment({ ...base, vars: [['__proto__', 'x']] }, {})
    expect(Object.getPrototypeOf(env)).toBeNull()
    expect(Object.getOwnPropertyDescriptor(env, '__proto__')?.value).toBe('x')
  })

  it('refuses a name execve cannot carry', () => {
    expect(() => scriptEnvironment({ ...base, env: { 'A=B': '1' } }, {})).toThrow(/invalid environment variable name/)
  })
})
