// The validator's wrappers for tsgi.input, tsgi.fastcgi.data and tsgi.errors (SPEC §3.3): the app's
// calls are checked (arguments, one read at a time, none after the response), and so are the gateway's answers.
import type { ErrorStream, InputStream } from '../../app.js'
import type { AppResponse } from './app-response.js'
import { describe, isThenable, violation } from './common.js'

/** Wraps an input stream the gateway provides; `name` is its environ key, for messages. */
export function wrapInput(input: InputStream, exchange: AppResponse, name: string): InputStream {
  return new CheckedInput(input, exchange, name)
}

class CheckedInput implements InputStream {
  readonly #input: InputStream
  readonly #exchange: AppResponse
  readonly #name: string
  #busy = false

  constructor(input: InputStream, exchange: AppResponse, name: string) {
    this.#input = input
    this.#exchange = exchange
    this.#name = name
  }

  read(...args: unknown[]): Promise<Uint8Array> {
    const name = this.#name
    if (args.length > 1)
      throw violation(`${name}.read() takes at most one argument (size), got ${args.length} (SPEC §3.3)`)
    const size = args[0]
    if (size !== undefined && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
      throw violation(`${name}.read() size must be a non-negative integer, got ${describe(size)} (SPEC §3.3)`)
    }
    this.#enter('read()')
    let pending: unknown
    try {
      pending = this.#input.read(size)
    } catch (err) {
      this.#busy = false
      throw err
    }
    if (!isThenable(pending)) {
      this.#busy = false
      throw violation(`the gateway's ${name}.read() must return a promise, got ${describe(pending)} (SPEC §3.3)`)
    }
    return Promise.resolve(pending).then(
      (bytes) => {
        this.#busy = false
        checkBytes(bytes, `${name}.read()`)
        if (size !== undefined && bytes.byteLength > size) {
          throw violation(`the gateway's ${name}.read(${size}) resolved to ${bytes.byteLength} bytes (SPEC §3.3)`)
        }
        return bytes
      },
      (err: unknown) => {
        this.#busy = false
        throw err
      },
    )
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const iterator = this.#input[Symbol.asyncIterator]()
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        this.#enter('iteration')
        let step: IteratorResult<unknown>
        try {
          step = await iterator.next()
        } finally {
          this.#busy = false
        }
        if (step.done !== true) checkBytes(step.value, `${this.#name} iteration`)
        return step as IteratorResult<Uint8Array>
      },
      return: async (value?: unknown): Promise<IteratorResult<Uint8Array>> => {
        const result = await iterator.return?.(value)
        return (result as IteratorResult<Uint8Array> | undefined) ?? { done: true, value: undefined }
      },
    }
  }

  #enter(what: string): void {
    if (this.#exchange.ended) throw violation(`${this.#name} ${what} after the response ended (SPEC §3.3)`)
    if (this.#busy) throw violation(`${this.#name} ${what} while another read was pending (SPEC §3.3)`)
    this.#busy = true
  }
}

function checkBytes(value: unknown, source: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw violation(`the gateway's ${source} produced ${describe(value)}, not a Uint8Array (SPEC §3.3)`)
  }
}

/** tsgi.errors for the app: strings only (SPEC §3.3). */
export function wrapErrors(errors: ErrorStream): ErrorStream {
  return {
    write(...args: unknown[]): void {
      if (args.length !== 1 || typeof args[0] !== 'string') {
        throw violation(`tsgi.errors.write() takes one string, got ${describe(args[0])} (SPEC §3.3)`)
      }
      errors.write(args[0])
    },
    flush(): void {
      errors.flush?.()
    },
  }
}
