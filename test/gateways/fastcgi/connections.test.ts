// Connection-level behaviour of the responder: KEEP_CONN both ways (spec §5.1, F-14), draining unread
// STDIN (S-21), CANT_MPX_CONN and OVERLOADED (F-15, F-16), multiplexing, and ABORT_REQUEST or a closed
// socket firing tsgi.signal (spec §5.4, F-24, S-13).
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { waitForFile } from '../../_conformance.js'
import {
  abortRecord,
  begin,
  checkInvariants,
  ended,
  endOf,
  params,
  RawPeer,
  type RawRecord,
  request,
  responder,
  responseOf,
  stdin,
  T,
  useResponder,
  useScratch,
  vars,
} from './_raw.js'

const server = useResponder()

/** A fresh path for the fixture's slow routes to record into (`<path>.started`, `.signal`, `.done`). */
const marker = useScratch('tsgi-fcgi-conn-')
const ends = (records: RawRecord[]): RawRecord[] => records.filter((r) => r.type === T.EndRequest)
const hex = (record: RawRecord | undefined): string =>
  record === undefined
    ? ''
    : Buffer.concat([
        Buffer.from([1, record.type, record.requestId >> 8, record.requestId & 255, 0, record.content.length, 0, 0]),
        record.content,
      ]).toString('hex')

