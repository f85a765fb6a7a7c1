// The STDIN and STDOUT streams at the socket level: CONTENT_LENGTH against the bytes on STDIN (spec §6.2,
// F-19, S-10) and the shape of the STDOUT stream every web server relies on (spec §6.1, F-20).
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { waitForFile } from '../../_conformance.js'
import { pattern } from '../../fixtures/conformance-app.js'
import {
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
  streamOf,
  T,
  useResponder,
  useScratch,
  vars,
} from './_raw.js'

const server = useResponder()

/** PARAMS of a POST to /echo declaring `declared` bytes. */
const post = (declared: number): Array<[string, string]> => [
  ...vars('/echo', { method: 'POST' }),
  ['CONTENT_LENGTH', String(declared)],
]
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
/** A fresh path for the fixture's slow routes to record into. */
const marker = useScratch('tsgi-fcgi-streams-')

describe('STDIN against CONTENT_LENGTH (spec §6.2, F-19, S-10)', () => {
  it('F-19/S-10: CONTENT_LENGTH 10 with 5 bytes, then the empty STDIN record: the app gets a 400, not a short body', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(begin(1), params(1, post(10)), stdin(1, pattern(0, 5), false), stdin(1))
    const records = await peer.until(ended(1))
    const response = responseOf(records, 1)
    expect(response.status).toBe('400 Bad Request')
    expect(response.body.toString()).toBe('Bad Request\n')
    expect(streamOf(records, 1, T.Stderr).toString()).toContain('request body ended after 5 of 10 bytes')
    expect(endOf(records, 1)).toEqual({ appStatus: 1, protocolStatus: 0 })
    expect(checkInvariants(records, [1])).toEqual([])
    peer.destroy()
  })

  it('F-19/S-10: CONTENT_LENGTH 10 with 15 bytes on STDIN: the app sees exactly the first 10', async () => {
    const peer = await RawPeer.open(server().address)
    const sent = pattern(0, 15)
    peer.send(begin(1), params(1, post(10)), stdin(1, sent))
    const records = await peer.until(ended(1))
    const response = responseOf(records, 1)
    expect(response.status).toBe('200 OK')
    expect(JSON.parse(response.body.toString())).toMatchObject({
      length: 10,
      sha256: sha256(sent.subarray(0, 10)),
      CONTENT_LENGTH: '10',
    })
    expect(endOf(records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(checkInvariants(records, [1])).toEqual([])
    peer.destroy()
  })

  it('F-19/S-10: the extra bytes may come in a record of their own, after the declared length is complete', async () => {
    const peer = await RawPeer.open(server().address)
    const sent = pattern(0, 15)
    peer.send(
      begin(1, 1, true),
      params(1, post(10)),
      stdin(1, sent.subarray(0, 10), false),
      stdin(1, sent.subarray(10), false),
      stdin(1),
    )
    const records = await peer.until(ended(1))
    expect(JSON.parse(responseOf(records, 1).body.toString())).toMatchObject({
      length: 10,
      sha256: sha256(sent.subarray(0, 10)),
    })
    // The kept connection is in step afterwards: the excess was consumed with its request.
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    const after = await peer.until((all) => all.filter((r) => r.type === T.EndRequest).length === 2)
    expect(responseOf(after.slice(after.findIndex((r) => r.type === T.EndRequest) + 1), 1).body.toString()).toBe(
      'Hello world!\n',
    )
    peer.destroy()
  })
})

describe('the STDOUT stream (spec §6.1, F-20)', () => {
  it.each([
    ['hello', '/hello', 13],
    ['a 200 000-byte /big', '/big/200000', 200_000],
    ['an empty /big', '/big/0', 0],
  ])('F-20: %s: the first STDOUT record is non-empty and holds the whole header block', async (_name, path, length) => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars(path)))
    const records = await peer.until(ended(1))
    expect(checkInvariants(records, [1])).toEqual([])
    const first = records.find((r) => r.type === T.Stdout)!
    expect(first.content.length).toBeGreaterThan(0)
    expect(first.content.includes('\r\n\r\n')).toBe(true)
    expect(responseOf(records, 1).body.length).toBe(length)
    peer.destroy()
  })

  it('F-20: checkInvariants flags an empty first STDOUT record and a header block split across records', () => {
    const record = (type: number, text: string): RawRecord => ({
      type,
      requestId: 1,
      content: Buffer.from(text, 'latin1'),
    })
    const end: RawRecord = { type: T.EndRequest, requestId: 1, content: Buffer.alloc(8) }
    const emptyFirst = [record(T.Stdout, ''), end]
    const split = [
      record(T.Stdout, 'Status: 200 OK\r\n'),
      record(T.Stdout, 'Content-Type: text/plain\r\n\r\nhi'),
      record(T.Stdout, ''),
      end,
    ]
    const whole = [
      record(T.Stdout, 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n'),
      record(T.Stdout, 'hi'),
      record(T.Stdout, ''),
      end,
    ]
    expect(checkInvariants(emptyFirst, [1])).toEqual(['request 1: first STDOUT record is empty'])
    expect(checkInvariants(split, [1])).toEqual(['request 1: header block not within the first STDOUT record'])
    expect(checkInvariants(whole, [1])).toEqual([])
  })

  // The responder cancels a multiplexed request whose app leaves more than multiplexBufferBytes of STDIN
  // unread; the web server, still waiting, must get a header block (a 503), not STDOUT("") END_REQUEST
  // (which nginx answers 502), and appStatus 1.
  it('F-20: a multiplexed request cancelled for unread STDIN still gets a header block', async () => {
    const mpx = await responder({ multiplex: true, multiplexBufferBytes: 256 * 1024 })
    try {
      const peer = await RawPeer.open(mpx.address)
      const file = marker()
      const body = new Uint8Array(2 * 1024 * 1024)
      peer.send(begin(1, 1, true), params(1, vars('/sleep', { method: 'POST', body, query: `file=${file}&ms=10000` })))
      expect(await waitForFile(`${file}.started`)).toBe(true)
      peer.send(stdin(1, body.subarray(0, 1024 * 1024), false))
      expect(await waitForFile(`${file}.signal`)).toBe(true)
      peer.send(stdin(1, body.subarray(1024 * 1024)))
      const records = await peer.until(ended(1))
      peer.destroy()
      expect(checkInvariants(records, [1])).toEqual([])
      expect(responseOf(records, 1).status).toBe('503 Service Unavailable')
      expect(endOf(records, 1)).toEqual({ appStatus: 1, protocolStatus: 0 })
      expect(mpx.logs.join('\n')).toMatch(/request 1 left more than 262144 bytes of STDIN unread/)
    } finally {
      await mpx.close()
    }
  })
})
