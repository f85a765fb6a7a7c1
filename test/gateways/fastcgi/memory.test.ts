// A 64 MiB upload and a 64 MiB download streamed through the responder and the client. Memory stays bounded
// because both directions apply backpressure: while one side does not read, the other stops producing.
// (The 1 GiB figures and RSS belong to bench/fastcgi.ts.)
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Environ, StartResponse } from '../../../src/app.js'
import { FastcgiClient } from '../../../src/hosts/fastcgi/client.js'
import { responder, type TestResponder, vars } from './_raw.js'

const TOTAL = 64 * 1024 * 1024
const CHUNK = 256 * 1024
/** Bytes a stalled peer may leave in flight: socket buffers, the input's high-water mark, the client's. */
const IN_FLIGHT_BOUND = 8 * 1024 * 1024

let gate: Promise<void> = Promise.resolve()
let openGate: () => void = () => {}
let produced = 0

/** Upload: waits at the gate, then hashes the body. Download: yields TOTAL bytes, counting what it produced. */
async function app(environ: Environ, startResponse: StartResponse): Promise<AsyncIterable<Uint8Array> | string[]> {
  if (environ.PATH_INFO === '/upload') {
    await gate
    const hash = createHash('sha256')
    let length = 0
    for await (const chunk of environ['tsgi.input']) {
      hash.update(chunk)
      length += chunk.length
    }
    startResponse('200 OK', [['Content-Type', 'text/plain']])
    return [`${length} ${hash.digest('hex')}`]
  }
  startResponse('200 OK', [
    ['Content-Type', 'application/octet-stream'],
    ['Content-Length', String(TOTAL)],
  ])
  return (async function* () {
    for (let offset = 0; offset < TOTAL; offset += CHUNK) {
      produced += CHUNK
      yield Buffer.alloc(CHUNK, (offset / CHUNK) & 0xff)
    }
  })()
}

const stall = (): void => {
  gate = new Promise((resolve) => (openGate = resolve))
}
const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let server: TestResponder
let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-mem-'))
  server = await responder({ listen: join(dir, 'app.sock') }, app)
})
afterAll(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('64 MiB through the responder', () => {
  it('upload: the client stops sending while the app does not read, then all 64 MiB arrive intact', async () => {
    const client = new FastcgiClient({ address: server.address })
    let pulled = 0
    const hash = createHash('sha256')
    async function* body() {
      for (let offset = 0; offset < TOTAL; offset += CHUNK) {
        const chunk = Buffer.alloc(CHUNK, (offset / CHUNK) & 0xff)
        hash.update(chunk)
        pulled += CHUNK
        yield chunk
      }
    }
    stall()
    const pending = client.request({
      params: vars('/upload', { method: 'POST', body: new Uint8Array(TOTAL) }),
      body: body(),
    })
    await settle(300)
    expect(pulled).toBeGreaterThan(0)
    expect(pulled).toBeLessThan(IN_FLIGHT_BOUND)
    openGate()
    const response = await pending
    expect(await response.text()).toBe(`${TOTAL} ${hash.digest('hex')}`)
    await client.close()
  })

  it('download: the app stops producing while the client does not read, then all 64 MiB arrive intact', async () => {
    const client = new FastcgiClient({ address: server.address })
    produced = 0
    const response = await client.request({ params: vars('/download') })
    await settle(300)
    expect(produced).toBeGreaterThan(0)
    expect(produced).toBeLessThan(IN_FLIGHT_BOUND)
    let length = 0
    let ok = true
    for await (const chunk of response.body) {
      // Every byte of chunk k is k & 0xff; chunks may be split or joined on the way, so check by offset.
      ok &&=
        chunk[0] === (Math.floor(length / CHUNK) & 0xff) &&
        chunk[chunk.length - 1] === (Math.floor((length + chunk.length - 1) / CHUNK) & 0xff)
      length += chunk.length
    }
    expect(length).toBe(TOTAL)
    expect(ok).toBe(true)
    expect(await response.end).toEqual({ appStatus: 0, protocolStatus: 0 })
    await client.close()
  })
})
