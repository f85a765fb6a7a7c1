// The one timer of a responder connection: what the web server owes us next (a request, the rest of its
// PARAMS, more STDIN) and by when. Arming only moves a deadline; the timer, when it wakes early, sleeps again
// until it. A kept connection serving requests back to back then costs no setTimeout per request.

export type DeadlineKind = 'idle' | 'params' | 'input'

export interface DeadlineLimits {
  idleTimeoutMs: number
  paramsTimeoutMs: number
  inputTimeoutMs: number
}

const MESSAGES: Record<DeadlineKind, (ms: number) => string> = {
  idle: (ms) => `idle for ${ms} ms`,
  params: (ms) => `PARAMS not received within ${ms} ms`,
  input: (ms) => `no STDIN for ${ms} ms while a request waited for its body`,
}

export class Deadline {
  #timer: NodeJS.Timeout | undefined
  #kind: DeadlineKind | undefined
  #at = 0
  readonly #shortest: number

  /**
   * `expire(message)` runs when a deadline passes; `holds(kind)` may postpone it (an input deadline while
   * the socket is paused for our own app's backpressure is not the web server's fault).
   */
  constructor(
    readonly limits: DeadlineLimits,
    readonly expire: (message: string) => void,
    readonly holds: (kind: DeadlineKind) => boolean,
  ) {
    this.#shortest = Math.min(limits.idleTimeoutMs, limits.paramsTimeoutMs, limits.inputTimeoutMs)
  }

  get kind(): DeadlineKind | undefined {
    return this.#kind
  }

  arm(kind: DeadlineKind): void {
    const ms = this.#limit(kind)
    this.#kind = kind
    this.#at = Date.now() + ms
    // The timer never sleeps longer than the shortest limit, so it always wakes before any deadline
    // armed after it, and arming never has to reschedule it.
    if (this.#timer === undefined) this.#sleep(ms)
  }

  /** Pushes the current deadline of `kind` back by its full limit (more bytes arrived). */
  extend(kind: DeadlineKind): void {
    if (this.#kind === kind) this.#at = Date.now() + this.#limit(kind)
  }

  /** Nothing is owed any more; the sleeping timer finds nothing to do when it wakes. */
  clear(): void {
    this.#kind = undefined
  }

  stop(): void {
    this.#kind = undefined
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #limit(kind: DeadlineKind): number {
    const { limits } = this
    return kind === 'idle' ? limits.idleTimeoutMs : kind === 'params' ? limits.paramsTimeoutMs : limits.inputTimeoutMs
  }

  #sleep(ms: number): void {
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        const kind = this.#kind
        if (kind === undefined) return
        const left = this.#at - Date.now()
        if (left > 0) return this.#sleep(left)
        if (this.holds(kind)) return this.arm(kind)
        this.expire(MESSAGES[kind](this.#limit(kind)))
      },
      Math.min(ms, this.#shortest),
    )
    this.#timer.unref()
  }
}
