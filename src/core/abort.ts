// tsgi.signal without paying for it: an AbortController is built only when the app reads tsgi.signal;
// the engine and the gateway track the abort through this object (a FastCGI hello never builds one).
import type { AbortState } from './engine.js'

export class LazyAbort implements AbortState {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown = undefined
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
    else (this.#listeners ??= []).push(listener)
  }
}
