// localRedirects(app): RFC 3875 §6.2.2 local redirects done inside the app process, for web servers that
// do not do them for FastCGI. Apache mod_proxy_fcgi passes `200 + Location: /path` to the client as is (an
// empty 200); nginx and lighttpd answer 302 (docs/COMPATIBILITY.md). Opt-in; harmless where servers do them.
import type { App, AppFunction, Body, Chunk, Environ, HeaderList, InputStream, StartResponse, Write } from '../app.js'
import { callApp, isApp } from '../core/call.js'
import { TsgiError } from '../errors.js'
import { localRedirectOf } from '../protocol/cgi/redirect.js'

export interface LocalRedirectOptions {
  /** Local redirects in a row before answering 500 (Apache's LimitInternalRecursion default). Default 10. */
  maxRedirects?: number
}

/**
 * Wraps `app` so that a local-redirect response (status 200 and a `Location` that is an absolute path, with
 * an empty body: SPEC §5.7) runs the app again for that path, as a GET without a body, the way Apache does
 * for CGI. A target outside SCRIPT_NAME cannot be served by this app: it becomes a `302 Found`.
 * @example serveFastcgi(localRedirects(app))  // behind Apache mod_proxy_fcgi
 */
export function localRedirects(app: App, options: LocalRedirectOptions = {}): AppFunction {
  if (!isApp(app)) throw new TsgiError('ERR_BAD_APP', 'localRedirects: not an application')
  const max = options.maxRedirects ?? 10
  return function localRedirectApp(environ: Environ, startResponse: StartResponse): Body {
    return serve(app, environ, startResponse, max)
  }
}

async function* serve(app: App, environ: Environ, startResponse: StartResponse, max: number): AsyncGenerator<Chunk> {
  let env = environ
  for (let hop = 0; ; hop++) {
    const location = yield* attempt(app, env, startResponse)
    if (location === undefined) return
    if (hop === max) {
      env['tsgi.errors'].write(
        `localRedirects: more than ${max} local redirects in a row (last to ${JSON.stringify(location)})\n`,
      )
      startResponse('500 Internal Server Error', [['Content-Type', 'text/plain; charset=utf-8']])
      yield 'Internal Server Error\n'
      return
    }
    const next = redirected(env, location)
    if (next === undefined) {
      // Another app's path (RFC 3875 §6.2.3 client redirect): what nginx and lighttpd answer anyway.
      startResponse('302 Found', [['Location', location]])
      return
    }
    env = next
  }
}

/**
 * Runs the app once, passing its response through, except one shaped like a local redirect: that one is
 * held back while its body is empty. Returns the Location when the body ended empty (a local redirect).
 */
async function* attempt(
  app: App,
  environ: Environ,
  startResponse: StartResponse,
): AsyncGenerator<Chunk, string | undefined> {
  let held: { status: string; headers: HeaderList; location: string } | undefined
  let write: Write | undefined
  const release = (): Write => {
    if (held !== undefined) {
      write = startResponse(held.status, held.headers)
      held = undefined
    }
    if (write === undefined)
      throw new TsgiError('ERR_NO_START_RESPONSE', 'localRedirects: body or write() before startResponse()')
    return write
  }
  const start: StartResponse = (status, headers, excInfo) => {
    // Once something went to the gateway, the gateway's own rules apply (SPEC §4).
    if (write !== undefined) return startResponse(status, headers, excInfo)
    // A status the gateway will refuse is not a redirect: it fails there, not here.
    const location = localRedirectOf(Number(status.slice(0, 3)), headers)
    held = location === undefined ? undefined : { status, headers, location }
    if (held === undefined) write = startResponse(status, headers, excInfo)
    return appWrite
  }
  const appWrite: Write = (chunk) => (isEmpty(chunk) && held !== undefined ? Promise.resolve() : release()(chunk))
  const body = await callApp(app, environ, start)
  for await (const chunk of body) {
    if (isEmpty(chunk)) continue
    release()
    yield chunk
  }
  return held?.location
}

function isEmpty(chunk: Chunk): boolean {
  return typeof chunk === 'string' ? chunk.length === 0 : chunk.byteLength === 0
}

/**
 * The environ of the redirected request (what Apache gives a CGI script after an internal redirect), or
 * undefined when the target is outside SCRIPT_NAME. The body is not replayed: the new request is a GET.
 */
function redirected(environ: Environ, location: string): Environ | undefined {
  const query = location.indexOf('?')
  const path = decodePath(query === -1 ? location : location.slice(0, query))
  const script = environ.SCRIPT_NAME
  if (script !== '' && path !== script && !path.startsWith(`${script}/`)) return undefined
  const next: Environ = {
    ...environ,
    REQUEST_METHOD: environ.REQUEST_METHOD === 'HEAD' ? 'HEAD' : 'GET',
    PATH_INFO: path.slice(script.length),
    QUERY_STRING: query === -1 ? '' : location.slice(query + 1),
    REQUEST_URI: location,
    REDIRECT_STATUS: '200',
    REDIRECT_URL: environ.SCRIPT_NAME + environ.PATH_INFO,
    'tsgi.input': EMPTY_INPUT,
  }
  if (environ.QUERY_STRING !== '') next.REDIRECT_QUERY_STRING = environ.QUERY_STRING
  else delete next.REDIRECT_QUERY_STRING
  delete next.CONTENT_LENGTH
  delete next.CONTENT_TYPE
  delete next.PATH_TRANSLATED
  return next
}

/** Percent-decoding as servers decode PATH_INFO (RFC 3875 §4.1.5): bytes as UTF-8, bad ones U+FFFD. */
function decodePath(path: string): string {
  const bytes: number[] = []
  const encoder = new TextEncoder()
  for (let i = 0; i < path.length; i++) {
    const hex = path.slice(i + 1, i + 3)
    if (path[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16))
      i += 2
    } else {
      const code = path.codePointAt(i) ?? 0
      const char = String.fromCodePoint(code)
      bytes.push(...encoder.encode(char))
      i += char.length - 1
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes))
}

const EMPTY_INPUT: InputStream = {
  read: () => Promise.resolve(new Uint8Array(0)),
  [Symbol.asyncIterator]: async function* () {},
}
