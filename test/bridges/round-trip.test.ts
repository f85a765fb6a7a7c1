// Round trips: toFetch(fromFetch(h)) answers like the Fetch handler h, and toNode(fromNode(l)) on a
// node:http server answers like the listener l on one of its own. Each request goes both ways; status,
// the headers that matter and the body must be the same.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromFetch } from '../../src/bridges/fetch.js'
import { fromNode, type NodeListener } from '../../src/bridges/node.js'
import { toFetch } from '../../src/bridges/to-fetch.js'
import { toNode } from '../../src/bridges/to-node.js'
import { allBytes } from '../_frameworks.js'
import expressApp from '../fixtures/frameworks/express-app.js'
import fetchHandler from '../fixtures/frameworks/fetch-handler.js'
import honoApp from '../fixtures/frameworks/hono-app.js'

interface Exchange {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: Uint8Array
}

/** What must be the same both ways. */
interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

const MATTERS = ['content-type', 'content-length', 'location', 'set-cookie', 'x-multi', 'etag']
/**
 * A Fetch Response seldom carries Content-Length: the server frames it. toFetch's carries the engine's
 * (an empty body gets `Content-Length: 0`), so it is left out of the Fetch comparison.
 */
const FETCH_MATTERS = MATTERS.filter((name) => name !== 'content-length')

const json = (path: string, value: unknown): Exchange => ({
  method: 'POST',
  path,
  headers: { 'Content-Type': 'application/json' },
  body: Buffer.from(JSON.stringify(value)),
})
const form = (path: string, text: string): Exchange => ({
  method: 'POST',
  path,
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: Buffer.from(text),
})
const binary = (path: string): Exchange => ({
  method: 'POST',
  path,
  headers: { 'Content-Type': 'application/octet-stream' },
  body: allBytes(256 * 40 + 3),
})

/** The requests both fixture apps answer (routes of test/_frameworks.ts). */
const COMMON: Exchange[] = [
  { path: '/users/7?q=x' },
  { path: '/users/%C3%A9t%C3%A9' },
  json('/json', { a: 1, b: ['x', null], c: 'é' }),
  form('/form', 'a=1&b=two+words&c=%C3%A9'),
  { path: '/cookies' },
  { path: '/redirect' },
  { method: 'HEAD', path: '/users/7?q=x' },
  binary('/echo-bytes'),
  { path: '/stream' }, // no marker file: "first\ntimeout\n" at once
]

describe('toFetch(fromFetch(h)) answers like h', () => {
  const answer = async (response: Response): Promise<Answer> => {
    const headers: Answer['headers'] = {}
    for (const name of FETCH_MATTERS) headers[name] = response.headers.get(name) ?? undefined
    headers['set-cookie'] = response.headers.getSetCookie()
    return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()).toString('latin1') }
  }
  const requestOf = (exchange: Exchange): Request =>
    new Request(`http://localhost:8080${exchange.path}`, {
      method: exchange.method ?? 'GET',
      headers: exchange.headers,
      body: exchange.body,
    })

  const cases: Array<[string, (request: Request) => Response | Promise<Response>, Exchange[]]> = [
    [
      'Hono',
      (request: Request) => honoApp.fetch(request),
      [...COMMON, { path: '/download?n=300000' }, { path: '/no/such/route' }],
    ],
    ['a plain Fetch handler', fetchHandler, [{ path: '/cookies' }, { path: '/no/such/route' }]],
  ]
  for (const [name, handler, exchanges] of cases) {
    const roundTrip = toFetch(fromFetch(handler), { errors: { write: () => {} } })
    for (const exchange of exchanges) {
      it(`${name}: ${exchange.method ?? 'GET'} ${exchange.path}`, async () => {
        const direct = await answer(await handler(requestOf(exchange)))
        const bridged = await answer(await roundTrip(requestOf(exchange)))
        expect(bridged).toEqual(direct)
      })
    }
  }
})

describe('toNode(fromNode(l)) on a node:http server answers like l on its own', () => {
  let own: Server
  let bridged: Server
  const listen = (listener: RequestListener): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer(listener)
      server.listen(0, '127.0.0.1', () => resolve(server))
    })
  const close = (server: Server | undefined): Promise<void> =>
    new Promise((resolve) => {
      if (server === undefined) return resolve()
      server.close(() => resolve())
      server.closeAllConnections()
    })
  beforeAll(async () => {
    const listener = expressApp as unknown as NodeListener & RequestListener
    own = await listen(listener)
    bridged = await listen(toNode(fromNode(listener)))
  })
  afterAll(async () => {
    await close(own)
    await close(bridged)
  })

  const send = (server: Server, exchange: Exchange): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const { port } = server.address() as AddressInfo
      const method = exchange.method ?? 'GET'
      const headers = { ...exchange.headers, ...(exchange.body ? { 'Content-Length': exchange.body.byteLength } : {}) }
      const req = httpRequest({ host: '127.0.0.1', port, method, path: exchange.path, headers, agent: false })
      req.setTimeout(5000, () => req.destroy(new Error(`${method} ${exchange.path}: no answer in 5 s`)))
      req.on('error', reject)
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const picked: Answer['headers'] = {}
          for (const name of MATTERS) picked[name] = res.headers[name]
          resolve({ status: res.statusCode ?? 0, headers: picked, body: Buffer.concat(chunks).toString('latin1') })
        })
      })
      req.end(exchange.body)
    })

  // /download?n=10000 stays under the socket's high-water mark: a larger one waits for a 'drain' that
  // fromNode never emits (test/bridges/node.test.ts, the pipeline check).
  for (const exchange of [...COMMON, { path: '/write-twice' }, { path: '/headers' }, { path: '/download?n=10000' }]) {
    it(`Express: ${exchange.method ?? 'GET'} ${exchange.path}`, async () => {
      const direct = await send(own, exchange)
      const viaTsgi = await send(bridged, exchange)
      expect(viaTsgi).toEqual(direct)
    })
  }
})
