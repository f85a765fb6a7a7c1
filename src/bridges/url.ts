// The request URL an app written for its own server expects (SPEC §3.5): the target as the client sent it,
// or, for an app mounted below SCRIPT_NAME that was written for the root, the part below that prefix.
import type { Environ } from '../app.js'

export interface MountOptions {
  /**
   * Hand the app the path below SCRIPT_NAME (`/users/1` for `/cgi-bin/app/users/1`), for apps written
   * for the root. A redirect the app then sends to an absolute path gets the prefix back. Default false:
   * the app sees the URL the client asked for.
   */
  stripScriptName?: boolean
}

/** Scheme and host of the request (SPEC §3.5): `https://example.org:8443`. */
export function origin(environ: Environ): string {
  const scheme = environ['tsgi.url_scheme']
  const host = environ.HTTP_HOST
  if (typeof host === 'string' && host !== '') return `${scheme}://${host}`
  const port = environ.SERVER_PORT === (scheme === 'https' ? '443' : '80') ? '' : `:${environ.SERVER_PORT}`
  return `${scheme}://${environ.SERVER_NAME}${port}`
}

/**
 * The request-target the app sees: REQUEST_URI as sent when the web server passed it (and no internal
 * redirect moved the request since), else SCRIPT_NAME + PATH_INFO encoded again, then the query.
 */
export function target(environ: Environ, options: MountOptions = {}): string {
  const query = environ.QUERY_STRING === '' ? '' : `?${environ.QUERY_STRING}`
  if (options.stripScriptName === true) return quotePath(environ.PATH_INFO || '/') + query
  const uri = environ.REQUEST_URI
  const redirected = environ.REDIRECT_STATUS !== undefined || environ.REDIRECT_URL !== undefined
  if (typeof uri === 'string' && uri.startsWith('/') && !redirected) return uri
  return quotePath(environ.SCRIPT_NAME + environ.PATH_INFO || '/') + query
}

/**
 * A redirect to an absolute path from an app mounted with stripScriptName lands inside the app: the
 * prefix goes back in front (`/users/1` becomes `/cgi-bin/app/users/1`). Other locations stay as they are.
 */
export function mountedLocation(location: string, environ: Environ, options: MountOptions): string {
  if (options.stripScriptName !== true || environ.SCRIPT_NAME === '') return location
  if (!location.startsWith('/') || location.startsWith('//')) return location
  return quotePath(environ.SCRIPT_NAME) + location
}

/** Percent-encodes a decoded path like encodeURI, `?` and `#` included; `/` stays (SPEC §3.5). */
function quotePath(path: string): string {
  return encodeURI(path).replaceAll('?', '%3F').replaceAll('#', '%23')
}
