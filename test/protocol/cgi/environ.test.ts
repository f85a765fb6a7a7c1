// buildEnviron, one rule per row, each citing RFC 3875 (or the docs/checklist.md id it comes from).
import { describe, expect, it } from 'vitest'
import type { InputStream } from '../../../src/app.js'
import { RequestAbort } from '../../../src/core/abort.js'
import { BodyInput } from '../../../src/core/input.js'
import { TsgiError } from '../../../src/errors.js'
import { buildEnviron, type CgiVars, contentLengthOf, type GatewayKeys } from '../../../src/protocol/cgi/environ.js'

const ABSENT = Symbol('absent')
type Expected = Record<string, string | typeof ABSENT>

function gateway(extra: Partial<GatewayKeys> = {}): GatewayKeys {
  return {
    input: BodyInput.empty(),
    errors: { write: () => {} },
    signal: new AbortController().signal,
    multithread: false,
    multiprocess: true,
    runOnce: true,
    ...extra,
  }
}

const GET = { REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1' }

interface Row {
  rule: string
  rfc: string
  vars: CgiVars
  expect: Expected
}

const ROWS: Row[] = [
  {
    rule: 'REQUEST_METHOD is case-sensitive and kept as sent',
    rfc: '§4.1.12',
    vars: { ...GET, REQUEST_METHOD: 'get' },
    expect: { REQUEST_METHOD: 'get' },
  },
  {
    rule: 'an extension method is kept',
    rfc: '§4.1.12',
    vars: { ...GET, REQUEST_METHOD: 'PROPFIND' },
    expect: { REQUEST_METHOD: 'PROPFIND' },
  },
  {
    rule: 'SERVER_PROTOCOL missing becomes HTTP/1.0 (our decision)',
    rfc: '§4.1.16',
    vars: { REQUEST_METHOD: 'GET' },
    expect: { SERVER_PROTOCOL: 'HTTP/1.0' },
  },
  {
    rule: "SERVER_PROTOCOL '' becomes HTTP/1.0",
    rfc: '§4.1.16',
    vars: { ...GET, SERVER_PROTOCOL: '' },
    expect: { SERVER_PROTOCOL: 'HTTP/1.0' },
  },
  {
    rule: 'SERVER_PROTOCOL is kept as sent (INCLUDED too)',
    rfc: '§4.1.16',
    vars: { ...GET, SERVER_PROTOCOL: 'INCLUDED' },
    expect: { SERVER_PROTOCOL: 'INCLUDED' },
  },
  { rule: "QUERY_STRING missing becomes ''", rfc: '§4.1.7', vars: GET, expect: { QUERY_STRING: '' } },
  {
    rule: 'QUERY_STRING is kept encoded',
    rfc: '§4.1.7',
    vars: { ...GET, QUERY_STRING: 'a=1&b=%20%26' },
    expect: { QUERY_STRING: 'a=1&b=%20%26' },
  },
  {
    rule: "no SCRIPT_NAME and no PATH_INFO: '' and '/' (Rack::Lint)",
    rfc: '§4.1.13',
    vars: GET,
    expect: { SCRIPT_NAME: '', PATH_INFO: '/' },
  },
  {
    rule: "SCRIPT_NAME '/' becomes '' and PATH_INFO '' becomes '/'",
    rfc: '§4.1.13',
    vars: { ...GET, SCRIPT_NAME: '/', PATH_INFO: '' },
    expect: { SCRIPT_NAME: '', PATH_INFO: '/' },
  },
  {
    rule: "SCRIPT_NAME '/' with PATH_INFO 'x': PATH_INFO gets its '/'",
    rfc: '§4.1.13',
    vars: { ...GET, SCRIPT_NAME: '/', PATH_INFO: 'x' },
    expect: { SCRIPT_NAME: '', PATH_INFO: '/x' },
  },
  {
    rule: "SCRIPT_NAME '/' with PATH_INFO '/x': no doubled slash",
    rfc: '§4.1.13',
    vars: { ...GET, SCRIPT_NAME: '/', PATH_INFO: '/x' },
    expect: { SCRIPT_NAME: '', PATH_INFO: '/x' },
  },
  {
    rule: "PATH_INFO '' under a script stays '' (PEP 3333: app root, no trailing slash)",
    rfc: '§4.1.5',
    vars: { ...GET, SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '' },
    expect: { SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '' },
  },
  {
    rule: 'PATH_INFO missing under a script becomes ""',
    rfc: '§4.1.5',
    vars: { ...GET, SCRIPT_NAME: '/cgi-bin/app' },
    expect: { PATH_INFO: '' },
  },
  {
    rule: 'SCRIPT_NAME and PATH_INFO are otherwise untouched',
    rfc: '§4.1.5',
    vars: { ...GET, SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '/a/b c' },
    expect: { SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '/a/b c' },
  },
  {
    rule: 'PATH_INFO arrives decoded (%2F is /); REQUEST_URI keeps %2F',
    rfc: '§4.1.5, S-23',
    vars: { ...GET, SCRIPT_NAME: '/app', PATH_INFO: '/a/b', REQUEST_URI: '/app/a%2Fb' },
    expect: { PATH_INFO: '/a/b', REQUEST_URI: '/app/a%2Fb' },
  },
  {
    rule: 'non-UTF-8 bytes: U+FFFD in PATH_INFO is kept, REQUEST_URI keeps %E9',
    rfc: '§4.1.5, C-06',
    vars: { ...GET, PATH_INFO: '/caf\uFFFD', REQUEST_URI: '/caf%E9' },
    expect: { PATH_INFO: '/caf\uFFFD', REQUEST_URI: '/caf%E9' },
  },
  {
    rule: 'CVE-2019-11043: LF in SCRIPT_NAME/SCRIPT_FILENAME with PATH_INFO "" is kept, no arithmetic',
    rfc: 'S-03',
    vars: { ...GET, SCRIPT_NAME: '/test.php/PHP\nis.php', SCRIPT_FILENAME: '/srv/test.php/PHP\nis.php', PATH_INFO: '' },
    expect: { SCRIPT_NAME: '/test.php/PHP\nis.php', SCRIPT_FILENAME: '/srv/test.php/PHP\nis.php', PATH_INFO: '' },
  },
  {
    rule: 'CR and NUL in PATH_INFO are kept as they came',
    rfc: 'S-03',
    vars: { ...GET, PATH_INFO: '/a\r\nb\0c' },
    expect: { PATH_INFO: '/a\r\nb\0c' },
  },
  {
    rule: 'PATH_INFO longer than SCRIPT_FILENAME is fine',
    rfc: 'S-03',
    vars: { ...GET, SCRIPT_FILENAME: '/x', PATH_INFO: `/${'a'.repeat(100_000)}` },
    expect: { PATH_INFO: `/${'a'.repeat(100_000)}` },
  },
  {
    rule: "CONTENT_LENGTH '' (nginx GET) is absent",
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '' },
    expect: { CONTENT_LENGTH: ABSENT },
  },
  {
    rule: 'CONTENT_LENGTH missing (Apache GET) is absent',
    rfc: '§4.1.2',
    vars: GET,
    expect: { CONTENT_LENGTH: ABSENT },
  },
  {
    rule: "CONTENT_LENGTH '0' (mod_fcgid, lighttpd GET) is kept",
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '0' },
    expect: { CONTENT_LENGTH: '0' },
  },
  {
    rule: 'CONTENT_LENGTH with leading zeros is normalised',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '007' },
    expect: { CONTENT_LENGTH: '7' },
  },
  {
    rule: "CONTENT_TYPE '' (nginx GET) is absent: NULL equals unset",
    rfc: '§4.1, §4.1.3',
    vars: { ...GET, CONTENT_TYPE: '' },
    expect: { CONTENT_TYPE: ABSENT },
  },
  {
    rule: "REMOTE_USER '' is absent",
    rfc: '§4.1, §4.1.11',
    vars: { ...GET, REMOTE_USER: '' },
    expect: { REMOTE_USER: ABSENT },
  },
  {
    rule: 'an empty HTTP_* value is a real header value and stays',
    rfc: '§4.1.18',
    vars: { ...GET, HTTP_X_EMPTY: '' },
    expect: { HTTP_X_EMPTY: '' },
  },
  { rule: 'HTTPS=on gives https', rfc: 'C-09', vars: { ...GET, HTTPS: 'on' }, expect: { 'tsgi.url_scheme': 'https' } },
  { rule: 'HTTPS=ON gives https', rfc: 'C-09', vars: { ...GET, HTTPS: 'ON' }, expect: { 'tsgi.url_scheme': 'https' } },
  { rule: 'HTTPS=1 gives https', rfc: 'C-09', vars: { ...GET, HTTPS: '1' }, expect: { 'tsgi.url_scheme': 'https' } },
  { rule: 'HTTPS=off gives http', rfc: 'C-09', vars: { ...GET, HTTPS: 'off' }, expect: { 'tsgi.url_scheme': 'http' } },
  {
    rule: 'REQUEST_SCHEME=https gives https',
    rfc: 'C-09',
    vars: { ...GET, REQUEST_SCHEME: 'https' },
    expect: { 'tsgi.url_scheme': 'https' },
  },
  { rule: 'no HTTPS and no REQUEST_SCHEME gives http', rfc: 'C-09', vars: GET, expect: { 'tsgi.url_scheme': 'http' } },
  {
    rule: 'SERVER_NAME missing comes from HTTP_HOST without its port',
    rfc: '§4.1.14',
    vars: { ...GET, HTTP_HOST: 'example.org:8080' },
    expect: { SERVER_NAME: 'example.org', SERVER_PORT: '80' },
  },
  {
    rule: 'SERVER_NAME from an IPv6 Host keeps its brackets',
    rfc: '§4.1.14',
    vars: { ...GET, HTTP_HOST: '[::1]:8080' },
    expect: { SERVER_NAME: '[::1]' },
  },
  { rule: 'SERVER_NAME with no Host is localhost', rfc: '§4.1.14', vars: GET, expect: { SERVER_NAME: 'localhost' } },
  {
    rule: 'SERVER_NAME and SERVER_PORT given are kept',
    rfc: '§4.1.14, §4.1.15',
    vars: { ...GET, SERVER_NAME: 'a.test', SERVER_PORT: '8443', HTTP_HOST: 'b.test' },
    expect: { SERVER_NAME: 'a.test', SERVER_PORT: '8443' },
  },
  {
    rule: 'SERVER_PORT missing over https is 443',
    rfc: '§4.1.15',
    vars: { ...GET, HTTPS: 'on' },
    expect: { SERVER_PORT: '443' },
  },
  {
    rule: 'HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH (nginx, lighttpd) are dropped: CONTENT_* carry them',
    rfc: '§4.1.18',
    vars: {
      ...GET,
      CONTENT_TYPE: 'text/plain',
      HTTP_CONTENT_TYPE: 'text/plain',
      HTTP_CONTENT_LENGTH: '3',
      CONTENT_LENGTH: '3',
    },
    expect: { HTTP_CONTENT_TYPE: ABSENT, HTTP_CONTENT_LENGTH: ABSENT, CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '3' },
  },
  {
    rule: 'the Proxy header (HTTP_PROXY) stays in environ: httpoxy is about process.env',
    rfc: '§4.1.18, S-01',
    vars: { ...GET, HTTP_PROXY: 'http://evil:8080' },
    expect: { HTTP_PROXY: 'http://evil:8080' },
  },
  {
    rule: 'a shellshock-style value reaches the app byte-exact',
    rfc: 'S-02',
    vars: { ...GET, HTTP_USER_AGENT: '() { :;}; echo vulnerable' },
    expect: { HTTP_USER_AGENT: '() { :;}; echo vulnerable' },
  },
  {
    rule: 'repeated HTTP_COOKIE params (nginx 1.22) join with "; "',
    rfc: '§4.1.18, S-18',
    vars: [
      ['REQUEST_METHOD', 'GET'],
      ['HTTP_COOKIE', 'a=1'],
      ['HTTP_COOKIE', 'b=2'],
    ],
    expect: { HTTP_COOKIE: 'a=1; b=2' },
  },
  {
    rule: 'other repeated HTTP_* params join with ", "',
    rfc: '§4.1.18, S-18',
    vars: [
      ['REQUEST_METHOD', 'GET'],
      ['HTTP_X_DUP', '1'],
      ['HTTP_X_DUP', '2'],
      ['HTTP_X_DUP', '3'],
    ],
    expect: { HTTP_X_DUP: '1, 2, 3' },
  },
  {
    rule: 'lighttpd maps X-Under_score onto HTTP_X_UNDER_SCORE: merged like a repeat',
    rfc: '§4.1.18, S-18',
    vars: [
      ['REQUEST_METHOD', 'GET'],
      ['HTTP_X_UNDER_SCORE', 'dash'],
      ['HTTP_X_UNDER_SCORE', 'under'],
    ],
    expect: { HTTP_X_UNDER_SCORE: 'dash, under' },
  },
  {
    rule: 'a repeated non-HTTP param: the last wins',
    rfc: '§4.1',
    vars: [
      ['REQUEST_METHOD', 'GET'],
      ['SCRIPT_NAME', '/a'],
      ['SCRIPT_NAME', '/b'],
    ],
    expect: { SCRIPT_NAME: '/b' },
  },
  {
    rule: 'a repeated CONTENT_LENGTH param: the last wins',
    rfc: '§4.1.2',
    vars: [
      ['REQUEST_METHOD', 'POST'],
      ['CONTENT_LENGTH', ''],
      ['CONTENT_LENGTH', '5'],
    ],
    expect: { CONTENT_LENGTH: '5' },
  },
  {
    rule: 'other variables (REQUEST_URI, DOCUMENT_ROOT, PATH) pass through',
    rfc: 'C-09',
    vars: { ...GET, REQUEST_URI: '/x?y', DOCUMENT_ROOT: '/srv', PATH: '/bin' },
    expect: { REQUEST_URI: '/x?y', DOCUMENT_ROOT: '/srv', PATH: '/bin' },
  },
  {
    rule: 'undefined values in a record are skipped',
    rfc: '§4.1',
    vars: { ...GET, AUTH_TYPE: undefined },
    expect: { AUTH_TYPE: ABSENT },
  },
]

