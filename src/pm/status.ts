// The status page's content (PHP-FPM's pm.status_path): one pool's figures and each worker's, as JSON
// or as OpenMetrics text for Prometheus. Pure: the manager, or a lone responder, supplies the figures.
import type { RestartCause, WorkerStats } from './messages.js'

export interface WorkerStatus extends WorkerStats {
  id: number
  state: 'starting' | 'ready' | 'retiring' | 'stopping'
  generation: number
  startedAt: number
}

export interface PoolStatus {
  pid: number
  listen: string
  startedAt: number
  targetWorkers: number
  generation: number
  managerRss: number
  /** Requests served by workers that are gone (so the pool's total never goes down). */
  retiredRequests: number
  /** The most requests one worker had in flight at once, replaced workers included. */
  maxActive: number
  restarts: Record<RestartCause, number>
  workers: WorkerStatus[]
}

export function emptyRestarts(): Record<RestartCause, number> {
  return { crash: 0, 'max-requests': 0, 'max-rss': 0, 'request-timeout': 0, reload: 0 }
}

/** The JSON document (snake_case, like PHP-FPM's `?json`), totals first, then one entry per worker. */
export function statusJson(status: PoolStatus, now = Date.now()): string {
  const serving = status.workers.filter((w) => w.state === 'ready' || w.state === 'retiring')
  const active = serving.filter((w) => w.active > 0).length
  const doc = {
    pid: status.pid,
    listen: status.listen,
    started_at: new Date(status.startedAt).toISOString(),
    uptime_seconds: Math.round((now - status.startedAt) / 1000),
    generation: status.generation,
    target_workers: status.targetWorkers,
    workers: serving.length,
    active_workers: active,
    idle_workers: serving.length - active,
    requests: status.retiredRequests + sum(status.workers, (w) => w.requests),
    active_requests: sum(status.workers, (w) => w.active),
    max_active_requests: status.maxActive,
    connections: sum(status.workers, (w) => w.connections),
    rss_bytes: status.managerRss + sum(status.workers, (w) => w.rss),
    manager_rss_bytes: status.managerRss,
    restarts: status.restarts,
    worker_list: status.workers.map((w) => ({
      id: w.id,
      pid: w.pid,
      state: w.state,
      generation: w.generation,
      requests: w.requests,
      active_requests: w.active,
      max_active_requests: w.maxActive,
      connections: w.connections,
      rss_bytes: w.rss,
      uptime_seconds: Math.round((now - w.startedAt) / 1000),
      oldest_requests: w.oldest,
    })),
  }
  return `${JSON.stringify(doc, null, 2)}\n`
}

/** OpenMetrics 1.0 text: counters end in `_total`, one label set per worker, `# EOF` last. */
export function statusOpenMetrics(status: PoolStatus, now = Date.now()): string {
  const lines: string[] = []
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[string, number]>) => {
    lines.push(`# TYPE ${name} ${type}`, `# HELP ${name} ${help}`)
    for (const [labels, value] of samples) lines.push(`${name}${type === 'counter' ? '_total' : ''}${labels} ${value}`)
  }
  const perWorker = (pick: (w: WorkerStatus) => number): Array<[string, number]> =>
    status.workers.map((w) => [`{worker="${w.id}",pid="${w.pid}"}`, pick(w)])
  const serving = status.workers.filter((w) => w.state === 'ready' || w.state === 'retiring')
  family('tsgi_workers', 'gauge', 'Worker processes serving.', [['', serving.length]])
  family('tsgi_idle_workers', 'gauge', 'Workers with no request in flight.', [
    ['', serving.filter((w) => w.active === 0).length],
  ])
  family('tsgi_pool_requests', 'counter', 'Requests served by the pool, replaced workers included.', [
    ['', status.retiredRequests + sum(status.workers, (w) => w.requests)],
  ])
  family(
    'tsgi_requests',
    'counter',
    'Requests served by each worker.',
    perWorker((w) => w.requests),
  )
  family(
    'tsgi_active_requests',
    'gauge',
    'Requests in flight.',
    perWorker((w) => w.active),
  )
  family(
    'tsgi_max_active_requests',
    'gauge',
    'Most requests in flight at once.',
    perWorker((w) => w.maxActive),
  )
  family(
    'tsgi_connections',
    'counter',
    'Web-server connections accepted.',
    perWorker((w) => w.connections),
  )
  family('tsgi_resident_memory_bytes', 'gauge', 'Resident set size.', [
    ['{worker="manager"}', status.managerRss],
    ...perWorker((w) => w.rss),
  ])
  family('tsgi_uptime_seconds', 'gauge', 'Seconds since the process started.', [
    ['{worker="manager"}', Math.round((now - status.startedAt) / 1000)],
    ...perWorker((w) => Math.round((now - w.startedAt) / 1000)),
  ])
  const causes = Object.entries(status.restarts) as Array<[string, number]>
  family(
    'tsgi_restarts',
    'counter',
    'Workers replaced, by cause.',
    causes.map(([c, n]) => [`{cause="${c}"}`, n]),
  )
  lines.push('# EOF')
  return `${lines.join('\n')}\n`
}

function sum<T>(items: T[], pick: (item: T) => number): number {
  let total = 0
  for (const item of items) total += pick(item)
  return total
}
