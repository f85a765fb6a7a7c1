// Graceful shutdown with a deadline (FastCGI spec §7, F-30): close() lets requests in flight finish for
// shutdownTimeoutMs, then cuts their connections and fires tsgi.signal, so a stuck app cannot hold it.
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { waitForFile } from '../../_conformance.js'
import { endOf, RawPeer, request, responder, responseOf, T, useScratch, vars } from './_raw.js'

const marker = useScratch('tsgi-fcgi-shutdown-')

/** Resolves 'closed' when `closing` does, or 'still open' after `ms` (a failing test's bound, not a timing check). */
function within(closing: Promise<void>, ms: number): Promise<'closed' | 'still open'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'still open'>((resolve) => {
    timer = setTimeout(() => resolve('still open'), ms)
  })
  return Promise.race([closing.then(() => 'closed' as const), late]).finally(() => clearTimeout(timer))
}

describe('close() with a request in flight (spec §7, F-30)', () => {
  it('F-30: past shutdownTimeoutMs the connection is cut, the app sees tsgi.signal, and close() resolves', async () => {
    const server = await responder({ shutdownTimeoutMs: 200 })
    const peer = await RawPeer.open(server.address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}&ms=5000` })))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    const closing = server.close()
    expect(await within(closing, 4000)).toBe('closed')
    await peer.untilClosed()
    expect(peer.records.some((r) => r.type === T.EndRequest)).toBe(false)
    expect(await waitForFile(`${file}.signal`)).toBe(true)
    expect(existsSync(`${file}.done`)).toBe(false)
    expect(server.logs.join('\n')).toMatch(/shutdown deadline passed/)
    expect(await within(server.closed, 4000)).toBe('closed')
    // The listener is gone: a new web-server connection is refused.
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(server.port!, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        return resolve('connected')
      })
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    })
    expect(refused).toBe('ECONNREFUSED')
  })

  it('F-30: a request that ends before the deadline is answered whole, with no signal', async () => {
    const server = await responder({ shutdownTimeoutMs: 10_000 })
    const peer = await RawPeer.open(server.address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}&ms=100` })))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    expect(await within(server.close(), 4000)).toBe('closed')
    await peer.untilClosed()
    expect(responseOf(peer.records, 1).body.toString()).toBe('slept\n')
    expect(endOf(peer.records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(existsSync(`${file}.done`)).toBe(true)
    expect(existsSync(`${file}.signal`)).toBe(false)
  })
})

describe('closing a kept connection (F-33)', () => {
  it('after its answer: END_REQUEST, then an empty GET_VALUES_RESULT in the same stream, then the close', async () => {
    const server = await responder({ shutdownTimeoutMs: 10_000 })
    const peer = await RawPeer.open(server.address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}&ms=100` }), { keepConn: true }))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    await server.close()
    await peer.untilClosed()
    const last = peer.records.slice(-2).map((r) => [r.type, r.requestId, r.content.length])
    expect(last).toEqual([
      [T.EndRequest, 1, 8],
      [T.GetValuesResult, 0, 0],
    ])
  })

  it('a connection not kept (no KEEP_CONN) ends with END_REQUEST alone', async () => {
    const server = await responder()
    const peer = await RawPeer.open(server.address)
    peer.send(request(1, vars('/hello')))
    await peer.untilClosed()
    expect(peer.records.at(-1)?.type).toBe(T.EndRequest)
    await server.close()
  })

  it('lingerIdle (a worker being replaced): an idle kept connection serves one more request, then closes', async () => {
    const server = await responder()
    const peer = await RawPeer.open(server.address)
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    await peer.until(() => endOf(peer.records, 1) !== undefined)
    const closing = server.close({ lingerIdle: true })
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    await peer.untilClosed()
    await closing
    const ends = peer.records.filter((r) => r.type === T.EndRequest)
    expect(ends).toHaveLength(2)
    expect(peer.records.at(-1)?.type).toBe(T.GetValuesResult)
  })

  it('without lingerIdle an idle kept connection closes at once', async () => {
    const server = await responder()
    const peer = await RawPeer.open(server.address)
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    await peer.until(() => endOf(peer.records, 1) !== undefined)
    expect(await within(server.close(), 4000)).toBe('closed')
    await peer.untilClosed()
    expect(peer.records.filter((r) => r.type === T.EndRequest)).toHaveLength(1)
  })
})
