// The process manager: keeps N workers serving on one socket it holds (O-01), replaces those that crash
// (with backoff, up to an emergency stop: O-02), recycle (O-03) or block (O-04), reloads them on SIGHUP and
// scales on SIGTTIN/SIGTTOU (O-05), answers the status page's questions, and stops them all on SIGTERM/SIGINT.
import type { SharedSocket } from '../net/shared-socket.js'
import type { RestartCause, WorkerMessage } from './messages.js'
import { seconds } from './meter.js'
import { backoffMs, heartbeatMs, type PmOptions, requestLimit } from './options.js'
import { emptyRestarts, type PoolStatus } from './status.js'
import { WorkerProcess } from './worker-process.js'

export interface ManagerConfig {
  /** The worker's command line after `fastcgi`: the app and its options. */
  appArgs: string[]
  socket: Pick<SharedSocket, 'fd' | 'address'>
  pm: PmOptions
  log: (line: string) => void
}

export class Manager {
  readonly #workers = new Map<number, WorkerProcess>()
  readonly #restarts = emptyRestarts()
  readonly #startedAt = Date.now()
  readonly #deaths: number[] = []
  #target: number
  #nextId = 1
  #generation = 1
  #reloadFrom: number | undefined
  #booted = false
  #stopping = false
  #exitCode = 0
  #retiredRequests = 0
  /** The most requests one worker had in flight at once, replaced workers included. */
  #maxActive = 0
  #respawnTimer: NodeJS.Timeout | undefined
  #watchTimer: NodeJS.Timeout | undefined
  #onBoot: ((error?: Error) => void) | undefined
  #finish!: (code: number) => void
  /** The exit code, once every worker is gone. */
  readonly done = new Promise<number>((resolve) => (this.#finish = resolve))

  constructor(readonly config: ManagerConfig) {
    this.#target = config.pm.workers
  }

  /** Starts the workers; resolves once all serve, rejects if one fails to start (the app's error is above). */
  start(): Promise<void> {
    const booted = new Promise<void>((resolve, reject) => {
      this.#onBoot = (error) => (error ? reject(error) : resolve())
    })
    this.#reconcile()
    if (this.config.pm.requestTimeoutMs > 0) {
      this.#watchTimer = setInterval(() => this.#watchBlocked(), heartbeatMs(this.config.pm))
    }
    return booted
  }

  get workers(): number {
    return this.#target
  }

  /** SIGHUP: new workers load the app from disk; each one ready lets one old worker finish and stop. */
  reload(): void {
    if (this.#stopping) return
    this.#reloadFrom ??= this.#generation
    this.#generation++
    const old = this.#list().filter((w) => w.generation < this.#generation && w.serving).length
    this.config.log(`reloading: starting ${this.#target} new worker(s); the ${old} serving finish their requests`)
    this.#reconcile()
  }

  /** SIGTTIN (+1) and SIGTTOU (-1), never below one worker. */
  scale(delta: number): void {
    if (this.#stopping) return
    this.#target = Math.max(1, this.#target + delta)
    this.config.log(`${delta > 0 ? 'adding' : 'removing'} a worker: ${this.#target} now`)
    this.#reconcile()
  }

  /** Stops every worker gracefully (each finishes its requests, then exits); resolves `done` with `code`. */
  stop(code = 0): void {
    if (this.#stopping) return
    this.#stopping = true
    clearTimeout(this.#respawnTimer)
    clearInterval(this.#watchTimer)
    this.#onBoot?.(new Error('stopped before every worker was ready'))
    this.#exitCode = code
    this.config.log(`stopping ${this.#workers.size} worker(s): each finishes its requests in flight`)
    for (const worker of this.#list()) this.#stopWorker(worker)
    this.#finishIfEmpty()
  }

  #finishIfEmpty(): void {
    if (this.#stopping && this.#workers.size === 0) this.#finish(this.#exitCode)
  }

  /** Figures of the whole pool; workers that do not answer within 250 ms show their last heartbeat's. */
  async poolStatus(): Promise<PoolStatus> {
    await Promise.all(this.#list().map((worker) => worker.freshStats(250)))
    for (const worker of this.#workers.values()) this.#maxActive = Math.max(this.#maxActive, worker.stats.maxActive)
    return {
      pid: process.pid,
      listen: this.config.socket.address,
      startedAt: this.#startedAt,
      targetWorkers: this.#target,
      generation: this.#generation,
      managerRss: process.memoryUsage.rss(),
      retiredRequests: this.#retiredRequests,
      maxActive: this.#maxActive,
      restarts: { ...this.#restarts },
      workers: this.#list().map((w) => w.status()),
    }
  }

  // --- keeping the pool at its size ---

  /** Spawns up to the target, stops the surplus as replacements become ready, and ends a finished reload. */
  #reconcile(): void {
    if (this.#stopping) return
    const current = this.#list().filter((w) => this.#isCurrent(w))
    if (this.#respawnTimer === undefined) for (let n = current.length; n < this.#target; n++) this.#spawn()
    // Retiring workers and older generations stop only as current ones are ready: capacity never drops (O-03).
    const surplus = this.#list()
      .filter((w) => !this.#isCurrent(w) && (w.state === 'ready' || w.state === 'retiring'))
      .sort((a, b) => Number(b.state === 'retiring') - Number(a.state === 'retiring') || a.generation - b.generation)
    let ready = current.filter((w) => w.state === 'ready').length + surplus.length
    for (const worker of surplus) {
      if (ready <= this.#target) break
      this.#stopWorker(worker, worker.cause ?? 'reload')
      ready--
    }
    for (const worker of current.slice(this.#target).reverse()) this.#stopWorker(worker)
    if (this.#reloadFrom !== undefined && !this.#list().some((w) => w.generation < this.#generation)) {
      this.#reloadFrom = undefined
      this.config.log(`reload done: ${this.#target} worker(s) serve the new code`)
    }
  }

  #isCurrent(worker: WorkerProcess): boolean {
    return worker.generation === this.#generation && (worker.state === 'starting' || worker.state === 'ready')
  }

  #spawn(): void {
    const { pm } = this.config
    const id = this.#nextId++
    const settings = {
      id,
      maxRequests: requestLimit(pm),
      maxRssBytes: pm.maxRssBytes,
      requestTimeoutMs: pm.requestTimeoutMs,
      slowLogMs: pm.slowLogMs,
      heartbeatMs: heartbeatMs(pm),
    }
    const worker = new WorkerProcess(id, this.#generation, this.config.appArgs, this.config.socket.fd, settings)
    this.#workers.set(id, worker)
    worker.child.on('message', (message: WorkerMessage) => this.#onMessage(worker, message))
    worker.child.once('exit', (code, signal) => this.#onExit(worker, code, signal))
    worker.child.on('error', (error) => this.config.log(`${worker.name}: ${error.message}`))
  }

  // --- what workers say, and how they end ---

  #onMessage(worker: WorkerProcess, message: WorkerMessage): void {
    switch (message.t) {
      case 'ready':
        if (worker.state !== 'starting') return
        worker.state = 'ready'
        worker.lastBeat = Date.now()
        this.config.log(`${worker.name} ready`)
        if (!this.#booted && this.#list().every((w) => w.state === 'ready')) {
          this.#booted = true
          this.#onBoot?.()
        }
        this.#reconcile()
        return
      case 'beat':
      case 'stats':
        worker.update(message.stats)
        this.#maxActive = Math.max(this.#maxActive, message.stats.maxActive)
        return
      case 'retire':
        if (worker.state !== 'ready') return
        worker.state = 'retiring'
        worker.cause = message.cause
        this.#reconcile()
        return
      case 'status?':
        void this.poolStatus().then((status) => {
          worker.send({ t: 'status', id: message.id, status })
        })
        return
    }
  }

  #onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.#workers.delete(worker.id)
    worker.gone()
    this.#retiredRequests += worker.stats.requests
    if (this.#stopping) {
      this.#finishIfEmpty()
      return
    }
    if (worker.state === 'stopping') {
      this.config.log(`${worker.name} stopped${worker.cause === undefined ? '' : ` (${worker.cause})`}`)
      if (worker.cause !== undefined) this.#restarts[worker.cause]++
      this.#reconcile()
      return
    }
    const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`
    const name = worker.name
    if (worker.state === 'starting') {
      if (!this.#booted) {
        this.config.log(`${name} ${how} before it was ready: stopping (its error is above)`)
        this.#onBoot?.(new Error(`worker ${how} before it was ready`))
        this.stop(1)
        return
      }
      if (this.#reloadFrom !== undefined && worker.generation > this.#reloadFrom) {
        this.#abandonReload(name, how)
        return
      }
    }
    this.#crashed(name, how)
  }

  /** An unexpected death: replaced after a backoff, unless too many died lately (emergency stop, exit 1: O-02). */
  #crashed(name: string, how: string): void {
    const { emergencyThreshold, emergencyIntervalMs } = this.config.pm
    const now = Date.now()
    this.#restarts.crash++
    this.#deaths.push(now)
    while (this.#deaths.length > 0 && this.#deaths[0]! <= now - emergencyIntervalMs) this.#deaths.shift()
    if (this.#deaths.length >= emergencyThreshold) {
      const window = seconds(emergencyIntervalMs)
      this.config.log(
        `${name} ${how}: ${this.#deaths.length} workers died within ${window} (--emergency-restart-threshold ${emergencyThreshold}): giving up, exit 1`,
      )
      this.stop(1)
      return
    }
    const delay = backoffMs(this.#deaths.length)
    this.config.log(`${name} ${how}: starting another in ${delay} ms`)
    clearTimeout(this.#respawnTimer)
    this.#respawnTimer = setTimeout(() => {
      this.#respawnTimer = undefined
      this.#reconcile()
    }, delay)
  }

  /** A new worker of a reload failed to start: the previous generation keeps serving (O-05). */
  #abandonReload(name: string, how: string): void {
    const failed = this.#generation
    this.#generation = this.#reloadFrom!
    this.#reloadFrom = undefined
    this.config.log(`reload failed: new ${name} ${how} before it was ready; the running workers keep serving`)
    for (const worker of this.#list()) if (worker.generation === failed) this.#stopWorker(worker)
    this.#reconcile()
  }

  /** --request-timeout when the event loop is blocked: the worker cannot say so itself, its heartbeats stop (O-04). */
  #watchBlocked(): void {
    const { requestTimeoutMs } = this.config.pm
    const limit = requestTimeoutMs + heartbeatMs(this.config.pm)
    const now = Date.now()
    for (const worker of this.#list()) {
      if (!worker.serving || now - worker.lastBeat <= limit) continue
      const inFlight =
        worker.stats.oldest.map((r) => `${r.line} (${seconds(r.ms)} then)`).join(', ') ||
        'none (the request that blocked it came after that)'
      this.config.log(
        `request timeout: ${worker.name} has been blocked for ${seconds(now - worker.lastBeat)} (--request-timeout ${seconds(requestTimeoutMs)}): killed; in flight at its last heartbeat: ${inFlight}`,
      )
      worker.kill('request-timeout')
    }
    this.#reconcile()
  }

  #stopWorker(worker: WorkerProcess, cause?: RestartCause): void {
    worker.stop(this.config.pm.shutdownTimeoutMs + 2000, !this.#stopping, cause)
  }

  #list(): WorkerProcess[] {
    return [...this.#workers.values()]
  }
}
