// Node listeners as TSGI apps: fromNode(listener) runs an Express, Connect or node:http `(req, res)` app
// under every tsgi gateway, unchanged and without patching node:http. The app gets a real IncomingMessage
// and ServerResponse over a socket-like stream; what it writes there (an HTTP/1.1 head, then the body as
// is, never chunked) becomes startResponse and the body's chunks, pulled with backpressure.
import { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { AppFunction, Body, Environ, StartResponse } from '../app.js'
import { abortStateOf } from '../core/abort.js'
import { ResponseSocket } from './node-socket.js'
import { type MountOptions, target } from './url.js'

/** A node:http request listener; Connect-style apps take `next` as a third argument. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => unknown

export type FromNodeOptions = MountOptions

/** The TSGI app that serves `listener`. */
export function fromNode(listener: NodeListener, options: FromNodeOptions = {}): AppFunction {
  return function nodeApp(environ: Environ, startResponse: StartResponse): Body {
    const socket = new ResponseSocket(environ, startResponse, options)
    // It stands in for the connection: node:http uses its stream side and a few of net.Socket's fields.
    const connection = socket as unknown as Socket
    const req = requestOf(environ, socket, connection, options)
    const res = new ServerResponse(req)
    // The web server frames the response for its client: the app's bytes pass as they are, never chunked.
    res.useChunkedEncodingByDefault = false
    res.sendDate = false // the web server sends its own Date
    res.assignSocket(connection)
    // As node:http's server does: the socket drained, so a waiting writer (pipeline, sendFile) goes on.
    socket.on('drain', () => {
      if (res.writableNeedDrain) res.emit('drain')
    })
    // The response is complete once its last write was pulled. As on node:http, the connection's part ends
    // (res then emits 'close') and a body the app did not read is read and dropped.
    res.once('finish', () => {
      // After this write's callbacks have run: destroying within them would fail the stream's own ones.
      process.nextTick(() => socket.destroy())
      if (!req.readableEnded) req.resume()
    })
    // tsgi.signal: the client left. Node's own server closes req and res then ('close' on both).
    abortStateOf(environ)?.onAbort(() => {
      req.destroy()
      socket.destroy()
    })
    const next = (error?: unknown): void => notFoundOrFailed(res, environ, error)
    try {
      const returned = listener(req, res, next)
      if (returned instanceof Promise) returned.catch(next)
    } catch (error) {
      next(error)
    }
    return socket.body
  }
}

/** The request as node:http would have parsed it, its body read from tsgi.input as the app reads. */
function requestOf(
  environ: Environ,
  socket: ResponseSocket,
  connection: Socket,
  options: MountOptions,
): IncomingMessage {
  const req = new IncomingMessage(connection)
  req.method = environ.REQUEST_METHOD
  req.url = target(environ, options)
  const version = /^HTTP\/(\d)\.(\d)$/.exec(environ.SERVER_PROTOCOL) ?? ['', '1', '1']
  req.httpVersionMajor = Number(version[1])
  req.httpVersionMinor = Number(version[2])
  req.httpVersion = `${version[1]}.${version[2]}`
  for (const [name, value] of socket.requestHeaders) {
    req.rawHeaders.push(name, value)
    addHeader(req.headers, name, value)
  }
  // Pushed as tsgi.input yields it, until push() says the app's buffer is full; its next _read() resumes.
  const input = environ['tsgi.input']
  let pumping = false
  const pump = async (): Promise<void> => {
    pumping = true
    try {
      for (;;) {
        const chunk = await input.read(64 * 1024)
        if (chunk.byteLength === 0) {
          req.complete = true
          req.push(null)
          return
        }
        if (!req.push(chunk)) return
      }
    } catch (error) {
      req.destroy(error instanceof Error ? error : new Error(String(error)))
    } finally {
      pumping = false
    }
  }
  req._read = () => {
    if (!pumping) void pump()
  }
  return req
}

/** node:http's rules for a repeated header: Set-Cookie a list, Cookie joined by '; ', others by ', '. */
function addHeader(headers: IncomingMessage['headers'], name: string, value: string): void {
  const previous = headers[name]
  if (name === 'set-cookie') headers[name] = [...((previous as string[] | undefined) ?? []), value]
  else if (previous === undefined) headers[name] = value
  else headers[name] = `${previous}${name === 'cookie' ? '; ' : ', '}${value}`
}

/** The end of a Connect chain: next() is a 404, next(error) a 500 whose stack goes to tsgi.errors. */
function notFoundOrFailed(res: ServerResponse, environ: Environ, error: unknown): void {
  if (error !== undefined && error !== null) {
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error)
    environ['tsgi.errors'].write(`fromNode: error in application: ${why}\n`)
  }
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = error === undefined || error === null ? 404 : 500
  const text = status === 404 ? 'Not Found\n' : 'Internal Server Error\n'
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(text.length) })
  res.end(text)
}
