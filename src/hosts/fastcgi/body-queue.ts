// The FastCGI client's response body: a queue the connection pushes STDOUT into and one consumer pulls
// from; above its high-water mark it asks the connection to stop reading (backpressure).
import { TsgiError } from '../../errors.js'
import { concatBytes } from '../../protocol/fastcgi/index.js'

/** The response body: a queue the connection pushes into and one consumer pulls from. */
export class BodyQueue implements AsyncIterable<Uint8Array> {
  #chunks: Uint8Array[] = []
  #buffered = 0
  #paused = false
  #ended = false
  #error: unknown
  #taken = false
  #wake: (() => void) | undefined

  constructor(
    readonly hwm: number,
    readonly onPressure: (paused: boolean) => void,
    readonly onCancel: (error: unknown) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.#ended || this.#error !== undefined) return
    this.#chunks.push(chunk)
    this.#buffered += chunk.length
    if (!this.#paused && this.#buffered > this.hwm) this.#setPaused(true)
    this.#signal()
  }

  end(): void {
    this.#ended = true
    this.#signal()
  }

  fail(error: unknown): void {
    if (this.#ended || this.#error !== undefined) return
    this.#error = error // chunks already here are still read first
    if (this.#paused) this.#setPaused(false)
    this.#signal()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.#taken) throw new TsgiError('ERR_BODY_CONSUMED', 'fcgi: the response body was already read')
    this.#taken = true
    let done = false
    try {
      for (;;) {
        const chunk = this.#chunks.shift()
        if (chunk !== undefined) {
          this.#buffered -= chunk.length
          if (this.#paused && this.#buffered <= this.hwm / 2) this.#setPaused(false)
          yield chunk
          continue
        }
        if (this.#error !== undefined) throw this.#error
        if (this.#ended) {
          done = true
          return
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
    } finally {
      // The consumer stopped early (break, return): the rest is not wanted, abort the request.
      if (!done && this.#error === undefined)
        this.onCancel(new TsgiError('ERR_ABORTED', 'fcgi: response body abandoned'))
    }
  }

  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    for await (const chunk of this) parts.push(chunk)
    return parts.length === 1 ? parts[0]! : concatBytes(parts)
  }

  #setPaused(paused: boolean): void {
    this.#paused = paused
    this.onPressure(paused)
  }

  #signal(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
