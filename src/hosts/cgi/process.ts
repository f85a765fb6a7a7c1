// One running script: spawned without a shell as the leader of its own process group, killed as a
// group (grandchildren too) on timeout, abort or when its output is abandoned, and always reaped.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { TsgiError } from '../../errors.js'
import { spawnError } from './executable.js'
import type { CgiExit } from './types.js'

/** SIGTERM first; the group gets SIGKILL this long after. */
export const KILL_GRACE_MS = 2000
const NOOP = (): void => {}
const MAX_TIMER_MS = 2 ** 31 - 1

export interface RunOptions {
  script: string
  cwd: string
  env: Record<string, string>
  timeoutMs: number
  signal: AbortSignal | undefined
}

export class ScriptRun {
  readonly child: ChildProcessWithoutNullStreams
  /** Settles at the `exit` event; Node reaps the child then, so no zombie is left behind. */
  readonly exit: Promise<CgiExit>
  /** Why the run was cut (ERR_TIMEOUT, ERR_ABORTED): what the head and the body fail with. */
  failure: TsgiError | undefined
  #exited = false
  #timedOut = false
  #aborted = false
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  readonly #started: Promise<void>
  readonly #onAbort = (): void => this.#abort()

  /** Spawns the script; throws the TsgiError of a failed spawn() (`started` reports the async ones). */
  constructor(readonly options: RunOptions) {
    const { script, cwd, env } = options
    try {
      // No shell, no arguments (RFC 3875 §4.4's search words are optional: C-11). `detached` makes the
      // script a session and process-group leader, so a kill of -pid reaches what it started.
      this.child = spawn(script, [], { cwd, env, detached: true, shell: false, stdio: 'pipe' })
    } catch (err) {
      throw spawnError(script, cwd, err)
    }
    // Every stream gets an error listener: EPIPE on stdin when the script does not read its body
    // (C-22), or a destroyed pipe, must never become an uncaught exception. (After EMFILE there are none.)
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) stream?.on('error', NOOP)
    this.#started = new Promise((resolve, reject) => {
      this.child.on('error', (err) => {
        if (this.child.pid !== undefined) return
        this.#finish()
        reject(spawnError(script, cwd, err))
      })
      if (this.child.pid !== undefined) resolve()
    })
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exited = true
        resolve({ code, signal, timedOut: this.#timedOut, aborted: this.#aborted })
      })
    })
    // `close` comes once the process exited and its stdout and stderr closed: nothing left to watch.
    this.child.once('close', () => this.#finish())
    this.activity()
    options.signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  /**
   * Restarts the timeout: it bounds the time without progress (no body byte taken in, no output taken out),
   * as mod_cgid's CGIDScriptTimeout does, so a long download to a client that keeps reading is not cut.
   */
  activity(): void {
    if (this.#stopped || this.#exited) return
    clearTimeout(this.#timer)
    // Past 2^31-1 ms setTimeout would fire at once: such a timeout (Infinity included) means none.
    if (this.options.timeoutMs <= MAX_TIMER_MS) {
      this.#timer = setTimeout(() => this.#timeout(), this.options.timeoutMs)
    }
  }

  /** Resolves once the process runs; rejects with a 502 when it could not be started (ENOENT, EACCES). */
  started(): Promise<void> {
    return this.#started
  }

  /**
   * Ends the run: SIGTERM to the group, SIGKILL after the grace, and the pipes closed so the body ends
   * (with `reason`, if given). Idempotent; harmless after the script exited (its group may live on).
   */
  stop(reason?: TsgiError): void {
    if (reason !== undefined) this.failure ??= reason
    const { stdin, stdout, stderr } = this.child
    if (!this.#stopped) {
      this.#stopped = true
      // Signal before closing the pipes: a script blocked writing to stdout would otherwise die of
      // SIGPIPE first, and its exit would not tell that we stopped it.
      this.#signalGroup('SIGTERM')
      // The leader may be gone while the group lives on (a grandchild ignoring SIGTERM): Linux keeps a
      // group's id from being reused while a member lives, so -pid still names only that group.
      setTimeout(() => {
        this.#signalGroup('SIGKILL')
        stderr?.destroy()
      }, KILL_GRACE_MS).unref()
    }
    stdin?.destroy()
    stdout?.destroy(this.failure)
  }

  #timeout(): void {
    if (!this.#exited) this.#timedOut = true
    const { script, timeoutMs } = this.options
    this.stop(new TsgiError('ERR_TIMEOUT', `cgi: ${script} made no progress for ${timeoutMs} ms`, { status: 504 }))
  }

  #abort(): void {
    if (!this.#exited) this.#aborted = true
    const reason: unknown = this.options.signal?.reason
    const error =
      reason instanceof TsgiError ? reason : new TsgiError('ERR_ABORTED', 'cgi: request aborted', { cause: reason })
    this.stop(error)
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid
    if (pid === undefined) return
    try {
      process.kill(-pid, signal)
    } catch {
      // ESRCH: the whole group is gone already.
    }
  }

  #finish(): void {
    clearTimeout(this.#timer)
    this.options.signal?.removeEventListener('abort', this.#onAbort)
  }
}
