// Ending a node:http response that failed after it began, so that the client sees it broken: a response
// that looks complete when it is not is the one failure a client cannot detect.
import type { ServerResponse } from 'node:http'

/** Cuts `res` short; `hasLength`: the head carried a Content-Length. */
export function cutResponse(res: ServerResponse, hasLength: boolean): void {
  const socket = res.socket
  if (socket === null || socket.destroyed) return void res.destroy()
  // Without a Content-Length only an HTTP/1.0 response is close-delimited: HTTP/1.1 ones are chunked (asked
  // of the request, not of res.chunkedEncoding, which Bun's node:http leaves false).
  if (!hasLength && res.req?.httpVersion === '1.0') {
    // The body ends where the connection closes: a FIN would pass for a complete body, so reset. The
    // client may lose bytes still in flight: it was failing.
    socket.resetAndDestroy()
  } else {
    // Chunked or Content-Length framing: flush what was written, then close. The missing last chunk
    // or the short body is what the client sees as the failure. Node 24.22+ holds auto-corked chunked
    // writes in the response until the next tick (nodejs/node#64987): uncork them onto the socket first.
    while (res.writableCorked > 0) res.uncork()
    socket.destroySoon()
  }
}
