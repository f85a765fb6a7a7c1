// Record layer: F-01..F-06 and S-08, plus the reader's zero-copy contract.
import { describe, expect, it } from 'vitest'
import {
  ApplicationConnection,
  decodeBeginRequestBody,
  decodeEndRequestBody,
  decodeHeader,
  encodeBeginRequestBody,
  encodeEndRequestBody,
  encodeRecord,
  encodeStream,
  MAX_CONTENT_LENGTH,
  NEED_DATA,
  paddingFor,
  RecordReader,
  RecordType,
} from '../../../src/protocol/fastcgi/index.js'
import { ascii, concat, drain, fromHex, rec, recordEnds, toHex } from './_helpers.js'

const BEGIN_1 = fromHex('01010001000800000001000000000000')
const PARAMS_END_1 = fromHex('0104000100000000')

/** An application connection past BEGIN and PARAMS for request 1. */
function ready(): ApplicationConnection {
  const conn = new ApplicationConnection()
  conn.receiveData(concat(BEGIN_1, PARAMS_END_1))
  expect(drain(conn)).toMatchObject([{ type: 'request', requestId: 1 }])
  return conn
}

describe('record layer (FastCGI spec §3.3)', () => {
  it('F-01: the header is version, type, requestId, contentLength, paddingLength, reserved, big-endian', () => {
    const record = encodeRecord(RecordType.Stdin, 0x1234, new Uint8Array(0x0102))
    expect(toHex(record.subarray(0, 8))).toBe('0105123401020000')
    expect(decodeHeader(record)).toEqual({
      version: 1,
      type: 5,
      requestId: 0x1234,
      contentLength: 0x0102,
      paddingLength: 0,
    })
    expect(decodeHeader(concat(new Uint8Array(3), record), 3).requestId).toBe(0x1234)
  })

  it('F-01: fixed-layout bodies round-trip (BEGIN_REQUEST §5.1, END_REQUEST §5.5)', () => {
    expect(decodeBeginRequestBody(encodeBeginRequestBody(0x0203, 1))).toEqual({ role: 0x0203, flags: 1 })
    expect(toHex(encodeEndRequestBody(0x01020304, 2))).toBe('0102030402000000')
    expect(decodeEndRequestBody(encodeEndRequestBody(0xffffffff, 3))).toEqual({
      appStatus: 0xffffffff,
      protocolStatus: 3,
    })
  })

  it('F-02: a version other than 1 fails the connection, writes nothing, throws only TsgiError', () => {
    for (const version of [0, 2, 255]) {
      const conn = new ApplicationConnection()
      conn.receiveData(rec(RecordType.BeginRequest, 1, fromHex('0001000000000000'), 0, 0, version))
      expect(() => conn.nextEvent()).toThrow(
        expect.objectContaining({ code: 'ERR_FCGI_BAD_VERSION', message: `fcgi: invalid header version ${version}` }),
      )
      // The connection stays failed: same error again, more bytes dropped, nothing queued to write.
      conn.receiveData(concat(BEGIN_1, PARAMS_END_1))
      expect(() => conn.nextEvent()).toThrow(expect.objectContaining({ code: 'ERR_FCGI_BAD_VERSION' }))
      expect(conn.outputSize).toBe(0)
      expect(conn.shouldClose).toBe(true)
    }
  })

  it('F-03: padding 0, 7 and 255 and a reserved byte of 0xFF parse identically', () => {
    const payload = ascii('same payload')
    const results = [0, 7, 255].map((pad) => {
      const conn = ready()
      conn.receiveData(
        concat(rec(RecordType.Stdin, 1, payload, pad, 0xff), rec(RecordType.Stdin, 1, new Uint8Array(0), pad)),
      )
      return drain(conn).map((e) => ('data' in e ? toHex(e.data) : e.type))
    })
    expect(results[0]).toEqual([toHex(payload), 'stdin-end'])
    expect(results[1]).toEqual(results[0])
    expect(results[2]).toEqual(results[0])
  })

  it('F-03, S-08: content 65535 plus padding 255 does not overflow; the next header is at 8+65535+255', () => {
    const conn = ready()
    const big = rec(RecordType.Stdin, 1, new Uint8Array(65535).fill(7), 255)
    expect(big.length).toBe(8 + 65535 + 255)
    conn.receiveData(concat(big, fromHex('0105000100030000616263')))
    const events = drain(conn)
    expect(events.map((e) => e.type)).toEqual(['stdin', 'stdin'])
    expect(events[0]).toMatchObject({ data: new Uint8Array(65535).fill(7) })
    expect(events[1]).toMatchObject({ data: ascii('abc') })
  })

  it('F-04: the parser accepts padded and unpadded senders; our writer is deterministic', () => {
    const padded = ready()
    padded.receiveData(fromHex('010500010012060068656c6c6f206368756e6b656420626f6479000000000000'))
    const plain = ready()
    plain.receiveData(fromHex('010500010012000068656c6c6f206368756e6b656420626f6479'))
    expect(drain(padded)).toEqual(drain(plain))
    for (let n = 0; n <= 24; n++) {
      expect(paddingFor(n, 'none')).toBe(0)
      expect((n + paddingFor(n, 'align8')) % 8).toBe(0)
      expect(paddingFor(n, 'align8')).toBeLessThan(8)
      const record = encodeRecord(RecordType.Stdout, 1, new Uint8Array(n).fill(1), 'align8')
      expect(record.length % 8).toBe(0)
      expect(record.subarray(8 + n).every((b) => b === 0)).toBe(true)
    }
  })

  it('F-05: a 66000-byte write is 65535 + 465 content bytes, then an empty terminator', () => {
    const stream = encodeStream(RecordType.Stdout, 1, new Uint8Array(66000), { end: true })
    const ends = recordEnds(stream)
    expect(ends).toEqual([8 + 65535, 8 + 65535 + 8 + 465, 8 + 65535 + 8 + 465 + 8])
    expect(toHex(stream.subarray(ends[0]!, ends[0]! + 8))).toBe('0106000101d10000')
    expect(encodeStream(RecordType.Stdout, 1, new Uint8Array(0))).toHaveLength(0)
    expect(() => encodeRecord(RecordType.Stdout, 1, new Uint8Array(MAX_CONTENT_LENGTH + 1))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('F-06: PARAMS and STDIN sent one byte per record give what one record gives', () => {
    const block = fromHex('0e03524551554553545f4d4554484f444745540c0351554552595f535452494e47613d31')
    const body = ascii('a request body')
    const oneByOne = (bytes: Uint8Array, type: number) =>
      concat(...Array.from(bytes, (b) => rec(type, 1, Uint8Array.of(b))), rec(type, 1, new Uint8Array(0)))
    const split = new ApplicationConnection()
    split.receiveData(concat(BEGIN_1, oneByOne(block, RecordType.Params), oneByOne(body, RecordType.Stdin)))
    const events = drain(split)
    const whole = new ApplicationConnection()
    whole.receiveData(concat(BEGIN_1, rec(4, 1, block), PARAMS_END_1, rec(5, 1, body), rec(5, 1, new Uint8Array(0))))
    const wholeEvents = drain(whole)
    expect(events[0]).toEqual(wholeEvents[0])
    expect(events[0]).toMatchObject({
      params: [
        ['REQUEST_METHOD', 'GET'],
        ['QUERY_STRING', 'a=1'],
      ],
    })
    const bodyOf = (list: typeof events) => concat(...list.flatMap((e) => (e.type === 'stdin' ? [e.data] : [])))
    expect(bodyOf(events)).toEqual(body)
    expect(bodyOf(wholeEvents)).toEqual(body)
    expect(events.at(-1)).toEqual({ type: 'stdin-end', requestId: 1 })
  })
})

describe('RecordReader', () => {
  it('hands out a record inside one chunk as a view of that chunk (zero copy)', () => {
    const chunk = concat(fromHex('0105000100050000'), ascii('hello'), fromHex('0105000100000000'))
    const reader = new RecordReader()
    reader.push(chunk)
    expect(reader.next()).toBe(true)
    expect(reader.content.buffer).toBe(chunk.buffer)
    expect(reader.content.byteOffset).toBe(8)
    expect(reader.next()).toBe(true)
    expect(reader.content).toHaveLength(0)
    expect(reader.next()).toBe(false)
  })

  it('gathers a record that straddles chunks into one buffer of exactly its size', () => {
    const record = concat(fromHex('0105000100050300'), ascii('hello'), new Uint8Array(3))
    const reader = new RecordReader()
    for (const [from, to] of [
      [0, 3],
      [3, 10],
      [10, 12],
      [12, 16],
    ] as const) {
      expect(reader.next()).toBe(false)
      reader.push(record.slice(from, to))
    }
    expect(reader.next()).toBe(true)
    expect(reader.content).toEqual(ascii('hello'))
    expect(reader.content.buffer.byteLength).toBe(5)
    expect(reader.buffered).toBe(0)
    expect(reader.midRecord).toBe(false)
  })

  it('reports a partial record as buffered and mid-record', () => {
    const reader = new RecordReader()
    reader.push(fromHex('01050001000a0000616263'))
    expect(reader.next()).toBe(false)
    expect(reader.midRecord).toBe(true)
    expect(reader.buffered).toBe(3)
    expect(NEED_DATA).toBeTypeOf('symbol')
  })
})
