// A worker's requests as its manager sees them: counts for the status page, the slow log (PHP-FPM's
// request_slowlog_timeout) and, while the event loop runs, requests past the request timeout.
import type { RequestMeter } from '../gateways/fastcgi/options.js'
import type { FastcgiServer } from '../gateways/fastcgi/responder.js'
import type { Pair } from '../protocol/fastcgi/params.js'
import type { WorkerStats } from './messages.js'

/** A request in flight: a node of the meter's list (no hashing per request, unlike a Map or Set). */
export class Running {
  /** Already reported as slow while running (the slow log names a request once). */
  slowLogged = false
  /** Cut for running past the request timeout (its app may still not have returned). */
  cut = false
  prev: Running | undefined = undefined
  next: Running | undefined = undefined

  constructor(
    readonly startedAt: number,
    readonly params: readonly Pair[],
    readonly connection: { destroy(reason: string): void },
  ) {}
}

export interface MeterSettings {
  /** Log requests slower than this (0: never). */
  slowLogMs: number
  /** Called once when this many requests have finished (0: never): the worker is then recycled. */
  maxRequests: number
  onMaxRequests?: () => void
  log: (line: string) => void
}

export class Meter implements RequestMeter {
  /** Oldest first: a request joins at the tail when it starts. */
  #head: Running | undefined
  #tail: Running | undefined
  /** Requests in flight. */
  active = 0
  /** Requests whose app is done. */
  requests = 0
  maxActive = 0

  constructor(readonly settings: MeterSettings) {}

  start(params: readonly Pair[], connection: { destroy(reason: string): void }): Running {
    const run = new Running(Date.now(), params, connection)
    run.prev = this.#tail
    if (this.#tail === undefined) this.#head = run
    else this.#tail.next = run
    this.#tail = run
    if (++this.active > this.maxActive) this.maxActive = this.active
    return run
  }

  end(token: unknown): void {
    const run = token as Running
    if (run.prev === undefined) this.#head = run.next
    else run.prev.next = run.next
    if (run.next === undefined) this.#tail = run.prev
    else run.next.prev = run.prev
    this.active--
    this.requests++
    const { slowLogMs, maxRequests } = this.settings
    if (slowLogMs > 0) {
      const ms = Date.now() - run.startedAt
      if (ms >= slowLogMs) this.settings.log(`slow request: ${requestLine(run.params)} took ${seconds(ms)}`)
    }
    if (this.requests === maxRequests) this.settings.onMaxRequests?.()
  }

  /** Requests running for at least `ms`, oldest first. */
  runningFor(ms: number): Running[] {
    const since = Date.now() - ms
    const found: Running[] = []
    for (let run = this.#head; run !== undefined && run.startedAt <= since; run = run.next) found.push(run)
    return found
  }

  /** Logs, once each, requests still running past the slow-log threshold (a hung request never ends). */
  logSlowRunning(): void {
    const { slowLogMs } = this.settings
    if (slowLogMs <= 0) return
    const now = Date.now()
    for (const run of this.runningFor(slowLogMs)) {
      if (run.slowLogged) continue
      run.slowLogged = true
      this.settings.log(`slow request: ${requestLine(run.params)} still running after ${seconds(now - run.startedAt)}`)
    }
  }

  /** The oldest requests in flight, for the status page and a blocked worker's log line. */
  oldest(count: number): Array<{ line: string; ms: number }> {
    const now = Date.now()
    return this.runningFor(0)
      .slice(0, count)
      .map((run) => ({ line: requestLine(run.params), ms: Math.round(now - run.startedAt) }))
  }
}

/** `GET /path?query` from a request's PARAMS (REQUEST_URI as the web server sent it, RFC 3875 §4.1). */
export function requestLine(params: readonly Pair[]): string {
  let method = '-'
  let uri: string | undefined
  let path = ''
  let query = ''
  for (const [name, value] of params) {
    if (name === 'REQUEST_METHOD') method = value
    else if (name === 'REQUEST_URI') uri = value
    else if (name === 'SCRIPT_NAME') path = value + path
    else if (name === 'PATH_INFO') path += value
    else if (name === 'QUERY_STRING') query = value
  }
  const target = uri ?? (query === '' ? path : `${path}?${query}`)
  return `${method} ${target.length > 200 ? `${target.slice(0, 200)}...` : target}`
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms / 1000)} s`
}

/** This process's figures as a worker: heartbeats, status answers, and a lone responder's status page. */
export function workerStats(server: FastcgiServer, meter: Meter): WorkerStats {
  return {
    pid: process.pid,
    requests: meter.requests,
    active: meter.active,
    maxActive: meter.maxActive,
    connections: server.stats.connections,
    rss: process.memoryUsage.rss(),
    oldest: meter.oldest(3),
  }
}
