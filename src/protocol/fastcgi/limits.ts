// Caller-set limits on what a FastCGI peer may make us hold (security checklist S-05, S-09, S-14).
// Every length is checked before any allocation sized by it (CVE-2025-23016, vector V-31).
import { TsgiError } from '../../errors.js'

export interface Limits {
  /**
   * PARAMS content bytes per request. Default 128 KiB: nginx can never send more than 65535
   * (one record, "fastcgi request record is too big"), Apache's FcgidMaxRequestLen is 131072.
   */
  maxParamsBytes: number
  /** Name-value pairs per request (PARAMS) or per GET_VALUES query. Default 1000. */
  maxParams: number
  /** Length of a single name or value. Default 64 KiB (a whole nginx PARAMS record). */
  maxNameValueLength: number
  /**
   * Requests active at once on one connection when multiplexing (FCGI_MAX_REQS, spec §4.1).
   * A BEGIN_REQUEST past it is answered OVERLOADED (F-16, S-14). Default 100. Without
   * multiplexing the limit is 1 and a second BEGIN gets CANT_MPX_CONN (F-15).
   */
  maxConcurrentRequests: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxParamsBytes: 128 * 1024,
  maxParams: 1000,
  maxNameValueLength: 64 * 1024,
  maxConcurrentRequests: 100,
})

/** The upper bound of any limit: a 31-bit name-value length (spec §3.4). */
const MAX_LIMIT = 0x7fffffff

/** Merge caller limits over the defaults; each must be a positive integer. */
export function resolveLimits(limits: Partial<Limits> = {}): Readonly<Limits> {
  const out: Limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
    const value = limits[key]
    if (value === undefined) continue
    if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
      throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid limit ${key} ${String(value)}`)
    }
    out[key] = value
  }
  if (out.maxConcurrentRequests > 65535) out.maxConcurrentRequests = 65535
  return Object.freeze(out)
}
