// The gateway side of the validator: the environ a gateway builds for one request (SPEC §3).
// Checked before the app runs, so a gateway bug shows up as a 500 naming the bad key.
import type { Environ } from '../../app.js'
import { TOKEN } from '../../core/http.js'
import { OPTIONAL_META } from '../../protocol/cgi/environ.js'
import { describe, show, violation } from './common.js'

const REQUIRED_CGI = [
  'REQUEST_METHOD',
  'SCRIPT_NAME',
  'PATH_INFO',
  'QUERY_STRING',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
]
const REQUIRED_TSGI = [
  'tsgi.version',
  'tsgi.url_scheme',
  'tsgi.input',
  'tsgi.errors',
  'tsgi.multithread',
  'tsgi.multiprocess',
  'tsgi.run_once',
  'tsgi.signal',
]
const KNOWN_TSGI = new Set([...REQUIRED_TSGI, 'tsgi.fastcgi.role', 'tsgi.fastcgi.data', 'tsgi.fastcgi.connection_id'])
const ROLES = new Set(['RESPONDER', 'AUTHORIZER', 'FILTER'])
const HTTP_KEY = /^HTTP_[A-Z0-9_]+$/
const DIGITS = /^\d+$/
const PROTOCOL = /^(HTTP\/\d(\.\d)?|INCLUDED)$/
const GATEWAY_INTERFACE = /^CGI\/\d+\.\d+$/

/** Throws an ERR_VALIDATION naming the first rule of SPEC §3 the environ breaks. */
export function checkEnviron(environ: unknown): asserts environ is Environ {
  if (!isPlainObject(environ)) throw violation(`environ must be a plain object, got ${describe(environ)}`)
  for (const key of [...REQUIRED_CGI, ...REQUIRED_TSGI]) {
    if (!Object.hasOwn(environ, key)) throw violation(`environ is missing ${key} (SPEC §3)`)
  }
  for (const key of Object.keys(environ)) checkKey(key, environ[key])
  checkRequest(environ as Environ)
  checkGatewayKeys(environ as Environ)
}

function checkKey(key: string, value: unknown): void {
  if (value === undefined) throw violation(`environ.${key} is undefined: leave an absent variable out (SPEC §3)`)
  if (key.startsWith('tsgi.') && !KNOWN_TSGI.has(key)) {
    throw violation(`environ.${key}: the tsgi. prefix is reserved; use your own prefix for extensions (SPEC §3.4)`)
  }
  // Checked before the dot rule: a header named `X.Foo` must not pass for an extension key (SPEC §3.1).
  if (key.startsWith('HTTP_') && !HTTP_KEY.test(key)) {
    throw violation(`environ key ${show(key)} is not HTTP_ followed by [A-Z0-9_] (SPEC §3.1)`)
  }
  if (key.includes('.')) return
  if (typeof value !== 'string') throw violation(`environ.${key} must be a string, got ${describe(value)} (SPEC §3.1)`)
  // RFC 3875 §4.1 treats NULL and empty alike: an empty optional meta-variable must be left out (SPEC §3.1).
  if (value === '' && OPTIONAL_META.has(key)) {
    throw violation(`environ.${key} is empty: leave an absent meta-variable out (SPEC §3.1)`)
  }
  if (key === 'HTTP_CONTENT_TYPE' || key === 'HTTP_CONTENT_LENGTH') {
    throw violation(`environ has ${key}: the header belongs in ${key.slice(5)} (SPEC §3.1)`)
  }
}

