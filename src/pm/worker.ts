// One worker under the manager: serves on the manager's socket, sends heartbeats with its figures, asks
// to be replaced when recycled (max requests, max RSS, a request past the timeout), and stops when told
// or when its manager is gone.
import type { FastcgiServer } from '../gateways/fastcgi/responder.js'
import type { ManagerMessage, RestartCause, WorkerMessage, WorkerSettings } from './messages.js'
import { type Meter, requestLine, seconds, workerStats } from './meter.js'
import type { PoolStatus } from './status.js'

export class WorkerChannel {
  readonly #pending = new Map<number, (status: PoolStatus) => void>()
  #nextId = 1
  #retiring = false

  constructor(
    readonly settings: WorkerSettings,
    readonly meter: Meter,
    readonly log: (line: string) => void,
  ) {}

  /** The whole pool's figures, from the manager (the status page). */
  poolStatus(): Promise<PoolStatus> {
    return new Promise<PoolStatus>((resolve) => {
      const id = this.#nextId++
      this.#pending.set(id, resolve)
      send({ t: 'status?', id })
    })
  }

  /** Asks to be replaced, once; the manager stops this worker when its replacement is ready. */
  retire(cause: RestartCause, detail: string): void {
    if (this.#retiring) return
    this.#retiring = true
    this.log(`worker ${this.settings.id} (pid ${process.pid}) asks to be replaced: ${detail}`)
    send({ t: 'retire', cause, detail })
  }

  /**
   * Serves the IPC channel until `server` has closed; says 'ready' now (call once listening). Resolves once
   * the last figures reached the manager (the pool's request count includes a replaced worker's).
   */
  supervise(server: FastcgiServer): Promise<void> {
    const onMessage = (message: ManagerMessage): void => {
      if (message.t === 'stop') void server.close({ lingerIdle: message.handover })
      else if (message.t === 'stats?') send({ t: 'stats', id: message.id, stats: workerStats(server, this.meter) })
      else if (message.t === 'status') {
        this.#pending.get(message.id)?.(message.status as PoolStatus)
        this.#pending.delete(message.id)
      }
    }
    process.on('message', onMessage)
    // The manager is gone (killed with SIGKILL, say): finish what runs and leave, never linger unsupervised.
    process.once('disconnect', () => void server.close())
    // SIGHUP and SIGINT are the manager's: a reload, or a Ctrl-C that reaches the whole process group, which
    // the manager answers by stopping its workers in order. SIGTERM to a worker alone stops it gracefully.
    const ignore = (): void => {}
    const stop = (): void => void server.close()
    process.on('SIGHUP', ignore)
    process.on('SIGINT', ignore)
    process.on('SIGTERM', stop)
    const beat = setInterval(() => {
      const stats = workerStats(server, this.meter)
      send({ t: 'beat', stats })
      this.#checkLimits(stats.rss)
    }, this.settings.heartbeatMs)
    send({ t: 'ready' })
    return server.closed.then(async () => {
      clearInterval(beat)
      process.off('message', onMessage)
      process.off('SIGHUP', ignore)
      process.off('SIGINT', ignore)
      process.off('SIGTERM', stop)
      if (!process.connected) return
      await new Promise<void>((resolve) =>
        process.send?.({ t: 'beat', stats: workerStats(server, this.meter) }, () => resolve()),
      )
      if (process.connected) process.disconnect()
    })
  }

  /** --max-rss (O-03), and requests past --request-timeout while the event loop runs (O-04; a blocked one: the manager). */
  #checkLimits(rss: number): void {
    const { settings, meter } = this
    meter.logSlowRunning()
    if (settings.maxRssBytes > 0 && rss > settings.maxRssBytes) {
      this.retire('max-rss', `RSS ${mib(rss)} is over --max-rss ${mib(settings.maxRssBytes)}`)
    }
    if (settings.requestTimeoutMs <= 0) return
    const limit = seconds(settings.requestTimeoutMs)
    for (const run of meter.runningFor(settings.requestTimeoutMs)) {
      if (run.cut) continue
      run.cut = true
      const took = seconds(Date.now() - run.startedAt)
      this.log(`request timeout: ${requestLine(run.params)} ran for ${took} (--request-timeout ${limit}); cut`)
      run.connection.destroy('the request ran past --request-timeout')
      this.retire('request-timeout', `a request ran past --request-timeout ${limit}`)
    }
  }
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message)
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`
}
