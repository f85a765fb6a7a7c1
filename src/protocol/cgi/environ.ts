// Builds a TSGI environ from CGI meta-variables (RFC 3875 §4.1): process.env in CGI mode, FastCGI PARAMS
// pairs, or the dev server's synthesised variables. One builder for every gateway, so they agree on every rule.
// Pure: no node:* imports, no process.
import type { Environ, ErrorStream, FastcgiRole, InputStream } from '../../app.js'
import { type RequestAbort, setSignal } from '../../core/abort.js'
import { TOKEN } from '../../core/http.js'
import { TsgiError } from '../../errors.js'
import { pathBelowMount, serverNameOnly, unknownLength } from './repair.js'

/** process.env-like record (CGI) or ordered name/value pairs that may repeat a name (FastCGI PARAMS). */
export type CgiVars = Readonly<Record<string, string | undefined>> | ReadonlyArray<readonly [string, string]>

/** What the gateway itself supplies: the `tsgi.*` keys (SPEC §3.2, §3.3). */
export interface GatewayKeys {
  /**
   * The request body, or a factory given the parsed CONTENT_LENGTH (undefined: absent, read to EOF).
   * The factory form lets a gateway size its BodyInput without parsing CONTENT_LENGTH twice.
   */
  input: InputStream | ((contentLength: number | undefined) => InputStream)
  errors: ErrorStream
  /** tsgi.signal, or the gateway's RequestAbort, which makes the signal when the app first reads it. */
  signal: AbortSignal | RequestAbort
  multithread: boolean
  multiprocess: boolean
  runOnce: boolean
  /** Overrides the scheme derived from HTTPS / REQUEST_SCHEME (the dev server knows its listener). */
  urlScheme?: 'http' | 'https'
  /** `tsgi.fastcgi.role` (SPEC §3.4). */
  fastcgiRole?: FastcgiRole
  /** `tsgi.fastcgi.data`: the Filter role's DATA stream (SPEC §3.4). */
  fastcgiData?: InputStream
  /** Extension keys (`x.y` names); undefined values are skipped. */
  extras?: Readonly<Record<string, unknown>>
}

// RFC 3875 §4.1: "a meta-variable with a zero-length value is NULL" and NULL equals unset. For these
// optional variables an empty value is dropped, so '' and absent behave the same (C-03); nginx sends
// CONTENT_TYPE='' on every GET. HTTP_* values stay: an empty header value is a real value.
export const OPTIONAL_META: ReadonlySet<string> = new Set([
  'AUTH_TYPE',
  'CONTENT_LENGTH',
  'CONTENT_TYPE',
  'GATEWAY_INTERFACE',
  'PATH_TRANSLATED',
  'REMOTE_ADDR',
  'REMOTE_HOST',
  'REMOTE_IDENT',
  'REMOTE_USER',
  'SERVER_SOFTWARE',
])

const DIGITS = /^[0-9]+$/

/**
 * Builds the environ (SPEC §3). Throws TsgiError ERR_CGI_ENVIRONMENT (500) without a usable REQUEST_METHOD
 * and ERR_CGI_BAD_CONTENT_LENGTH (400) for a CONTENT_LENGTH that is not digits.
 *
 * Decisions (each tested in test/cgi/environ.test.ts):
 * - SERVER_PROTOCOL missing or '' becomes 'HTTP/1.0': RFC 3875 §4.1.16 makes it the server's duty, but
 *   `cgi-fcgi` and hand-run scripts omit it, and HTTP/1.0 is the version every client understands.
 * - SCRIPT_NAME '/' becomes '' and, when SCRIPT_NAME is '', PATH_INFO gets a leading '/' (so '' becomes '/').
 *   Otherwise PATH_INFO '' stays '' (the app's root without a trailing slash). This satisfies both
 *   PEP 3333 and Rack::Lint ("SCRIPT_NAME must not be /", "PATH_INFO should be / if SCRIPT_NAME is empty").
 * - PATH_INFO is taken as the server decoded it (RFC 3875 §4.1.5): `%2F` arrives as '/', and bytes that
 *   are not UTF-8 arrive as U+FFFD because Node decodes the environment as UTF-8. REQUEST_URI, when the
 *   server sends it, is still percent-encoded and is the byte-exact source for routing (S-23).
 * - No path arithmetic between SCRIPT_FILENAME and PATH_INFO (CVE-2019-11043); CR, LF and NUL in any
 *   value are kept as they came, never interpreted.
 */
