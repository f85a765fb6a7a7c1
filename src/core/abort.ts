// tsgi.signal (SPEC §3.3) from the gateway's side: RequestAbort is a flag and its listeners, and makes the
// AbortSignal only when the app reads tsgi.signal (most requests never do; docs/performance.md).
// The engine finds a gateway's RequestAbort through the environ, so it needs no option for it.
import type { Environ } from '../app.js'

/** Whether the client went away, and a way to hear when it does: what the engine watches. */
export interface AbortState {
  readonly aborted: boolean
  onAbort(listener: () => void): void
}

export class RequestAbort implements AbortState {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown
  #listeners: Array<() => void> | undefined

  get aborted(): boolean {
    return this.#aborted
  }

  /** The AbortSignal behind tsgi.signal, made on first use (already aborted if the client left before). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** The client went away: fires tsgi.signal (if made) and the listeners, once. */
  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
    const listeners = this.#listeners
    this.#listeners = undefined
    if (listeners !== undefined) for (const listener of listeners) listener()
  }

  onAbort(listener: () => void): void {
    if (this.#aborted) listener()
    else {
      this.#listeners ??= []
      this.#listeners.push(listener)
    }
  }
}

const SOURCE = Symbol('tsgi.signal source')

// One getter shared by every environ, reading the request's RequestAbort from a symbol key: the
// environ keeps a fast shape (a getter made per request would give each environ its own).
const LAZY_SIGNAL: PropertyDescriptor = {
  get(this: { [SOURCE]: RequestAbort }): AbortSignal {
    return this[SOURCE].signal
  },
  enumerable: true,
  configurable: true,
}

/** Sets tsgi.signal on an environ being built: the signal itself, or a getter asking `abort` on first read. */
export function setSignal(environ: Record<string | symbol, unknown>, signal: AbortSignal | RequestAbort): void {
  if (signal instanceof RequestAbort) {
    environ[SOURCE] = signal
    Object.defineProperty(environ, 'tsgi.signal', LAZY_SIGNAL)
  } else {
    environ['tsgi.signal'] = signal
  }
}

/** What the engine watches: the gateway's RequestAbort when it set one, else tsgi.signal itself. */
export function abortStateOf(environ: Environ): AbortState | undefined {
  const source = (environ as { [SOURCE]?: unknown })[SOURCE]
  if (source instanceof RequestAbort) return source
  const signal = environ['tsgi.signal']
  if (!(signal instanceof AbortSignal)) return undefined
  return {
    get aborted() {
      return signal.aborted
    },
    onAbort: (listener) => signal.addEventListener('abort', listener, { once: true }),
  }
}
