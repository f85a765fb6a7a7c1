// The dev server's ResponseSink: the engine's head/body/end/abort onto a node:http ServerResponse, with
// 'drain' backpressure, plus the hold-back that spots an RFC 3875 §6.2.2 local redirect.
import type { ServerResponse } from 'node:http'
import type { HeaderList } from '../../app.js'
import type { ResponseSink } from '../../core/engine.js'
import { reasonPhrase } from '../../core/http.js'
import { drained } from '../../net/drained.js'
import { cutResponse } from '../../net/http-cut.js'
import { localRedirectOf } from '../../protocol/cgi/redirect.js'
import { SERVER_SOFTWARE } from '../../version.js'

interface ResponseHead {
  status: number
  reason: string
  headers: HeaderList
}

export class NodeSink implements ResponseSink {
  /** Set when the response was a local redirect: the Location to re-dispatch to. Nothing was sent. */
  localRedirect: string | undefined
  #held: (ResponseHead & { target: string }) | undefined
  #hasLength = false

  /** `gone` fires tsgi.signal: a client that left is not an app failure, so writes then just stop. */
  constructor(
    private readonly res: ServerResponse,
    private readonly gone: () => void,
  ) {}

  head(status: number, reason: string, headers: HeaderList): void {
    // RFC 3875 §6.2.2: 200 + a Location that is an absolute path + no body is a local redirect. The body
    // is not known yet, so hold the head back until the first body byte or the end decides.
    const target = localRedirectOf(status, headers)
    if (target !== undefined) {
      this.#held = { target, status, reason, headers }
      return
    }
    this.#writeHead({ status, reason, headers })
  }

  body(chunk: Uint8Array): void | Promise<void> {
    this.#flushHeld()
    const res = this.res
    if (res.destroyed) return this.gone()
    if (res.write(chunk)) return
    // 'drain', or 'close' when the client left while the app waited: that fires tsgi.signal.
    return drained(res).then(() => {
      if (res.destroyed) this.gone()
    })
  }

  end(): Promise<void> {
    if (this.#held) {
      this.localRedirect = this.#held.target
      this.#held = undefined
      return Promise.resolve()
    }
    const res = this.res
    return new Promise((resolve) => {
      if (res.destroyed) return resolve()
      // 'finish' when the last byte is handed to the OS; 'close' if the client left first.
      const done = (): void => {
        res.off('finish', done)
        res.off('close', done)
        resolve()
      }
      res.on('finish', done)
      res.on('close', done)
      res.end()
    })
  }

  abort(): void {
    // Nothing reached the client while a head was held back: it can still get a clean 500.
    if (this.#held) {
      this.#held = undefined
      sendPlain(this.res, 500)
      return
    }
    // Otherwise the client must see a broken response, never a complete-looking one.
    cutResponse(this.res, this.#hasLength)
  }

  #flushHeld(): void {
    if (this.#held) {
      this.#writeHead(this.#held)
      this.#held = undefined
    }
  }

  #writeHead({ status, reason, headers }: ResponseHead): void {
    const flat: string[] = []
    let hasServer = false
    for (const [name, value] of headers) {
      flat.push(name, value)
      const lower = name.toLowerCase()
      if (lower === 'server') hasServer = true
      else if (lower === 'content-length') this.#hasLength = true
    }
    // wsgiref's simple_server names itself too; node:http adds Date.
    if (!hasServer) flat.push('Server', SERVER_SOFTWARE)
    this.res.writeHead(status, reason, flat)
  }
}

/** A complete plain-text response written by the server itself (bad target, redirect loop, ...). */
export function sendPlain(res: ServerResponse, status: number): number {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return 0
  }
  const body = Buffer.from(`${reasonPhrase(status)}\n`)
  res.writeHead(status, reasonPhrase(status), [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(body.byteLength),
    'Server',
    SERVER_SOFTWARE,
  ])
  res.end(body)
  return body.byteLength
}
