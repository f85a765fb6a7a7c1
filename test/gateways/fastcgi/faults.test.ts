// Misbehaving web servers and apps (S-07, S-09, S-11..S-14): each fault costs at most its
// own connection, and afterwards a normal request on a fresh connection still succeeds.
import { describe, expect, it } from 'vitest'
import { concatBytes, encodeRecord } from '../../../src/protocol/fastcgi/index.js'
import {
  begin,
  ended,
  healthy,
  params,
  RawPeer,
  request,
  responder,
  responseOf,
  stdin,
  streamOf,
  T,
  type TestResponder,
  useResponder,
  useScratch,
  vars,
} from './_raw.js'

const server = useResponder({ paramsTimeoutMs: 300, idleTimeoutMs: 5000 })

/** A fresh path for the fixture's slow routes to record into. */
const marker = useScratch('tsgi-fcgi-faults-')

/** Waits until no request is running on the responder (bounded: a failing test's limit). */
async function settled(target: TestResponder = server()): Promise<number> {
  for (let i = 0; i < 250 && target.stats.active > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  return target.stats.active
}

const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))

describe('the web server goes away', () => {
  it('mid-request (STDIN half sent): the request ends, nothing crashes', async () => {
    const peer = await RawPeer.open(server().address)
    const body = new Uint8Array(1024 * 1024)
    peer.send(begin(1), params(1, vars('/echo', { method: 'POST', body })), stdin(1, body.subarray(0, 100_000), false))
    await new Promise((resolve) => setTimeout(resolve, 20))
    peer.destroy()
    expect(await settled()).toBe(0)
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
  })

  it('mid-response (10 MiB download): the request ends, nothing crashes', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars(`/big/${10 * 1024 * 1024}`)))
    await peer.until((records) => records.some((r) => r.type === T.Stdout))
    peer.destroy()
    expect(await settled()).toBe(0)
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
  })

  it.each([
    ['after 4 header bytes', fromHex('01010001')],
    ['with a header and part of its content', concatBytes([fromHex('0101000100080000'), fromHex('0001')])],
    ['in the padding of a record', concatBytes([begin(1), fromHex('0104000100000700'), fromHex('000000')])],
  ])('truncated record: EOF %s closes the connection without a byte written (S-11)', async (_name, bytes) => {
    const peer = await RawPeer.open(server().address)
    peer.send(bytes)
    peer.socket.end()
    await peer.untilClosed()
    expect(peer.bytes.length).toBe(0)
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
  })

  it('EOF in the middle of a request whose app is running aborts it', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/slow', { query: `file=${marker()}&n=100&ms=10` })))
    await peer.until((records) => records.some((r) => r.type === T.Stdout))
    peer.send(fromHex('010500010064')) // 6 bytes of a STDIN header, then EOF
    peer.socket.end()
    await peer.untilClosed()
    expect(await settled()).toBe(0)
  })
})

describe('protocol errors cost only their own connection', () => {
  it.each([
    ['a version-2 header (V-30, F-02)', fromHex('02010001000800000001000000000000')],
    ['BEGIN_REQUEST with request id 0 (F-08)', encodeRecord(T.BeginRequest, 0, fromHex('0001000000000000'))],
    ['a BEGIN_REQUEST body of 7 bytes (F-12)', encodeRecord(T.BeginRequest, 1, fromHex('00010000000000'))],
    [
      'hostile name-value lengths (V-31, CVE-2025-23016)',
      concatBytes([begin(1), fromHex('01040001000a0000ffffffffffffffff0000')]),
    ],
    ['a BEGIN for an active id (F-15, S-09)', concatBytes([begin(1, 1, true), begin(1, 1, true)])],
  ])('%s: closed with nothing written, while another connection is served to the end', async (_name, bytes) => {
    const good = await RawPeer.open(server().address)
    good.send(request(1, vars('/slow', { query: `file=${marker()}&n=20&ms=10` })))
    await good.until((records) => records.some((r) => r.type === T.Stdout))
    const bad = await RawPeer.open(server().address)
    bad.send(bytes)
    await bad.untilClosed()
    expect(bad.bytes.length).toBe(0)
    const records = await good.until(ended(1))
    expect(streamOf(records, 1).length).toBeGreaterThan(20 * 16384)
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
  })

  it('an app failing after its head: queued STDERR goes out, then a FIN without END_REQUEST', async () => {
    // Regression: the connection was destroyed at once, dropping the STDERR records with the app's error.
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/error-after'), { keepConn: true }))
    await peer.untilClosed()
    const records = peer.records
    expect(streamOf(records, 1).toString()).toContain('first chunk\n')
    expect(streamOf(records, 1, T.Stderr).toString()).toContain('secret-detail-91c2')
    expect(records.some((r) => r.type === T.EndRequest)).toBe(false)
    expect(peer.ended).toBe(true)
  })
})

