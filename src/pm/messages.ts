// What the manager and its workers say over the IPC channel (node's JSON serialization), and the
// settings a worker gets from its manager in the TSGI_PM_WORKER environment variable.

/** A worker's figures at one moment (heartbeats and status requests). */
export interface WorkerStats {
  pid: number
  requests: number
  active: number
  maxActive: number
  connections: number
  rss: number
  /** The oldest requests in flight: what a blocked worker's log line names. */
  oldest: Array<{ line: string; ms: number }>
}

/** Why a worker was replaced: the status page counts each cause. */
export type RestartCause = 'crash' | 'max-requests' | 'max-rss' | 'request-timeout' | 'reload'

export type WorkerMessage =
  | { t: 'ready' }
  | { t: 'beat'; stats: WorkerStats }
  | { t: 'retire'; cause: RestartCause; detail: string }
  | { t: 'stats'; id: number; stats: WorkerStats }
  | { t: 'status?'; id: number }

/** `handover` in a stop: other workers serve on, so idle kept connections close only after an answer. */
export type ManagerMessage =
  | { t: 'stop'; handover: boolean }
  | { t: 'stats?'; id: number }
  | { t: 'status'; id: number; status: unknown }

export interface WorkerSettings {
  /** The manager's number for this worker (1, 2, ...; a replacement gets a new one). */
  id: number
  /** Requests after which it asks to be replaced (0: never); jitter already applied. */
  maxRequests: number
  maxRssBytes: number
  requestTimeoutMs: number
  slowLogMs: number
  heartbeatMs: number
}

export const WORKER_ENV = 'TSGI_PM_WORKER'

/** This process's settings when a tsgi manager started it (an IPC channel and TSGI_PM_WORKER), else undefined. */
export function workerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings | undefined {
  const text = env[WORKER_ENV]
  if (text === undefined || typeof process.send !== 'function') return undefined
  return JSON.parse(text) as WorkerSettings
}
