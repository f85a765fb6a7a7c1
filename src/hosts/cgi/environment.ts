// The script's process environment: the request's meta-variables (RFC 3875 §4.1), a few allow-listed
// variables of the host, the operator's fixed ones, and nothing else (S-02). Never process.env itself.
import { TsgiError } from '../../errors.js'
import { mergeVars } from '../../protocol/cgi/environ.js'
import type { CgiRequest } from './types.js'

/** Copied from the host by default, like Go's net/http/cgi (plus LANG, LC_ALL, TZ for the locale). */
export const DEFAULT_INHERIT: readonly string[] = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'LD_LIBRARY_PATH']
/** PATH when neither the request, the host nor the operator gives one. */
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin'

const HOST_ENV: Readonly<Record<string, string | undefined>> = process.env

/**
 * Builds the environment, later sources winning: the request's `vars`, then `inheritEnv` from the host,
 * then `env` (Apache SetEnv). Adds SCRIPT_FILENAME and GATEWAY_INTERFACE (C-01) when missing. The
 * object has no prototype: spawn() also copies inherited keys, so a polluted Object.prototype must not
 * leak in. Throws a TsgiError for what execve cannot carry (a NUL, a name with '=').
 */
export function scriptEnvironment(
  request: Pick<CgiRequest, 'script' | 'vars' | 'inheritEnv' | 'env'>,
  host: Readonly<Record<string, string | undefined>> = HOST_ENV,
): Record<string, string> {
  const env: Record<string, string> = Object.create(null)
  // mergeVars joins repeated HTTP_* (Cookie with '; ') and drops empty optional variables (C-03),
  // tsgi.* names and HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH (RFC 3875 §4.1.18), like every gateway.
  const merged = mergeVars(request.vars)
  for (const name of Object.keys(merged)) env[name] = merged[name]!
  for (const name of request.inheritEnv ?? DEFAULT_INHERIT) {
    const value = host[name]
    if (value !== undefined && value !== '') env[name] = value
  }
  if (request.env !== undefined) for (const name of Object.keys(request.env)) env[name] = request.env[name]!
  // S-01 (httpoxy): a `Proxy:` request header arrives as HTTP_PROXY, which HTTP client libraries take
  // as their proxy. It never reaches the script, whoever put it in: the caller's vars or the operator.
  delete env.HTTP_PROXY
  env.PATH ??= DEFAULT_PATH
  env.SCRIPT_FILENAME ??= request.script
  env.GATEWAY_INTERFACE ??= 'CGI/1.1'
  check(env)
  return env
}

/** execve takes `NAME=value` C strings: a NUL would cut them and an '=' in a name would shift them. */
function check(env: Record<string, string>): void {
  for (const name of Object.keys(env)) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `cgi: invalid environment variable name ${JSON.stringify(name)}`)
    }
    const value = env[name]
    if (typeof value !== 'string') {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `cgi: environment variable ${name} is not a string`)
    }
    // A decoded %00 in PATH_INFO, say (S-23): the request is refused, not cut at the NUL.
    if (value.includes('\0')) {
      throw new TsgiError('ERR_CGI_ENVIRONMENT', `cgi: NUL byte in ${name}`, { status: 400 })
    }
  }
}
