// The CGI response sink: writes the head and each body chunk to stdout as the engine hands them over,
// waits on backpressure, and takes EPIPE/ECONNRESET to mean the web server went away.
import type { Writable } from 'node:stream'
import type { ErrorStream, HeaderList } from '../../app.js'
import type { ResponseSink } from '../../core/engine.js'
import { type CgiHeadOptions, encodeLatin1, formatCgiHead } from '../../protocol/cgi/head.js'

// The web server closed our stdout (client gone, script timeout): routine, not a failure of ours.
const GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'])

/** Body bytes written synchronously before the sink lets the event loop run (signals, timers). */
const YIELD_BYTES = 1024 * 1024

/**
 * Where the bytes go: a file descriptor written with `write` (node:fs writeSync; no process.stdout to
 * build: faster CGI start-up, docs/performance.md), Bun's own file sink for it, or a Writable. Web servers
 * give CGI scripts a blocking pipe; if the descriptor is non-blocking after all (EAGAIN), the rest goes
 * through `fallback`.
 */
export type Output =
  | { fd: number; write: WriteFd; fallback: () => Writable }
  | { sink: FileSink }
  | { stream: Writable }

export type WriteFd = (fd: number, bytes: Uint8Array, offset: number) => number

/** Bun's FileSink (`Bun.stdout.writer()`): buffers what it is given; flush() hands it to the OS. */
export interface FileSink {
  write(bytes: Uint8Array): number | Promise<number>
  flush(): number | Promise<number>
}

export class StdoutSink implements ResponseSink {
  /** stdout is unusable: nothing more is written. */
  gone = false
  /** The response could not be delivered whole (a write failed, or the engine aborted after the head). */
  failed = false
  #fd: number | undefined
  #writeFd: WriteFd | undefined
  #fallback: (() => Writable) | undefined
  #sink: FileSink | undefined
  #out: Writable | undefined
  readonly #errors: ErrorStream
  readonly #onGone: () => void
  readonly #headOptions: CgiHeadOptions
  #last: Promise<void> | undefined
  #sinceYield = 0

  constructor(output: Output, errors: ErrorStream, onGone: () => void, headOptions: CgiHeadOptions) {
    if ('fd' in output) {
      this.#fd = output.fd
      this.#writeFd = output.write
      this.#fallback = output.fallback
    } else if ('sink' in output) {
      this.#sink = output.sink
    } else {
      this.#useStream(output.stream)
    }
    this.#errors = errors
    this.#onGone = onGone
    this.#headOptions = headOptions
  }

  head(status: number, reason: string, headers: HeaderList): Promise<void> | undefined {
    return this.#write(encodeLatin1(formatCgiHead(status, reason, headers, this.#headOptions)))
  }

  body(chunk: Uint8Array): Promise<void> | undefined {
    const wait = this.#write(chunk)
    if (wait !== undefined) return wait
    // Synchronous writes never return to the event loop: a long body would starve signal delivery
    // (mod_cgid's SIGTERM on client abort) and timers. Yield once per YIELD_BYTES.
    this.#sinceYield += chunk.byteLength
    if (this.#sinceYield < YIELD_BYTES) return undefined
    this.#sinceYield = 0
    return new Promise((resolve) => setImmediate(resolve))
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
    if (this.#sink !== undefined) return this.#writeSink(this.#sink, bytes)
    if (this.#fd !== undefined) {
      const rest = this.#writeToFd(this.#fd, bytes)
      if (rest === undefined) return undefined
      bytes = rest
    }
    return this.#writeStream(this.#out!, bytes)
  }

  /** Hands `bytes` to the file sink; waits only when the OS does not take them at once (backpressure). */
  #writeSink(sink: FileSink, bytes: Uint8Array): Promise<void> | undefined {
    try {
      // Either call may answer with a promise when the OS does not take the bytes at once; a failure
      // (EPIPE: the web server went away) then comes as its rejection.
      const written = sink.write(bytes)
      const flushed = typeof written === 'number' ? sink.flush() : written.then(() => sink.flush())
      if (typeof flushed === 'number') return undefined
      const done = flushed.then(
        () => {},
        (err: NodeJS.ErrnoException) => this.#lost(err),
      )
      this.#last = done
      return done
    } catch (err) {
      this.#lost(err as NodeJS.ErrnoException)
      return undefined
    }
  }

  /** Writes all of `bytes` to the descriptor; returns what is left when it must switch to the stream. */
  #writeToFd(fd: number, bytes: Uint8Array): Uint8Array | undefined {
    let offset = 0
    try {
      while (offset < bytes.byteLength) offset += this.#writeFd!(fd, bytes, offset)
      return undefined
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
        this.#lost(err as NodeJS.ErrnoException)
        return undefined
      }
      this.#fd = undefined
      this.#useStream(this.#fallback!())
      return bytes.subarray(offset)
    }
  }

  #useStream(out: Writable): void {
    this.#out = out
    // Kept for the life of the process: an EPIPE may surface after the last write.
    out.on('error', (err: NodeJS.ErrnoException) => this.#lost(err))
  }

  #writeStream(out: Writable, bytes: Uint8Array): Promise<void> | undefined {
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
