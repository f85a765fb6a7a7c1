// Starting and stopping a node:http server the way the dev server and the front both need: listen with a
// clear error, then a close() that waits for requests in flight and frees idle keep-alive connections.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TsgiError } from '../errors.js'

export interface Listening {
  /** `http://host:port/` */
  url: string
  port: number
  /** Stops accepting, closes idle keep-alive connections, resolves when in-flight requests are done. */
  close(): Promise<void>
}

/** Listens on `host:port` (0 picks a free port); `who` names the server in the error message. */
export function listenHttp(server: Server, host: string, port: number, who: string): Promise<Listening> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new TsgiError('ERR_INVALID_ARGUMENT', `${who}: invalid port ${String(port)}`))
  }
  let closing: Promise<void> | undefined
  // Once closing, each finished response frees its keep-alive connection so close() can complete.
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    res.on('close', () => {
      if (closing) setImmediate(() => server.closeIdleConnections())
    })
  })
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()))
      server.closeIdleConnections()
    })
    return closing
  }
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const why = error.code ?? error.message
      reject(new TsgiError('ERR_LISTEN', `${who}: cannot listen on ${host}:${port}: ${why}`, { cause: error }))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const bound = (server.address() as AddressInfo).port
      resolve({ port: bound, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`, close })
    })
  })
}
