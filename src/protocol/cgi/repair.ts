// What some web servers send against RFC 3875, put right before the app sees it: each repair names the
// server that needs it and the checklist id it implements, and leaves a well-formed value alone.
// Pure: no node:* imports.

/**
 * C-23: Caddy 2.6 sends CONTENT_LENGTH "-1" (Go's "unknown") for a chunked body it streams; the body is
 * then as long as the stream, which is what an absent CONTENT_LENGTH means to the gateways (C-04).
 */
export function unknownLength(value: string): boolean {
  return value === '-1'
}

/**
 * C-24: SERVER_NAME is a host name or address without a port (RFC 3875 §4.1.14); HAProxy 2.6 sends the
 * Host header's `name:port`. `[::1]:8080` gives `[::1]`; a bare IPv6 address (two colons or more) stays.
 */
export function serverNameOnly(name: string): string {
  if (name.startsWith('[')) {
    const end = name.indexOf(']')
    return end === -1 ? name : name.slice(0, end + 1)
  }
  const colon = name.indexOf(':')
  if (colon === -1 || name.indexOf(':', colon + 1) !== -1) return name
  return /^[0-9]*$/.test(name.slice(colon + 1)) ? name.slice(0, colon) : name
}

/**
 * C-25: h2o 2.2 sends SCRIPT_NAME '' and the whole path as PATH_INFO; with its `setenv` the mount comes as
 * a second SCRIPT_NAME (the last one counts), while PATH_INFO still starts with it. The mount is taken off
 * PATH_INFO only when the request's own path (REQUEST_URI, decoded) is PATH_INFO, not SCRIPT_NAME +
 * PATH_INFO: a path like /app/app/x under nginx (SCRIPT_NAME /app, PATH_INFO /app/x) stays as it is.
 * Returns the corrected PATH_INFO, or undefined when there is nothing to correct.
 */
export function pathBelowMount(script: string, path: string, requestUri: string | undefined): string | undefined {
  if (script === '' || requestUri === undefined || !path.startsWith(script)) return undefined
  if (path.length > script.length && path[script.length] !== '/') return undefined
  const query = requestUri.indexOf('?')
  if (decodedPath(query === -1 ? requestUri : requestUri.slice(0, query)) !== path) return undefined
  return path.slice(script.length)
}

function decodedPath(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined // not valid percent-encoded UTF-8: no safe comparison
  }
}