describe('buildEnviron: RFC 3875 §4.1 meta-variables', () => {
  it.each(ROWS)('$rfc: $rule', ({ vars, expect: expected }) => {
    const environ = buildEnviron(vars, gateway())
    for (const [key, value] of Object.entries(expected)) {
      if (value === ABSENT) expect(Object.hasOwn(environ, key), key).toBe(false)
      else expect(environ[key], key).toBe(value)
    }
    // Never store undefined (SPEC §3).
    for (const [key, value] of Object.entries(environ)) expect(value, key).not.toBeUndefined()
  })
})

interface ErrorRow {
  rule: string
  rfc: string
  vars: CgiVars
  code: string
  status: number
  message: string
}

const ERROR_ROWS: ErrorRow[] = [
  {
    rule: 'REQUEST_METHOD missing',
    rfc: '§4.1.12',
    vars: { SERVER_PROTOCOL: 'HTTP/1.1' },
    code: 'ERR_CGI_ENVIRONMENT',
    status: 500,
    message: 'cgi: no REQUEST_METHOD among the CGI variables from the web server (are they all passed?)',
  },
  {
    rule: "REQUEST_METHOD ''",
    rfc: '§4.1.12',
    vars: { REQUEST_METHOD: '' },
    code: 'ERR_CGI_ENVIRONMENT',
    status: 500,
    message: 'cgi: no REQUEST_METHOD among the CGI variables from the web server (are they all passed?)',
  },
  {
    rule: 'REQUEST_METHOD not a token',
    rfc: '§4.1.12',
    vars: { REQUEST_METHOD: 'GET /x' },
    code: 'ERR_CGI_ENVIRONMENT',
    status: 500,
    message: 'cgi: invalid REQUEST_METHOD "GET /x"',
  },
  {
    rule: 'CONTENT_LENGTH negative (but "-1", Caddy\'s unknown length: C-23)',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '-2' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH "-2"',
  },
  {
    rule: 'CONTENT_LENGTH with a space',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: ' 5' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH " 5"',
  },
  {
    rule: 'CONTENT_LENGTH with trailing junk',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '5x' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH "5x"',
  },
  {
    rule: 'CONTENT_LENGTH in exponent form',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '1e3' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH "1e3"',
  },
  {
    rule: 'CONTENT_LENGTH in hex',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '0x10' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH "0x10"',
  },
  {
    rule: 'CONTENT_LENGTH past 2^53',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '99999999999999999999' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH "99999999999999999999"',
  },
  {
    rule: 'CONTENT_LENGTH with a newline',
    rfc: '§4.1.2',
    vars: { ...GET, CONTENT_LENGTH: '5\n' },
    code: 'ERR_CGI_BAD_CONTENT_LENGTH',
    status: 400,
    message: 'cgi: bad CONTENT_LENGTH "5\\n"',
  },
]

