// `tsgi fastcgi` with a process manager (--workers and the options that need one), the worker side of it,
// and the operator paths (--status-path, --ping-path, --slow-log), which a lone responder serves too.
import { resolve } from 'node:path'
import type { App } from '../../app.js'
import type { FastcgiOptions } from '../../gateways/fastcgi/options.js'
import type { FastcgiServer } from '../../gateways/fastcgi/responder.js'
import type { ListenSpec } from '../../net/listen.js'
import type { WorkerSettings } from '../../pm/messages.js'
import { Meter } from '../../pm/meter.js'
import { cores, PM_DEFAULTS, type PmOptions } from '../../pm/options.js'
import { soloStatus } from '../../pm/solo.js'
import { type OperatorPaths, withOperatorPaths } from '../../pm/status-app.js'
import { type Io, type Options, str, usage, type Values } from '../command.js'
import { parseBytes, parseCount, parseDuration } from '../units.js'

export const POOL_OPTIONS: Options = {
  workers: { type: 'string' },
  'max-requests': { type: 'string' },
  'max-requests-jitter': { type: 'string' },
  'max-rss': { type: 'string' },
  'request-timeout': { type: 'string' },
  'slow-log': { type: 'string' },
  'status-path': { type: 'string' },
  'ping-path': { type: 'string' },
  'emergency-restart-threshold': { type: 'string' },
  'emergency-restart-interval': { type: 'string' },
}

/** Options a worker gets on its command line: how to load and serve the app (the rest is the manager's). */
const WORKER_FLAGS = ['export', 'shape', 'strip-script-name', 'multiplex', 'max-body', 'status-path', 'ping-path']

/** The pool's settings, or undefined when no option asks for a manager (one process, as before). */
export function poolOptions(values: Values): PmOptions | undefined {
  const wanted = ['workers', 'max-requests', 'max-rss', 'request-timeout'].some((flag) => values[flag] !== undefined)
  if (!wanted) return undefined
  const number = (flag: string, fallback: number) => {
    const text = str(values[flag])
    return text === undefined ? fallback : parseCount(text, `--${flag}`)
  }
  const duration = (flag: string, fallback: number) => {
    const text = str(values[flag])
    return text === undefined ? fallback : parseDuration(text, `--${flag}`)
  }
  const workersText = str(values.workers)
  const workers =
    workersText === undefined ? 1 : workersText === 'auto' ? cores() : parseCount(workersText, '--workers')
  if (workers < 1) throw usage('--workers must be at least 1 (or auto: one per core)')
  const maxRequests = number('max-requests', 0)
  const maxRss = str(values['max-rss'])
  return {
    ...PM_DEFAULTS,
    workers,
    maxRequests,
    maxRequestsJitter: number('max-requests-jitter', Math.floor(maxRequests / 10)),
    maxRssBytes: maxRss === undefined ? 0 : parseBytes(maxRss, '--max-rss'),
    requestTimeoutMs: duration('request-timeout', 0),
    slowLogMs: duration('slow-log', 0),
    emergencyThreshold: number('emergency-restart-threshold', PM_DEFAULTS.emergencyThreshold),
    emergencyIntervalMs: duration('emergency-restart-interval', PM_DEFAULTS.emergencyIntervalMs),
  }
}

/** Runs the manager; the app is loaded by each worker, never here (the manager stays small). */
export async function runPoolCommand(
  appPath: string,
  values: Values,
  io: Io,
  listen: ListenSpec,
  responder: FastcgiOptions,
  pm: PmOptions,
): Promise<number> {
  const appArgs = [resolve(io.cwd, appPath)]
  for (const flag of WORKER_FLAGS) {
    const value = values[flag]
    if (value === true) appArgs.push(`--${flag}`)
    else if (typeof value === 'string') appArgs.push(`--${flag}`, value)
  }
  const { runPool } = await import('../../pm/run.js')
  const log = (line: string) => io.stderr(`tsgi: ${line}\n`)
  return runPool({ appArgs, listen, responder, pm, log, signal: io.signal })
}

/** A worker: the lone responder on the manager's socket (fd 3), reporting to the manager. */
export async function runWorkerCommand(
  app: App,
  responder: FastcgiOptions,
  settings: WorkerSettings,
  values: Values,
  io: Io,
): Promise<number> {
  const { WorkerChannel } = await import('../../pm/worker.js')
  const { serveFastcgi } = await import('../../gateways/fastcgi/responder.js')
  const prefix = `tsgi[worker ${settings.id}]: `
  const log = (line: string) => io.stderr(`${prefix}${line.endsWith('\n') ? line : `${line}\n`}`)
  const meter = new Meter({ ...settings, log, onMaxRequests: () => channel.retire('max-requests', reached) })
  const reached = `served ${settings.maxRequests} requests (--max-requests)`
  const channel = new WorkerChannel(settings, meter, log)
  const served = withOperatorPaths(
    app,
    operatorPaths(values, () => channel.poolStatus()),
  )
  const listen = { kind: 'fd', fd: 3, bound: true } as const
  const server = await serveFastcgi(served, { ...responder, listen, meter, log, handleSignals: false })
  await channel.supervise(server)
  return 0
}

/** The lone responder's meter and operator paths, when --status-path, --ping-path or --slow-log ask for them. */
export function soloOperator(
  app: App,
  values: Values,
  io: Io,
): { app: App; meter?: Meter; attach(s: FastcgiServer): void } {
  const slowText = str(values['slow-log'])
  const slowLogMs = slowText === undefined ? 0 : parseDuration(slowText, '--slow-log')
  if (slowLogMs === 0 && values['status-path'] === undefined && values['ping-path'] === undefined) {
    return { app, attach: () => {} }
  }
  const meter = new Meter({ slowLogMs, maxRequests: 0, log: (line) => io.stderr(`tsgi: ${line}\n`) })
  let server: FastcgiServer | undefined
  const startedAt = Date.now()
  const status = () => Promise.resolve(soloStatus(server!, meter, startedAt))
  return { app: withOperatorPaths(app, operatorPaths(values, status)), meter, attach: (s) => (server = s) }
}

function operatorPaths(values: Values, status: OperatorPaths['status']): OperatorPaths {
  const paths = { statusPath: str(values['status-path']), pingPath: str(values['ping-path']), status }
  for (const path of [paths.statusPath, paths.pingPath]) {
    if (path !== undefined && !path.startsWith('/'))
      throw usage(`--status-path and --ping-path start with /, got ${path}`)
  }
  return paths
}
