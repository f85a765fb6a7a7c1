// Writes a backend's answer onto a node:http response: the parsed CGI head as the status line and
// headers, the body streamed with backpressure; an NPH script's bytes straight onto the socket.
import type { ServerResponse } from 'node:http'
import { reasonPhrase } from '../core/http.js'
import { sendPlain } from '../gateways/http/sink.js'
import { drained } from '../net/drained.js'
import { cutResponse } from '../net/http-cut.js'
import { SERVER_SOFTWARE } from '../version.js'
import type { BackendResponse } from './types.js'

export interface Delivery {
  status: number
  bytes: number
  /** The client left, or the backend failed, before the body ended. */
  aborted: boolean
}

/**
 * Sends `response` (a CGI response, not a local redirect) and resolves when it is done or cut short. A
 * head node:http could not frame safely is a 502 (S-04); a body shorter than its Content-Length, or one
 * the backend failed in, is cut so the client sees it broken and never reuses the connection.
 */
export async function deliver(
  res: ServerResponse,
  response: BackendResponse,
  request: { method: string },
  onError: (error: unknown) => void,
): Promise<Delivery> {
  if (response.kind === 'nph') return deliverRaw(res, response.raw)
  const head = checkedHead(response.status, response.headers)
  if (typeof head === 'string') {
    onError(new Error(`bad response head: ${head}`))
    void response.body[Symbol.asyncIterator]().return?.() // stops the backend
    return { status: 502, bytes: sendPlain(res, 502), aborted: false }
  }
  // Written with the first body byte (node:http holds it until then anyway): until then a failure is a 502.
  const writeHead = (): void =>
    void res.writeHead(response.status, response.reason || reasonPhrase(response.status), head.flat)
  // A response to HEAD, a 204 and a 304 have no body whatever their Content-Length says (RFC 9110 §6.4.1).
  const bodiless = request.method === 'HEAD' || response.status === 204 || response.status === 304
  const length = bodiless ? undefined : head.length
  const bytes = await pump(res, response.body, { length, writeHead, onError })
  return { status: response.status, bytes: bytes ?? 0, aborted: bytes === undefined }
}

/**
 * The head as node:http takes it, or why it cannot go out: a 1xx or a bad length. Names and values were
 * checked and hop-by-hop fields dropped by the backend (protocol/cgi/fields.ts, S-04, C-18).
 */
function checkedHead(
  status: number,
  headers: ReadonlyArray<readonly [string, string]>,
): { flat: string[]; length: number | undefined } | string {
  if (status < 200) return `status ${status} is not a final response`
  const flat: string[] = []
  let hasServer = false
  let length: number | undefined
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    if (lower === 'server') hasServer = true
    if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) {
        return `Content-Length ${JSON.stringify(value)}`
      }
      length = Number(value)
    }
    flat.push(name, value)
  }
  if (!hasServer) flat.push('Server', SERVER_SOFTWARE)
  return { flat, length }
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
  { length, writeHead, onError }: { length: number | undefined; writeHead: () => void; onError: (e: unknown) => void },
): Promise<number | undefined> {
  const chunks = body[Symbol.asyncIterator]()
  let bytes = 0
  let headWritten = false
  try {
    while (length === undefined || bytes < length) {
      const next = await chunks.next()
      if (next.done) break
      if (res.destroyed) {
        await chunks.return?.() // stops the backend: kills the script, aborts the FastCGI request
        return undefined
      }
      const chunk = length === undefined ? next.value : next.value.subarray(0, length - bytes)
      if (!headWritten) {
        writeHead()
        headWritten = true
      }
      bytes += chunk.byteLength
      if (!res.write(chunk)) await drained(res)
    }
  } catch (error) {
    if (res.destroyed) return undefined // the client left: the backend stopped because we told it to
    onError(error)
    // The backend failed mid-body (a killed script, a lost connection): the client must see a broken
    // response, never a complete-looking one. Before any byte went out it can still get a clean 502.
    broken(res, headWritten, length !== undefined)
    return undefined
  }
  if (length !== undefined && bytes < length) {
    onError(new Error(`the body ended after ${bytes} of its ${length} bytes (Content-Length)`))
    broken(res, headWritten, true) // else the client would read the next response as the rest of this one
    return undefined
  }
  if (!headWritten) writeHead()
  if (length !== undefined) void discard(chunks)
  if (res.destroyed) return undefined
  await new Promise<void>((resolve) => {
    res.once('close', resolve) // the client may leave before 'finish'
    res.end(resolve)
  })
  return bytes
}

/** A response that failed: a clean 502 while nothing went out, else cut so the client sees it broken. */
function broken(res: ServerResponse, headWritten: boolean, hasLength: boolean): void {
  if (!headWritten) sendPlain(res, 502)
  else cutResponse(res, hasLength)
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
    // NPH output is framed by the script: only a reset tells the client it was cut (C-19).
    socket.resetAndDestroy()
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