function checkRequest(env: Environ): void {
  if (!TOKEN.test(env.REQUEST_METHOD)) {
    throw violation(`REQUEST_METHOD must be an HTTP token, got ${show(env.REQUEST_METHOD)}`)
  }
  const script = env.SCRIPT_NAME
  if (script !== '' && !script.startsWith('/'))
    throw violation(`SCRIPT_NAME must be '' or start with '/', got ${show(script)}`)
  if (script === '/') throw violation(`SCRIPT_NAME must not be '/': make it '' and PATH_INFO '/' (SPEC §3.1)`)
  const path = env.PATH_INFO
  if (path !== '' && !path.startsWith('/')) throw violation(`PATH_INFO must be '' or start with '/', got ${show(path)}`)
  if (env.SERVER_NAME === '') throw violation('SERVER_NAME must not be empty')
  if (!DIGITS.test(env.SERVER_PORT)) throw violation(`SERVER_PORT must be digits, got ${show(env.SERVER_PORT)}`)
  if (!PROTOCOL.test(env.SERVER_PROTOCOL)) {
    throw violation(`SERVER_PROTOCOL must be HTTP/n.n or INCLUDED, got ${show(env.SERVER_PROTOCOL)}`)
  }
  if (env.CONTENT_LENGTH !== undefined && !DIGITS.test(env.CONTENT_LENGTH)) {
    throw violation(`CONTENT_LENGTH must be digits, got ${show(env.CONTENT_LENGTH)}`)
  }
  if (env.PATH_TRANSLATED !== undefined && path === '') {
    throw violation(`PATH_TRANSLATED must be absent when PATH_INFO is '' (RFC 3875 §4.1.6)`)
  }
  if (env.GATEWAY_INTERFACE !== undefined && !GATEWAY_INTERFACE.test(env.GATEWAY_INTERFACE)) {
    throw violation(`GATEWAY_INTERFACE must be CGI/n.n, got ${show(env.GATEWAY_INTERFACE)}`)
  }
}

function checkGatewayKeys(env: Environ): void {
  const version: unknown = env['tsgi.version']
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || !Number.isSafeInteger(version[1])) {
    throw violation(`tsgi.version must be [1, minor], got ${describe(version)}`)
  }
  const scheme: unknown = env['tsgi.url_scheme']
  if (scheme !== 'http' && scheme !== 'https') {
    throw violation(`tsgi.url_scheme must be 'http' or 'https', got ${describe(scheme)} (SPEC §3.2)`)
  }
  for (const key of ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once']) {
    if (typeof env[key] !== 'boolean') throw violation(`${key} must be a boolean, got ${describe(env[key])}`)
  }
  if (!(env['tsgi.signal'] instanceof AbortSignal)) {
    throw violation(`tsgi.signal must be an AbortSignal, got ${describe(env['tsgi.signal'])} (SPEC §3.3)`)
  }
  checkInputStream('tsgi.input', env['tsgi.input'])
  const errors = env['tsgi.errors'] as { write?: unknown; flush?: unknown } | null
  if (typeof errors !== 'object' || errors === null || typeof errors.write !== 'function') {
    throw violation(`tsgi.errors must have a write() method, got ${describe(errors)} (SPEC §3.3)`)
  }
  if (errors.flush !== undefined && typeof errors.flush !== 'function') {
    throw violation(`tsgi.errors.flush must be a method when present, got ${describe(errors.flush)}`)
  }
  checkFastcgiKeys(env)
}

function checkFastcgiKeys(env: Environ): void {
  const role: unknown = env['tsgi.fastcgi.role']
  if (role !== undefined && !ROLES.has(role as string)) {
    throw violation(`tsgi.fastcgi.role must be RESPONDER, AUTHORIZER or FILTER, got ${describe(role)} (SPEC §3.4)`)
  }
  const data: unknown = env['tsgi.fastcgi.data']
  if ((data !== undefined) !== (role === 'FILTER')) {
    throw violation('tsgi.fastcgi.data must be present if and only if tsgi.fastcgi.role is FILTER (SPEC §3.4)')
  }
  if (data !== undefined) checkInputStream('tsgi.fastcgi.data', data)
  const connection: unknown = env['tsgi.fastcgi.connection_id']
  if (
    connection !== undefined &&
    (role === undefined || !Number.isSafeInteger(connection) || (connection as number) < 1)
  ) {
    throw violation(
      `tsgi.fastcgi.connection_id must be a positive integer set with tsgi.fastcgi.role, got ${describe(connection)} (SPEC §3.4)`,
    )
  }
}

function checkInputStream(key: string, input: unknown): void {
  const stream = input as { read?: unknown; [Symbol.asyncIterator]?: unknown } | null
  if (
    typeof stream !== 'object' ||
    stream === null ||
    typeof stream.read !== 'function' ||
    typeof stream[Symbol.asyncIterator] !== 'function'
  ) {
    throw violation(`${key} must have read() and [Symbol.asyncIterator](), got ${describe(input)} (SPEC §3.3)`)
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
