// Writes a backend's answer onto a node:http response: the parsed CGI head as the status line and
// headers, the body streamed with backpressure; an NPH script's bytes straight onto the socket.
import type { ServerResponse } from 'node:http'
import { HOP_BY_HOP, reasonPhrase } from '../core/http.js'
import { drained } from '../net/drained.js'
import { SERVER_SOFTWARE } from '../version.js'
import type { BackendResponse } from './types.js'

export interface Delivery {
  status: number
  bytes: number
  /** The client left, or the backend failed, before the body ended. */
  aborted: boolean
}

/** Sends `response` (a CGI response, not a local redirect) and resolves when it is done or cut short. */
export async function deliver(
  res: ServerResponse,
  response: BackendResponse,
  onError: (error: unknown) => void,
): Promise<Delivery> {
  if (response.kind === 'nph') return deliverRaw(res, response.raw)
  const flat: string[] = []
  let hasServer = false
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase()
    // RFC 3875 §6.3.4 (C-18): the connection is ours, not the script's; node:http frames the body.
    if (HOP_BY_HOP.has(lower)) continue
    if (lower === 'server') hasServer = true
    flat.push(name, value)
  }
  if (!hasServer) flat.push('Server', SERVER_SOFTWARE)
  res.writeHead(response.status, response.reason || reasonPhrase(response.status), flat)
  const bytes = await pump(res, response.body, declaredLength(response.headers), onError)
  return { status: response.status, bytes: bytes ?? 0, aborted: bytes === undefined }
}

/** The script's Content-Length, when it gave one that parses. */
function declaredLength(headers: ReadonlyArray<readonly [string, string]>): number | undefined {
  const value = headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1]
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined
}

/**
 * Body chunks onto `res`, waiting for 'drain'; the byte count, or undefined when it was cut short. A body
 * with a Content-Length is complete at that many bytes: the response ends there, without waiting for the
 * script to close stdout and exit (the client would wait, and the next request on its connection too);
 * the rest of the backend's output is read and dropped so the script can finish.
 */
async function pump(
  res: ServerResponse,
  body: AsyncIterable<Uint8Array>,
  length: number | undefined,
  onError: (error: unknown) => void,
): Promise<number | undefined> {
  const chunks = body[Symbol.asyncIterator]()
  let bytes = 0
  try {
    while (length === undefined || bytes < length) {
      const next = await chunks.next()
      if (next.done) break
      if (res.destroyed) {
        await chunks.return?.() // stops the backend: kills the script, aborts the FastCGI request
        return undefined
      }
      const chunk = length === undefined ? next.value : next.value.subarray(0, length - bytes)
      bytes += chunk.byteLength
      if (!res.write(chunk)) await drained(res)
    }
  } catch (error) {
    if (!res.destroyed) onError(error) // else the client left: the backend stopped because we told it to
    // The backend failed mid-body (a killed script, a lost connection): the client must see a broken
    // response, never a complete-looking one, so the connection is closed without the last chunk.
    res.destroy()
    return undefined
  }
  if (length !== undefined && bytes >= length) void discard(chunks)
  if (res.destroyed) return undefined
  await new Promise<void>((resolve) => {
    res.once('close', resolve) // the client may leave before 'finish'
    res.end(resolve)
  })
  return bytes
}

/** RFC 3875 §5 (C-19): a non-parsed-header script's output is the response, relayed unchanged. */
async function deliverRaw(res: ServerResponse, raw: AsyncIterable<Uint8Array>): Promise<Delivery> {
  const socket = res.socket
  let bytes = 0
  let status = 0
  if (socket === null) return { status, bytes, aborted: true }
  // The connection is the script's now: nothing from node:http may follow its bytes.
  res.shouldKeepAlive = false
  try {
    for await (const chunk of raw) {
      if (socket.destroyed) return { status, bytes, aborted: true }
      if (bytes === 0) status = statusOf(chunk)
      bytes += chunk.byteLength
      if (!socket.write(chunk)) await drained(socket)
    }
  } catch {
    socket.destroy()
    return { status, bytes, aborted: true }
  }
  socket.destroySoon()
  return { status, bytes, aborted: false }
}

/** The code of a status line `HTTP/1.1 200 OK`, for the access log. */
function statusOf(chunk: Uint8Array): number {
  const line = new TextDecoder('latin1').decode(chunk.subarray(0, 16))
  return Number(/^HTTP\/\d\.\d (\d{3})/.exec(line)?.[1] ?? 0)
}

/** Reads what the backend still sends after a complete response, so it can finish; failures no longer matter. */
async function discard(chunks: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    while (!(await chunks.next()).done);
  } catch {}
}
