// The dev-server transport (node:http on 127.0.0.1:0) and httpExchange(), the HTTP client it shares
// with the web-server fronts of test/integration/_http-transport.ts.
import { type Agent, Agent as HttpAgent, request as httpRequest } from 'node:http'
import type { App } from '../src/app.js'
import { serve } from '../src/gateways/http/index.js'
import type { ConfRequest, ConfResponse, TransportFactory } from './_transports.js'

/**
 * `keepAlive`: requests share one kept-alive connection (a stuck connection shows in the next request);
 * else each has its own, with `Connection: close` (the conformance suite's way).
 */
export function devServerFactory(name: string, app: App, keepAlive: boolean): TransportFactory {
  return {
    name,
    async start() {
      let stderr = ''
      const server = await serve(app, {
        port: 0,
        log: false,
        errors: {
          write: (message) => {
            stderr += message
          },
        },
      })
      const agent = keepAlive ? new HttpAgent({ keepAlive: true }) : undefined
      const sockets = new Set<unknown>()
      const run = async (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => {
        stderr = ''
        const response = await httpExchange(server.port, '', request, abandon, { agent, sockets })
        await new Promise((resolve) => setImmediate(resolve)) // what the app logged on its way out
        return { ...response, stderr }
      }
      return {
        name,
        caps: { localRedirect: 'dispatch', scriptName: '', multiprocess: false, runOnce: false, headerCap: false },
        send: (request) => run(request, false),
        abandon: async (request) => void (await run(request, true)),
        connections: () => sockets.size,
        close: async () => {
          agent?.destroy()
          await server.close()
        },
      }
    },
  }
}

/** Header lines the HTTP server adds on its own: the suite compares the app's headers only. */
const FRAMING = new Set(['date', 'server', 'connection', 'keep-alive', 'transfer-encoding'])

export interface ExchangeOptions {
  /** Send through this agent (a kept-alive connection) instead of a connection of its own. */
  agent?: Agent
  /** Collects the sockets used, to count connections. */
  sockets?: Set<unknown>
}

/**
 * One request on its own connection (Connection: close), or through `options.agent`; repeated request
 * headers stay repeated lines. Body bytes go to `request.onData` as they arrive.
 */
export function httpExchange(
  port: number,
  base: string,
  request: ConfRequest,
  abandon: boolean,
  options: ExchangeOptions = {},
): Promise<Omit<ConfResponse, 'stderr'>> {
  return new Promise((done, fail) => {
    const query = request.query ? `?${request.query}` : ''
    // Raw header pairs: node:http would join two Cookie values into one line; the server must see both.
    const connection = options.agent === undefined ? ['Connection', 'close'] : []
    const headers = [`Host`, `127.0.0.1:${port}`, ...connection, ...(request.headers ?? []).flat()]
    if (request.body !== undefined) headers.push('Content-Length', String(request.body.byteLength))
    const path = `${encodeURI(base + request.path)}${query}`
    const agent = options.agent ?? false
    const req = httpRequest({ host: '127.0.0.1', port, method: request.method ?? 'GET', path, agent, headers })
    req.on('socket', (socket) => options.sockets?.add(socket))
    const nothing = { status: 0, headers: [], body: Buffer.alloc(0), complete: false }
    req.on('error', (err) => (abandon ? done(nothing) : fail(err)))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let complete = true
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        request.onData?.(chunk)
        if (abandon) req.destroy()
      })
      res.on('aborted', () => {
        complete = false
      })
      res.on('error', () => {
        complete = false
      })
      res.on('close', () => {
        const headers: Array<[string, string]> = []
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
        done({
          status: res.statusCode ?? 0,
          headers: headers.filter(([name]) => !FRAMING.has(name)),
          body: Buffer.concat(chunks),
          complete: complete && res.complete,
        })
      })
    })
    req.end(request.body)
  })
}