describe('buildEnviron: environments it refuses', () => {
  it.each(ERROR_ROWS)('$rfc: $rule', ({ vars, code, status, message }) => {
    let caught: unknown
    try {
      buildEnviron(vars, gateway())
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(TsgiError)
    expect(caught).toMatchObject({ code, status, message })
  })
})

describe('buildEnviron: the gateway keys (SPEC §3.2)', () => {
  it('sets every tsgi.* key from the gateway', () => {
    const input = BodyInput.empty()
    const errors = { write: () => {} }
    const signal = new AbortController().signal
    const environ = buildEnviron(GET, { input, errors, signal, multithread: true, multiprocess: false, runOnce: false })
    expect(environ['tsgi.version']).toEqual([1, 0])
    expect(environ['tsgi.input']).toBe(input)
    expect(environ['tsgi.errors']).toBe(errors)
    expect(environ['tsgi.signal']).toBe(signal)
    expect(environ['tsgi.multithread']).toBe(true)
    expect(environ['tsgi.multiprocess']).toBe(false)
    expect(environ['tsgi.run_once']).toBe(false)
    expect(Object.hasOwn(environ, 'tsgi.fastcgi.role')).toBe(false)
  })

  it('a lazy tsgi.signal (RequestAbort) is an own enumerable key, made on first read, copied by spread', () => {
    const abort = new RequestAbort()
    const environ = buildEnviron(GET, gateway({ signal: abort }))
    expect(Object.keys(environ)).toContain('tsgi.signal')
    expect(Object.getOwnPropertyDescriptor(environ, 'tsgi.signal')?.enumerable).toBe(true)
    const signal = environ['tsgi.signal']
    expect(signal).toBeInstanceOf(AbortSignal)
    expect(environ['tsgi.signal']).toBe(signal) // one signal per request, not one per read
    const copy = { ...environ }
    expect(copy['tsgi.signal']).toBe(signal)
    abort.abort(new Error('gone'))
    expect(signal.aborted).toBe(true)
    // Two environs never share a signal: the getter is shared, the state is per request.
    const other = buildEnviron(GET, gateway({ signal: new RequestAbort() }))
    expect(other['tsgi.signal'].aborted).toBe(false)
  })

  it('never takes tsgi.* names from the peer (pairs or record)', () => {
    const fake = 'not an input'
    const fromPairs = buildEnviron(
      [
        ['REQUEST_METHOD', 'GET'],
        ['tsgi.input', fake],
        ['tsgi.url_scheme', 'https'],
      ],
      gateway(),
    )
    expect(fromPairs['tsgi.input']).not.toBe(fake)
    expect(fromPairs['tsgi.url_scheme']).toBe('http')
    const fromRecord = buildEnviron({ ...GET, 'tsgi.run_once': 'false', 'tsgi.extra': 'x' }, gateway())
    expect(fromRecord['tsgi.run_once']).toBe(true)
    expect(Object.hasOwn(fromRecord, 'tsgi.extra')).toBe(false)
  })

  it('keeps a variable named __proto__ as plain data', () => {
    const environ = buildEnviron(
      [
        ['REQUEST_METHOD', 'GET'],
        ['__proto__', 'x'],
      ],
      gateway(),
    )
    expect(Object.getPrototypeOf(environ)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(environ, '__proto__')?.value).toBe('x')
  })

  it('lets the gateway override the scheme (the dev server knows its listener)', () => {
    expect(buildEnviron({ ...GET, HTTPS: 'on' }, gateway({ urlScheme: 'http' }))['tsgi.url_scheme']).toBe('http')
    expect(buildEnviron(GET, gateway({ urlScheme: 'https' }))).toMatchObject({
      'tsgi.url_scheme': 'https',
      SERVER_PORT: '443',
    })
  })

  it('calls an input factory with the parsed CONTENT_LENGTH', () => {
    const seen: Array<number | undefined> = []
    const factory = (length: number | undefined): InputStream => {
      seen.push(length)
      return BodyInput.empty()
    }
    buildEnviron({ ...GET, CONTENT_LENGTH: '042' }, gateway({ input: factory }))
    buildEnviron({ ...GET, CONTENT_LENGTH: '' }, gateway({ input: factory }))
    expect(seen).toEqual([42, undefined])
  })

  it('does not call the input factory when the environment is refused', () => {
    let calls = 0
    const factory = (): InputStream => {
      calls++
      return BodyInput.empty()
    }
    expect(() => buildEnviron({ ...GET, CONTENT_LENGTH: 'x' }, gateway({ input: factory }))).toThrow(TsgiError)
    expect(calls).toBe(0)
  })

  it('sets the FastCGI role, DATA stream and extension keys, skipping undefined extras', () => {
    const data = BodyInput.empty()
    const environ = buildEnviron(
      GET,
      gateway({ fastcgiRole: 'FILTER', fastcgiData: data, extras: { 'x.a': 1, 'x.b': undefined } }),
    )
    expect(environ['tsgi.fastcgi.role']).toBe('FILTER')
    expect(environ['tsgi.fastcgi.data']).toBe(data)
    expect(environ['x.a']).toBe(1)
    expect(Object.hasOwn(environ, 'x.b')).toBe(false)
  })
})

describe('contentLengthOf (RFC 3875 §4.1.2)', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['10485760', 10_485_760],
    ['9007199254740991', 9_007_199_254_740_991],
  ])('%j gives %j', (value, length) => {
    expect(contentLengthOf(value)).toBe(length)
  })

  it.each(['+1', '1.0', '٣', '9007199254740992', 'abc'])('refuses %j with status 400', (value) => {
    expect(() => contentLengthOf(value)).toThrow(
      expect.objectContaining({ code: 'ERR_CGI_BAD_CONTENT_LENGTH', status: 400 }),
    )
  })
})
