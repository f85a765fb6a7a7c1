// validate(): the gateway side, the environ (SPEC §3). Each case breaks one rule and expects its message.
import { describe, expect, it } from 'vitest'
import hello from '../../examples/hello.js'
import type { StartResponse } from '../../src/app.js'
import { callApp } from '../../src/core/call.js'
import { TsgiError } from '../../src/errors.js'
import { validate } from '../../src/middleware/index.js'
import { BytesInput, gateway, serve } from './_fake-gateway.js'

const start: StartResponse = () => async () => {}

/** Calls the validated hello app with the fake gateway's environ, changed by `overrides`. */
function callWith(overrides: Record<string, unknown>): unknown {
  return callApp(validate(hello), gateway(overrides).environ, start)
}

function expectViolation(overrides: Record<string, unknown>, message: RegExp): void {
  let error: unknown
  try {
    callWith(overrides)
  } catch (err) {
    error = err
  }
  expect(error).toBeInstanceOf(TsgiError)
  expect((error as TsgiError).code).toBe('ERR_VALIDATION')
  expect((error as TsgiError).message).toMatch(/^tsgi\.validate: /)
  expect((error as TsgiError).message).toMatch(message)
}

describe('validate: the environ a gateway provides (SPEC §3)', () => {
  it('accepts a complete environ, extension keys of any type and HTTP_PROXY (kept for the app, SPEC §7)', async () => {
    const g = gateway({ 'myapp.session': { user: 1 }, HTTP_PROXY: 'http://evil', REQUEST_URI: '/?a=%E9' })
    const served = await serve(validate(hello), g)
    expect(served.error).toBeUndefined()
    expect(served.status).toBe('200 OK')
    expect(served.text).toBe('Hello world!\n')
  })

  it('requires a plain object', () => {
    expect(() => callApp(validate(hello), new Map() as never, start)).toThrow(/environ must be a plain object, got Map/)
  })

  it.each([
    'REQUEST_METHOD',
    'SCRIPT_NAME',
    'PATH_INFO',
    'QUERY_STRING',
    'SERVER_NAME',
    'SERVER_PORT',
    'SERVER_PROTOCOL',
    'tsgi.version',
    'tsgi.url_scheme',
    'tsgi.input',
    'tsgi.errors',
    'tsgi.multithread',
    'tsgi.multiprocess',
    'tsgi.run_once',
    'tsgi.signal',
  ])('requires %s', (key) => {
    expectViolation({ [key]: undefined }, new RegExp(`environ is missing ${key.replace('.', '\\.')}`))
  })

  it('rejects a key stored as undefined (absent means missing)', () => {
    const g = gateway()
    g.environ.REMOTE_USER = undefined
    expect(() => callApp(validate(hello), g.environ, start)).toThrow(/environ\.REMOTE_USER is undefined/)
  })

  it('requires string values for CGI keys', () => {
    expectViolation({ HTTP_X_COUNT: 5 }, /environ\.HTTP_X_COUNT must be a string, got number 5/)
  })

  it('rejects an empty optional meta-variable (nginx sends CONTENT_LENGTH="")', () => {
    expectViolation({ CONTENT_LENGTH: '' }, /environ\.CONTENT_LENGTH is empty/)
  })

  it.each(['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH'])('rejects %s', (key) => {
    expectViolation({ [key]: 'x' }, new RegExp(`environ has ${key}: the header belongs in ${key.slice(5)}`))
  })

  it.each(['HTTP_X-DASH', 'HTTP_X.DOT', 'HTTP_lower'])('rejects the key %s, which a header must not produce', (key) => {
    expectViolation(
      { [key]: '1' },
      new RegExp(`environ key "${key.replace('.', '\\.')}" is not HTTP_ followed by \\[A-Z0-9_\\]`),
    )
  })

  it('reserves the tsgi. prefix', () => {
    expectViolation({ 'tsgi.raw_env': {} }, /environ\.tsgi\.raw_env: the tsgi\. prefix is reserved/)
  })

  it.each(['', 'GET POST', 'GET\n'])('requires REQUEST_METHOD to be a token, not %j', (method) => {
    expectViolation({ REQUEST_METHOD: method }, /REQUEST_METHOD must be an HTTP token/)
  })

  it('requires SCRIPT_NAME to be empty or start with /', () => {
    expectViolation({ SCRIPT_NAME: 'app' }, /SCRIPT_NAME must be '' or start with '\/', got "app"/)
  })

  it('rejects SCRIPT_NAME "/"', () => {
    expectViolation({ SCRIPT_NAME: '/' }, /SCRIPT_NAME must not be '\/'/)
  })

  it('requires PATH_INFO to be empty or start with /', () => {
    expectViolation({ PATH_INFO: 'hello' }, /PATH_INFO must be '' or start with '\/', got "hello"/)
  })

  it('requires a non-empty SERVER_NAME', () => {
    expectViolation({ SERVER_NAME: '' }, /SERVER_NAME must not be empty/)
  })

  it('requires SERVER_PORT digits', () => {
    expectViolation({ SERVER_PORT: 'http' }, /SERVER_PORT must be digits, got "http"/)
  })

  it('requires SERVER_PROTOCOL HTTP/n.n or INCLUDED', () => {
    expectViolation({ SERVER_PROTOCOL: 'Foo' }, /SERVER_PROTOCOL must be HTTP\/n\.n or INCLUDED, got "Foo"/)
    expect(() => callWith({ SERVER_PROTOCOL: 'INCLUDED' })).not.toThrow()
  })

  it('requires CONTENT_LENGTH digits when present', () => {
    expectViolation({ CONTENT_LENGTH: '-1' }, /CONTENT_LENGTH must be digits, got "-1"/)
  })

  it('rejects PATH_TRANSLATED without PATH_INFO (RFC 3875 §4.1.6)', () => {
    expectViolation({ PATH_INFO: '', PATH_TRANSLATED: '/var/www' }, /PATH_TRANSLATED must be absent/)
  })

  it('requires GATEWAY_INTERFACE CGI/n.n when present', () => {
    expectViolation({ GATEWAY_INTERFACE: 'CGI' }, /GATEWAY_INTERFACE must be CGI\/n\.n, got "CGI"/)
  })

  it.each([[[2, 0]], ['1.0'], [[1]]])('requires tsgi.version [1, minor], not %j', (version) => {
    expectViolation({ 'tsgi.version': version }, /tsgi\.version must be \[1, minor\]/)
  })

  it('requires tsgi.url_scheme http or https', () => {
    expectViolation({ 'tsgi.url_scheme': 'ftp' }, /tsgi\.url_scheme must be 'http' or 'https', got string "ftp"/)
  })

  it.each(['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once'])('requires %s to be a boolean', (key) => {
    expectViolation({ [key]: 'yes' }, new RegExp(`${key.replace('.', '\\.')} must be a boolean, got string "yes"`))
  })

  it('requires tsgi.signal to be an AbortSignal', () => {
    expectViolation({ 'tsgi.signal': {} }, /tsgi\.signal must be an AbortSignal, got object/)
  })

  it('requires tsgi.input to have read() and async iteration', () => {
    expectViolation(
      { 'tsgi.input': { read: async () => new Uint8Array() } },
      /tsgi\.input must have read\(\) and \[Symbol\.asyncIterator\]\(\)/,
    )
  })

  it('requires tsgi.errors to have write()', () => {
    expectViolation({ 'tsgi.errors': { log: () => {} } }, /tsgi\.errors must have a write\(\) method/)
  })

  it('requires tsgi.errors.flush to be a method when present', () => {
    expectViolation({ 'tsgi.errors': { write: () => {}, flush: true } }, /tsgi\.errors\.flush must be a method/)
  })

  it('requires a known tsgi.fastcgi.role', () => {
    expectViolation({ 'tsgi.fastcgi.role': 'BOSS' }, /tsgi\.fastcgi\.role must be RESPONDER, AUTHORIZER or FILTER/)
  })

  it('requires tsgi.fastcgi.data exactly for the FILTER role', () => {
    const data = new BytesInput(new Uint8Array(0))
    expectViolation({ 'tsgi.fastcgi.role': 'FILTER' }, /tsgi\.fastcgi\.data must be present if and only if/)
    expectViolation({ 'tsgi.fastcgi.role': 'RESPONDER', 'tsgi.fastcgi.data': data }, /if and only if/)
    expectViolation(
      { 'tsgi.fastcgi.role': 'FILTER', 'tsgi.fastcgi.data': {} },
      /tsgi\.fastcgi\.data must have read\(\)/,
    )
    expect(() => callWith({ 'tsgi.fastcgi.role': 'FILTER', 'tsgi.fastcgi.data': data })).not.toThrow()
  })

  it('requires startResponse to be a function', () => {
    const app = validate(hello) as (...args: unknown[]) => unknown
    expect(() => app(gateway().environ, 'start')).toThrow(/startResponse must be a function, got string "start"/)
  })

  it('requires exactly two arguments', () => {
    const app = validate(hello) as (...args: unknown[]) => unknown
    expect(() => app(gateway().environ)).toThrow(/an app is called with \(environ, startResponse\), got 1 arguments/)
  })

  it('refuses to wrap something that is not an app (SPEC §2)', () => {
    expect(() => validate({} as never)).toThrow(/validate\(\) needs an application, got object/)
  })
})