export function buildEnviron(vars: CgiVars, gateway: GatewayKeys): Environ {
  const env = fill(vars, new EnvironShape())
  const method = env.REQUEST_METHOD
  if (method === undefined || method === '') {
    // The web server sent no CGI variables at all, or not this one (nginx: a location that sets its own
    // fastcgi_param lines inherits none of the server's).
    const why = 'cgi: no REQUEST_METHOD among the CGI variables from the web server (are they all passed?)'
    throw new TsgiError('ERR_CGI_ENVIRONMENT', why, { status: 500 })
  }
  // RFC 3875 §4.1.12: a method is an HTTP token.
  if (!TOKEN.test(method)) {
    throw new TsgiError('ERR_CGI_ENVIRONMENT', `cgi: invalid REQUEST_METHOD ${JSON.stringify(method)}`, {
      status: 500,
    })
  }
  const contentLength = contentLengthOf(env.CONTENT_LENGTH)
  if (contentLength !== undefined) env.CONTENT_LENGTH = String(contentLength)
  else if (env.CONTENT_LENGTH !== undefined) delete env.CONTENT_LENGTH

  if (!env.SERVER_PROTOCOL) env.SERVER_PROTOCOL = 'HTTP/1.0'
  if (env.QUERY_STRING === undefined) env.QUERY_STRING = ''
  normalisePaths(env)
  const scheme = gateway.urlScheme ?? urlSchemeOf(env)
  serverFallbacks(env, scheme)

  const out = env as Record<string, unknown>
  out['tsgi.version'] = TSGI_VERSION
  out['tsgi.url_scheme'] = scheme
  out['tsgi.input'] = typeof gateway.input === 'function' ? gateway.input(contentLength) : gateway.input
  out['tsgi.errors'] = gateway.errors
  out['tsgi.multithread'] = gateway.multithread
  out['tsgi.multiprocess'] = gateway.multiprocess
  out['tsgi.run_once'] = gateway.runOnce
  setSignal(out, gateway.signal)
  if (gateway.fastcgiRole !== undefined) out['tsgi.fastcgi.role'] = gateway.fastcgiRole
  if (gateway.fastcgiData !== undefined) out['tsgi.fastcgi.data'] = gateway.fastcgiData
  if (gateway.extras !== undefined) {
    for (const [key, value] of Object.entries(gateway.extras)) if (value !== undefined) out[key] = value
  }
  return out as Environ
}

const TSGI_VERSION: readonly [number, number] = Object.freeze([1, 0] as const)

/**
 * Parses CONTENT_LENGTH (RFC 3875 §4.1.2): undefined when absent, '' (nginx sends '' on GET) or Caddy's
 * "-1" (C-23), else a non-negative safe integer. Anything but digits is ERR_CGI_BAD_CONTENT_LENGTH (status 400).
 */
export function contentLengthOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || unknownLength(value)) return undefined
  const length = DIGITS.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(length)) {
    throw new TsgiError('ERR_CGI_BAD_CONTENT_LENGTH', `cgi: bad CONTENT_LENGTH ${JSON.stringify(value)}`, {
      status: 400,
    })
  }
  return length
}

/** `https` when HTTPS is on/1 (any case) or REQUEST_SCHEME is https (C-09), else `http`. */
export function urlSchemeOf(env: Readonly<Record<string, string | undefined>>): 'http' | 'https' {
  const https = env.HTTPS?.toLowerCase()
  if (https === 'on' || https === '1') return 'https'
  return env.REQUEST_SCHEME?.toLowerCase() === 'https' ? 'https' : 'http'
}

type Vars = Record<string, string | undefined>

/**
 * Reads the variables into a plain object. Pairs may repeat a name (nginx < 1.23 sends one HTTP_COOKIE
 * param per Cookie header): RFC 3875 §4.1.18 says to merge them, Cookie with '; ' (RFC 6265 §5.4) and
 * other headers with ', ' (RFC 9110 §5.3); a repeated non-HTTP variable is a server bug and the last one
 * wins. Names starting with `tsgi.` are reserved for the gateway (SPEC §3.2) and never taken from the
 * peer; HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH (nginx, lighttpd) are dropped: the body's headers travel
 * as CONTENT_TYPE / CONTENT_LENGTH only (RFC 3875 §4.1.18, SPEC §3.1). Empty optional variables are NULL,
 * i.e. absent (RFC 3875 §4.1).
 */
