// A small, well-behaved in-memory gateway for the validator's tests: it follows SPEC §4 and §5 itself
// (no engine), so a violation the validator reports is the app's, unless a test breaks the gateway on purpose.
import type { App, Body, Chunk, Environ, HeaderList, InputStream, StartResponse, Write } from '../../src/app.js'
import { callApp } from '../../src/core/call.js'

export interface Gateway {
  environ: Environ
  log: string[]
  controller: AbortController
}

export interface Served {
  status?: string
  headers?: HeaderList
  text: string
  error?: unknown
  log: string[]
}

/** A complete, valid environ for a GET of `/`, with `overrides` applied (an `undefined` deletes a key). */
export function gateway(overrides: Record<string, unknown> = {}, requestBody?: string): Gateway {
  const log: string[] = []
  const controller = new AbortController()
  const environ: Record<string, unknown> = {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '8080',
    SERVER_PROTOCOL: 'HTTP/1.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: 'localhost:8080',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': new BytesInput(new TextEncoder().encode(requestBody ?? '')),
    'tsgi.errors': { write: (message: string) => void log.push(message) },
    'tsgi.multithread': false,
    'tsgi.multiprocess': true,
    'tsgi.run_once': true,
    'tsgi.signal': controller.signal,
  }
  if (requestBody !== undefined) environ.CONTENT_LENGTH = String(new TextEncoder().encode(requestBody).byteLength)
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete environ[key]
    else environ[key] = value
  }
  return { environ: environ as Environ, log, controller }
}

/** Runs `app` for one request the way a gateway must, and collects the response. */
export async function serve(app: App, g: Gateway = gateway()): Promise<Served> {
  const served: Served = { text: '', log: g.log }
  const chunks: Uint8Array[] = []
  let headersSent = false
  const write: Write = async (chunk: Chunk) => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
    if (bytes.byteLength > 0) headersSent = true
    chunks.push(bytes)
  }
  const startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      if (headersSent) throw excInfo
    } else if (served.status !== undefined) {
      throw new Error('fake gateway: startResponse called twice')
    }
    served.status = status
    served.headers = headers.map(([name, value]) => [name, value])
    return write
  }
  let iterator: Iterator<Chunk> | AsyncIterator<Chunk> | undefined
  try {
    const body: Body = await callApp(app, g.environ, startResponse)
    iterator = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]()
    for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) await write(step.value)
  } catch (err) {
    served.error = err
  } finally {
    await iterator?.return?.()
  }
  served.text = new TextDecoder().decode(concat(chunks))
  return served
}

/** tsgi.input over fixed bytes, delivered in pieces of at most 4 bytes when iterated. */
export class BytesInput implements InputStream {
  readonly #data: Uint8Array
  #offset = 0

  constructor(data: Uint8Array) {
    this.#data = data
  }

  async read(size?: number): Promise<Uint8Array> {
    const end = size === undefined ? this.#data.byteLength : Math.min(this.#data.byteLength, this.#offset + size)
    const out = this.#data.subarray(this.#offset, end)
    this.#offset = end
    return out
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.read(4)
      if (chunk.byteLength === 0) return
      yield chunk
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}
