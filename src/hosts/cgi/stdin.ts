// The request body to the script's stdin (RFC 3875 §4.2), one chunk at a time with write backpressure;
// a script that stops reading (or never starts, C-22) only ends the copy.
import type { Writable } from 'node:stream'
import { drained } from '../../net/drained.js'

/**
 * Copies `body` into `stdin` and closes it; never throws. Waits for 'drain' when the pipe is full, so
 * the caller's source is read no faster than the script reads. When the script closes its stdin (EPIPE,
 * or it exited), the rest of the body is not read: the source's return() is called. A source that fails
 * ends stdin early, and the script sees a body shorter than CONTENT_LENGTH (C-04). Chunks are written as
 * they are, so the source must not reuse them.
 */
export async function pumpBody(
  body: AsyncIterable<Uint8Array> | undefined,
  stdin: Writable,
  progress: () => void = () => {},
): Promise<void> {
  try {
    if (body !== undefined) {
      for await (const chunk of body) {
        if (stdin.destroyed) return
        if (chunk.length > 0 && !stdin.write(chunk)) await drained(stdin)
        progress()
      }
    }
  } catch {
    // The caller's body failed (its client left mid-upload, say): stdin is closed below.
  } finally {
    if (!stdin.destroyed) stdin.end()
  }
}