describe('KEEP_CONN (spec §5.1, F-14)', () => {
  it('flags 0: the application closes the connection (FIN) after END_REQUEST', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/hello')))
    await peer.untilClosed()
    expect(peer.ended).toBe(true)
    expect(peer.error).toBeUndefined()
    expect(endOf(peer.records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
  })

  it('flags 0 and an early answer: STDOUT ends at once, END_REQUEST and FIN wait until unread STDIN is drained (S-21)', async () => {
    const peer = await RawPeer.open(server().address)
    const body = new Uint8Array(2 * 1024 * 1024)
    peer.send(
      begin(1),
      params(1, vars('/early', { method: 'POST', body })),
      stdin(1, body.subarray(0, 1024 * 1024), false),
    )
    await peer.until((records) => records.some((r) => r.type === T.Stdout && r.content.length === 0))
    expect(responseOf(peer.records, 1).body.toString()).toBe('{"read":0}\n')
    expect(ends(peer.records)).toHaveLength(0)
    expect(peer.ended).toBe(false)
    peer.send(stdin(1, body.subarray(1024 * 1024)))
    await peer.untilClosed()
    expect(ends(peer.records)).toHaveLength(1)
    expect(peer.error).toBeUndefined() // FIN, not RST: Apache answers 503 "Broken pipe (sending stdin)" otherwise
  })

  it('flags 1: the connection stays open and serves the next request, id 1 again (nginx keepalive)', async () => {
    const peer = await RawPeer.open(server().address)
    for (let round = 1; round <= 3; round++) {
      peer.send(request(1, vars('/hello'), { keepConn: true }))
      await peer.until((records) => ends(records).length === round)
    }
    expect(peer.ended).toBe(false)
    const first = peer.records.slice(0, peer.records.findIndex((r) => r.type === T.EndRequest) + 1)
    expect(checkInvariants(first, [1])).toEqual([])
    peer.destroy()
  })

  it('a body over the input high-water mark does not leave a kept connection paused', async () => {
    // Regression: the last STDIN chunk crossed BodyInput's high-water mark, so the socket was never resumed.
    const peer = await RawPeer.open(server().address)
    const body = new Uint8Array(100_000)
    peer.send(request(1, vars('/echo', { method: 'POST', body }), { body, keepConn: true }))
    await peer.until(ended(1))
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    const records = await peer.until((all) => ends(all).length === 2, 5000)
    expect(records.at(-2)?.type).toBe(T.Stdout)
    peer.destroy()
  })
})

describe('several requests on one connection', () => {
  it('without multiplexing a second BEGIN gets CANT_MPX_CONN (V-23) and the first goes on', async () => {
    const peer = await RawPeer.open(server().address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}&ms=300` }), { keepConn: true }))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    peer.send(begin(2, 1, true), params(2, vars('/hello')))
    await peer.until(ended(2))
    expect(hex(ends(peer.records)[0])).toBe('01030002000800000000000001000000')
    const records = await peer.until(ended(1))
    expect(responseOf(records, 1).body.toString()).toBe('slept\n')
    expect(checkInvariants(records, [1, 2])).toEqual([])
    peer.destroy()
  })

  it('with multiplexing: OVERLOADED past maxRequestsPerConnection (F-16, V-20), the others unaffected', async () => {
    const mpx = await responder({ multiplex: true, maxRequestsPerConnection: 2 })
    try {
      const peer = await RawPeer.open(mpx.address)
      const [a, b] = [marker(), marker()]
      peer.send(request(1, vars('/sleep', { query: `file=${a}&ms=300` }), { keepConn: true }))
      peer.send(request(2, vars('/sleep', { query: `file=${b}&ms=300` }), { keepConn: true }))
      expect(await waitForFile(`${b}.started`)).toBe(true)
      peer.send(begin(5, 1, true), params(5, vars('/hello')))
      await peer.until(ended(5))
      expect(hex(ends(peer.records)[0])).toBe('01030005000800000000000002000000')
      const records = await peer.until((all) => ends(all).length === 3)
      expect(responseOf(records, 1).body.toString()).toBe('slept\n')
      expect(responseOf(records, 2).body.toString()).toBe('slept\n')
      expect(checkInvariants(records, [1, 2, 5])).toEqual([])
      peer.destroy()
    } finally {
      await mpx.close()
    }
  })

  it('with multiplexing: a request whose app never reads STDIN is failed alone; the others are served meanwhile', async () => {
    const mpx = await responder({ multiplex: true, multiplexBufferBytes: 256 * 1024 })
    try {
      const peer = await RawPeer.open(mpx.address)
      const file = marker()
      const body = new Uint8Array(4 * 1024 * 1024)
      peer.send(begin(1, 1, true), params(1, vars('/sleep', { method: 'POST', body, query: `file=${file}&ms=10000` })))
      expect(await waitForFile(`${file}.started`)).toBe(true)
      peer.send(stdin(1, body.subarray(0, 1024 * 1024), false))
      peer.send(request(2, vars('/hello'), { keepConn: true }))
      await peer.until(ended(2))
      expect(responseOf(peer.records, 2).body.toString()).toBe('Hello world!\n')
      expect(await waitForFile(`${file}.signal`)).toBe(true)
      peer.send(stdin(1, body.subarray(1024 * 1024)))
      const records = await peer.until(ended(1))
      // Request 1 was answered 503 for its app (F-20), with appStatus 1.
      expect(checkInvariants(records, [1, 2])).toEqual([])
      expect(responseOf(records, 1).status).toBe('503 Service Unavailable')
      peer.destroy()
    } finally {
      await mpx.close()
    }
  })
})

describe('ABORT_REQUEST and lost connections fire tsgi.signal (spec §5.4, F-24)', () => {
  it('ABORT_REQUEST: the signal fires, exactly one END_REQUEST(appStatus 0, REQUEST_COMPLETE), the kept connection goes on', async () => {
    const peer = await RawPeer.open(server().address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}` }), { keepConn: true }))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    peer.send(abortRecord(1))
    await peer.until(ended(1))
    expect(existsSync(`${file}.signal`)).toBe(true)
    expect(endOf(peer.records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
    peer.send(abortRecord(1)) // the id is inactive again: ignored (F-07)
    peer.send(request(3, vars('/hello'), { keepConn: true }))
    const records = await peer.until(ended(3))
    expect(ends(records)).toHaveLength(2)
    expect(checkInvariants(records, [1, 3], [1])).toEqual([])
    peer.destroy()
  })

  it('ABORT_REQUEST before PARAMS end is answered at once, the app never runs', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(begin(1, 1, true), abortRecord(1))
    const records = await peer.until(ended(1))
    expect(records).toHaveLength(1)
    expect(endOf(records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
    peer.destroy()
  })

  it('the web server closing the socket mid-response fires the signal; the responder stays healthy', async () => {
    const peer = await RawPeer.open(server().address)
    const file = marker()
    peer.send(request(1, vars('/slow', { query: `file=${file}&n=500&ms=10` })))
    await peer.until((records) => records.some((r) => r.type === T.Stdout && r.content.length > 0))
    peer.destroy()
    expect(await waitForFile(`${file}.signal`)).toBe(true)
    expect(existsSync(`${file}.done`)).toBe(false)
    const again = await RawPeer.open(server().address)
    again.send(request(1, vars('/hello')))
    expect(responseOf(await again.until(ended(1)), 1).status).toBe('200 OK')
  })

  it('the web server closing before the app answered fires the signal too', async () => {
    const peer = await RawPeer.open(server().address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}` })))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    peer.socket.end()
    expect(await waitForFile(`${file}.signal`)).toBe(true)
  })
})