export function mergeVars(vars: CgiVars): Vars {
  return fill(vars, {})
}

function fill(vars: CgiVars, env: Vars): Vars {
  if (isPairs(vars)) {
    for (let i = 0; i < vars.length; i++) {
      const pair = vars[i]!
      const name = pair[0]
      let value = pair[1]
      if (name.startsWith('HTTP_')) {
        const previous = env[name]
        if (previous !== undefined) value = previous + (name === 'HTTP_COOKIE' ? '; ' : ', ') + value
      }
      put(env, name, value)
    }
  } else {
    for (const name of Object.keys(vars)) {
      const value = vars[name]
      if (typeof value === 'string') put(env, name, value)
    }
  }
  return env
}

/**
 * The object an environ is built in: a plain object (SPEC §3) that starts with the keys every environ
 * has. A constructor sets them so V8 reserves room for a browser request's ~35 variables and keeps the
 * object fast; a plain function, not a class, so that instances can have Object.prototype like `{}`
 * (docs/performance.md, "The environ's shape"). Each '' means what absent means for that key.
 */
const EnvironShape = function (this: Vars): void {
  this.REQUEST_METHOD = ''
  this.QUERY_STRING = ''
  this.SCRIPT_NAME = ''
  this.PATH_INFO = ''
  this.SERVER_PROTOCOL = ''
  this.SERVER_NAME = ''
  this.SERVER_PORT = ''
  this['tsgi.version'] = undefined
  this['tsgi.url_scheme'] = undefined
  this['tsgi.input'] = undefined
  this['tsgi.errors'] = undefined
  this['tsgi.multithread'] = undefined
  this['tsgi.multiprocess'] = undefined
  this['tsgi.run_once'] = undefined
} as unknown as EnvironConstructor
EnvironShape.prototype = Object.prototype

type EnvironConstructor = new () => Vars

function put(env: Vars, name: string, value: string): void {
  if (name.startsWith('tsgi.') || name === 'HTTP_CONTENT_TYPE' || name === 'HTTP_CONTENT_LENGTH') return
  if (value === '' && OPTIONAL_META.has(name)) {
    // Skipped, not stored then deleted: a delete turns the object into a slow dictionary (nginx sends
    // CONTENT_TYPE='' and CONTENT_LENGTH='' on every GET).
    if (env[name] !== undefined) delete env[name]
  }
  // A variable named __proto__ must stay plain data, not replace the object's prototype.
  else if (name === '__proto__')
    Object.defineProperty(env, name, { value, writable: true, enumerable: true, configurable: true })
  else env[name] = value
}

function isPairs(vars: CgiVars): vars is ReadonlyArray<readonly [string, string]> {
  return Array.isArray(vars)
}

// RFC 3875 §4.1.13 (SCRIPT_NAME) and §4.1.5 (PATH_INFO); the rule is explained on buildEnviron.
function normalisePaths(env: Vars): void {
  let script = env.SCRIPT_NAME ?? ''
  let path = env.PATH_INFO ?? ''
  if (script === '/') script = ''
  if (script === '' && !path.startsWith('/')) path = `/${path}`
  else path = pathBelowMount(script, path, env.REQUEST_URI) ?? path
  env.SCRIPT_NAME = script
  env.PATH_INFO = path
}

// RFC 3875 §4.1.14 and §4.1.15 make SERVER_NAME and SERVER_PORT mandatory; when a server leaves them
// out, use the Host header (RFC 9110 §7.2), then the scheme's default port.
function serverFallbacks(env: Vars, scheme: 'http' | 'https'): void {
  if (!env.SERVER_NAME) env.SERVER_NAME = serverNameOnly(env.HTTP_HOST ?? '') || env.SERVER_ADDR || 'localhost'
  else env.SERVER_NAME = serverNameOnly(env.SERVER_NAME)
  if (!env.SERVER_PORT) env.SERVER_PORT = scheme === 'https' ? '443' : '80'
}