describe('resource exhaustion', () => {
  it('a flood of 1000 BEGINs on one connection: each refused CANT_MPX_CONN, the running request unaffected', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/sleep', { query: `file=${marker()}&ms=200` }), { keepConn: true }))
    const flood: Uint8Array[] = []
    for (let id = 2; id <= 1001; id++) flood.push(begin(id, 1, true))
    peer.send(concatBytes(flood))
    const records = await peer.until(ended(1))
    const refusals = records.filter((r) => r.type === T.EndRequest && r.requestId !== 1)
    expect(refusals).toHaveLength(1000)
    expect(refusals.every((r) => r.content[4] === 1)).toBe(true)
    expect(responseOf(records, 1).body.toString()).toBe('slept\n')
    peer.destroy()
  })

  it('a flood of 1000 BEGINs on a multiplexed connection: at most FCGI_MAX_REQS active, the rest OVERLOADED (S-14)', async () => {
    const mpx = await responder({ multiplex: true, maxRequestsPerConnection: 4 })
    try {
      const peer = await RawPeer.open(mpx.address)
      const flood: Uint8Array[] = []
      for (let id = 1; id <= 1000; id++) flood.push(begin(id, 1, true))
      peer.send(concatBytes(flood))
      await peer.until((records) => records.length === 996)
      expect(peer.records.every((r) => r.type === T.EndRequest && r.content[4] === 2 && r.requestId > 4)).toBe(true)
      for (let id = 1; id <= 4; id++) peer.send(params(id, vars('/hello')), stdin(id))
      const records = await peer.until((all) => all.filter((r) => r.type === T.EndRequest).length === 1000)
      for (let id = 1; id <= 4; id++) expect(responseOf(records, id).body.toString()).toBe('Hello world!\n')
      peer.destroy()
    } finally {
      await mpx.close()
    }
  })

  it('200 idle connections do not stop the responder from serving', async () => {
    const idle = await Promise.all(Array.from({ length: 200 }, () => RawPeer.open(server().address)))
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
    for (const peer of idle) peer.destroy()
  })

  it('a slow sender whose PARAMS never end is closed after paramsTimeoutMs (S-12)', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(begin(1), encodeRecord(T.Params, 1, fromHex('0e03524551554553545f4d4554484f44474554')))
    await peer.untilClosed()
    expect(peer.bytes.length).toBe(0)
    expect(server().logs.join('\n')).toMatch(/PARAMS not received within 300 ms/)
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
  })

  it('an idle kept connection is closed after idleTimeoutMs', async () => {
    const quick = await responder({ idleTimeoutMs: 100 })
    try {
      const peer = await RawPeer.open(quick.address)
      peer.send(request(1, vars('/hello'), { keepConn: true }))
      await peer.until(ended(1))
      await peer.untilClosed()
      expect(quick.logs.join('\n')).toMatch(/idle for 100 ms/)
    } finally {
      await quick.close()
    }
  })
})

describe('a web server that stops reading', () => {
  it('is cut after sendTimeoutMs, and the app sees tsgi.signal', async () => {
    const chunk = new Uint8Array(256 * 1024)
    let aborted: boolean | undefined
    async function* endless(signal: AbortSignal) {
      try {
        for (let i = 0; i < 10_000; i++) yield chunk
      } finally {
        aborted = signal.aborted
      }
    }
    const stuck = await responder({ sendTimeoutMs: 300 }, (environ, start) => {
      start('200 OK', [])
      return endless(environ['tsgi.signal'])
    })
    try {
      const peer = await RawPeer.open(stuck.address)
      peer.send(request(1, vars('/')))
      peer.socket.pause() // never read: the responder's writes stall once the socket buffers are full
      // A paused socket sees no FIN or RST, so watch the responder's side (bounded: a failing test's limit).
      for (let i = 0; i < 400 && aborted === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(aborted).toBe(true)
      expect(stuck.logs.join('\n')).toMatch(/the web server read nothing for 300 ms/)
      expect(stuck.stats.active).toBe(0)
      peer.destroy()
    } finally {
      await stuck.close()
    }
  })
})
