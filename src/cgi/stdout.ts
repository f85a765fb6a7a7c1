// The CGI response sink: writes the head and each body chunk to stdout as the engine hands them over,
// waits for 'drain' on backpressure, and takes EPIPE/ECONNRESET to mean the web server went away.
import type { Writable } from 'node:stream'
import type { ErrorStream, HeaderList } from '../app.js'
import type { ResponseSink } from '../core/engine.js'
import { encodeLatin1, formatCgiHead, type CgiHeadOptions } from './response.js'

// The web server closed our stdout (client gone, script timeout): routine, not a failure of ours.
const GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'])

export class StdoutSink implements ResponseSink {
  /** stdout is unusable: nothing more is written. */
  gone = false
  /** The response could not be delivered whole (a write failed, or the engine aborted after the head). */
  failed = false
  readonly #out: Writable
  readonly #errors: ErrorStream
  readonly #onGone: () => void
  readonly #headOptions: CgiHeadOptions
  #last: Promise<void> | undefined

  constructor(out: Writable, errors: ErrorStream, onGone: () => void, headOptions: CgiHeadOptions) {
    this.#out = out
    this.#errors = errors
    this.#onGone = onGone
    this.#headOptions = headOptions
    // Kept for the life of the process: an EPIPE may surface after the last write.
    out.on('error', (err: NodeJS.ErrnoException) => this.#lost(err))
  }

  head(status: number, reason: string, headers: HeaderList): Promise<void> | undefined {
    return this.#write(encodeLatin1(formatCgiHead(status, reason, headers, this.#headOptions)))
  }

  body(chunk: Uint8Array): Promise<void> | undefined {
    return this.#write(chunk)
  }

  end(): void {}

  abort(): void {
    // The engine logged the app's error. All CGI can do now is stop short and exit non-zero (C-20).
    this.failed = true
    this.#errors.write('cgi: the response was cut short after its head was sent\n')
  }

  /** Resolves once every byte written so far was handed to the OS, or stdout failed. */
  async settled(): Promise<void> {
    if (this.#last !== undefined) await this.#last
  }

  #write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.gone) return undefined
    const out = this.#out
    let ok = true
    this.#last = new Promise<void>((resolve) => {
      ok = out.write(bytes, () => resolve())
    })
    if (ok || this.gone) return undefined
    return new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done)
        out.off('error', done)
        out.off('close', done)
        resolve()
      }
      out.on('drain', done)
      out.on('error', done)
      out.on('close', done)
    })
  }

  #lost(err: NodeJS.ErrnoException): void {
    if (this.gone) return
    this.gone = true
    if (err.code === undefined || !GONE.has(err.code)) {
      this.failed = true
      this.#errors.write(`cgi: writing the response failed: ${err.message}\n`)
    }
    // Stop the app: tsgi.signal fires, the engine stops pulling the body and closes it.
    this.#onGone()
  }
}

/** Writes a message, ignoring a stream that is already broken (stderr may be closed too). */
export function writeQuietly(stream: Writable, message: string): void {
  try {
    if (!stream.destroyed) stream.write(message)
  } catch {
    // Nothing left to report to.
  }
}

/** An error for the log: its stack when it has one. */
export function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)
}
