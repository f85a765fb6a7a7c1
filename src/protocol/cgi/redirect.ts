// RFC 3875 §6.2: which CGI responses are redirects, and which of those the web server carries out
// itself. One rule for the CGI head, the dev server, the FastCGI client and the localRedirects middleware.
import type { HeaderList } from '../../app.js'
import { getHeader } from '../../core/headers.js'

/**
 * An abs-path Location (RFC 3875 §6.2.2 local-Location): starts with '/'. A '//host/x' is a
 * network-path reference, so a client redirect (C-14).
 */
export function isLocalPath(location: string): boolean {
  return location.startsWith('/') && !location.startsWith('//')
}

/** The target of a local redirect: status 200 with an abs-path Location (SPEC §5.7, C-14); else undefined. */
export function localRedirectOf(status: number, headers: HeaderList): string | undefined {
  if (status !== 200) return undefined
  const location = getHeader(headers, 'location')
  return location !== undefined && isLocalPath(location) ? location : undefined
}
