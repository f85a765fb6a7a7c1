// The process manager's settings (`tsgi fastcgi APP --workers N ...`), with their defaults and the
// precedent each follows (PHP-FPM, Gunicorn, uWSGI).
import { availableParallelism } from 'node:os'

export interface PmOptions {
  /** Worker processes; `auto` is the number of cores. */
  workers: number
  /** Replace a worker after this many requests (Gunicorn's max_requests); 0: never. */
  maxRequests: number
  /** Up to this many more, drawn per worker so that workers do not all restart at once (max_requests_jitter). */
  maxRequestsJitter: number
  /** Replace a worker whose RSS passes this, once its requests in flight finish; 0: never. */
  maxRssBytes: number
  /** Cut a request running this long and replace its worker (request_terminate_timeout, harakiri); 0: never. */
  requestTimeoutMs: number
  /** Log requests slower than this (request_slowlog_timeout); 0: never. */
  slowLogMs: number
  /** This many unexpected worker deaths within emergencyIntervalMs stop the manager (emergency_restart_threshold). */
  emergencyThreshold: number
  emergencyIntervalMs: number
  /** How long a stop waits for requests in flight before workers are killed. */
  shutdownTimeoutMs: number
}

export const PM_DEFAULTS: Omit<PmOptions, 'workers'> = {
  maxRequests: 0,
  maxRequestsJitter: 0,
  maxRssBytes: 0,
  requestTimeoutMs: 0,
  slowLogMs: 0,
  emergencyThreshold: 10,
  emergencyIntervalMs: 60_000,
  shutdownTimeoutMs: 10_000,
}

export function cores(): number {
  return availableParallelism()
}

/** How often a worker reports: often enough to tell a blocked event loop well within the request timeout. */
export function heartbeatMs(options: Pick<PmOptions, 'requestTimeoutMs'>): number {
  if (options.requestTimeoutMs <= 0) return 1000
  return Math.min(1000, Math.max(50, Math.floor(options.requestTimeoutMs / 5)))
}

/** A worker's own request limit: max_requests plus a random share of the jitter. */
export function requestLimit(
  options: Pick<PmOptions, 'maxRequests' | 'maxRequestsJitter'>,
  random = Math.random,
): number {
  if (options.maxRequests <= 0) return 0
  return options.maxRequests + Math.floor(random() * (options.maxRequestsJitter + 1))
}

/** Backoff before replacing a crashed worker: 100 ms, doubling with each recent death, at most 10 s. */
export function backoffMs(recentDeaths: number): number {
  return Math.min(10_000, 100 * 2 ** Math.max(0, recentDeaths - 1))
}
