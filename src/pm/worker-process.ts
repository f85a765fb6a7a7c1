// One worker as the manager sees it: its child process, state and last figures; asking it for fresh
// figures, stopping it gracefully (SIGKILL after the deadline), or killing it.
import type { ChildProcess } from 'node:child_process'
import type { ManagerMessage, RestartCause, WorkerSettings, WorkerStats } from './messages.js'
import { spawnWorker } from './spawn.js'
import type { WorkerStatus } from './status.js'

export class WorkerProcess {
  readonly child: ChildProcess
  readonly startedAt = Date.now()
  state: WorkerStatus['state'] = 'starting'
  lastBeat = 0
  stats: WorkerStats
  /** Why it is being replaced; counted in the status page's restarts when it exits. */
  cause: RestartCause | undefined
  #killTimer: NodeJS.Timeout | undefined
  readonly #statsWaiters: Array<() => void> = []

  constructor(
    readonly id: number,
    readonly generation: number,
    appArgs: readonly string[],
    socketFd: number,
    settings: WorkerSettings,
  ) {
    this.child = spawnWorker(appArgs, socketFd, settings)
    this.stats = { pid: this.child.pid ?? 0, requests: 0, active: 0, maxActive: 0, connections: 0, rss: 0, oldest: [] }
  }

  get name(): string {
    return `worker ${this.id} (pid ${this.stats.pid})`
  }

  get serving(): boolean {
    return this.state === 'ready' || this.state === 'retiring'
  }

  send(message: ManagerMessage): void {
    if (this.child.connected) this.child.send(message)
  }

  /** New figures (a heartbeat or an answer to stats?). */
  update(stats: WorkerStats): void {
    this.lastBeat = Date.now()
    this.stats = stats
    for (const wake of this.#statsWaiters.splice(0)) wake()
  }

  /** Asks for figures now; resolves after `ms` regardless (a blocked worker keeps its last ones). */
  freshStats(ms: number): Promise<void> {
    if (!this.child.connected || this.state === 'starting') return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#statsWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
      this.send({ t: 'stats?', id: this.id })
    })
  }

  /**
   * Graceful: it stops accepting, finishes its requests, exits; SIGKILL if still there after `deadlineMs`.
   * `handover`: others serve on (a replacement, a reload, one worker fewer), so its kept connections close
   * only after an answer (O-03).
   */
  stop(deadlineMs: number, handover: boolean, cause?: RestartCause): void {
    if (this.state === 'stopping') return
    const wasStarting = this.state === 'starting'
    this.state = 'stopping'
    this.cause ??= cause
    // A worker still loading has no IPC handler yet; SIGTERM ends it (before it serves, nothing is lost).
    if (wasStarting || !this.child.connected) this.child.kill('SIGTERM')
    else this.send({ t: 'stop', handover })
    this.#killTimer = setTimeout(() => this.child.kill('SIGKILL'), deadlineMs)
    this.#killTimer.unref()
  }

  kill(cause: RestartCause): void {
    this.state = 'stopping'
    this.cause = cause
    this.child.kill('SIGKILL')
  }

  /** It exited: no more timers or waiters. */
  gone(): void {
    clearTimeout(this.#killTimer)
    for (const wake of this.#statsWaiters.splice(0)) wake()
  }

  status(): WorkerStatus {
    const { id, state, generation, startedAt } = this
    return { ...this.stats, id, state, generation, startedAt }
  }
}
