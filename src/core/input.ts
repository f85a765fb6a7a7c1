// The request body stream behind tsgi.input (SPEC §3.3): gateways push bytes in, the app pulls.
// Buffering above a high-water mark asks the gateway to pause its source (backpressure). Pure code.
import type { InputStream } from '../app.js'

export interface BodyInputOptions {
  /** CONTENT_LENGTH when known: bytes past it are dropped; ending short fails with ERR_BODY_INCOMPLETE. */
  expectedLength?: number
  /** Largest body accepted; more fails reads with ERR_BODY_TOO_LARGE (status 413). */
  limit?: number
  /** Buffered bytes above which onPause is called (default 64 KiB). */
  highWaterMark?: number
  /** Stop reading the source (socket.pause()). */
  onPause?: () => void
  /** Start reading the source again. */
  onResume?: () => void
}

export declare class BodyInput implements InputStream {
  constructor(options?: BodyInputOptions)
  /** Gateway side: bytes arrived. */
  push(chunk: Uint8Array): void
  /** Gateway side: the source ended (EOF / empty STDIN record). */
  end(): void
  /** Gateway side: the source failed (connection lost, abort). Pending and later reads reject. */
  fail(error: unknown): void
  /** True once the whole body was received (end() called). */
  readonly ended: boolean
  /** Bytes received so far. */
  readonly received: number
  /** Read and drop the rest of the body; resolves to the bytes dropped. */
  discard(): Promise<number>
  read(size?: number): Promise<Uint8Array>
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>
  /** An input that is already at its end. */
  static empty(): BodyInput
}
