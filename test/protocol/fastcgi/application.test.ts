// The application side (our responder's state machine): the F- and S- rules of docs/checklist.md.
import { describe, expect, it } from 'vitest'
import {
  ApplicationConnection,
  type ApplicationOptions,
  encodeParams,
  NEED_DATA,
  ProtocolStatus,
  RecordType,
  Role,
  WebServerConnection,
} from '../../../src/protocol/fastcgi/index.js'
import { ascii, concat, drain, fromHex, outputHex, rec, toHex } from './_helpers.js'

const EMPTY = new Uint8Array(0)

function begin(id: number, role = 1, flags = 0): Uint8Array {
  return rec(RecordType.BeginRequest, id, Uint8Array.of(role >> 8, role & 0xff, flags, 0, 0, 0, 0, 0))
}
const params = (id: number, block: Uint8Array = EMPTY) => rec(RecordType.Params, id, block)
const stdin = (id: number, body: Uint8Array = EMPTY) => rec(RecordType.Stdin, id, body)
const endRequestHex = (id: number, app: number, status: number) =>
  `0103${id.toString(16).padStart(4, '0')}00080000${app.toString(16).padStart(8, '0')}0${status}000000`

/** A connection fed `bytes`, with the events they gave. */
function feed(bytes: Uint8Array, options?: ApplicationOptions) {
  const conn = new ApplicationConnection(options)
  conn.receiveData(bytes)
  return { conn, events: drain(conn) }
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code: string }).code
  }
  return undefined
}

/** Records of the output, as [type, requestId] pairs. */
function records(bytes: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let at = 0; at + 8 <= bytes.length; at += 8 + ((bytes[at + 4]! << 8) | bytes[at + 5]!) + bytes[at + 6]!) {
    out.push([bytes[at + 1]!, (bytes[at + 2]! << 8) | bytes[at + 3]!])
  }
  return out
}

describe('request ids and management records (spec §3.3, §4)', () => {
  it('F-07: stray PARAMS, STDIN, DATA and ABORT records for unknown ids are ignored', () => {
    const { conn, events } = feed(
      concat(
        params(7, encodeParams([['A', 'b']])),
        stdin(7, ascii('x')),
        rec(RecordType.Data, 9),
        rec(RecordType.AbortRequest, 3),
      ),
    )
    expect(events).toEqual([])
    expect(conn.outputSize).toBe(0)
    expect(conn.activeRequestCount).toBe(0)
  })

  it('F-07: on a KEEP_CONN connection id 1 is accepted again after its END_REQUEST', () => {
    const { conn, events } = feed(concat(begin(1, 1, 1), params(1), stdin(1)))
    expect(events.map((e) => e.type)).toEqual(['request', 'stdin-end'])
    conn.endRequest(1)
    expect(conn.isActive(1)).toBe(false)
    conn.receiveData(concat(stdin(1, ascii('late')), begin(1, 1, 1), params(1, encodeParams([['N', '2']])), params(1)))
    expect(drain(conn)).toEqual([
      { type: 'request', requestId: 1, role: Role.Responder, keepConn: true, params: [['N', '2']] },
    ])
    expect(conn.shouldClose).toBe(false)
  })

  it('F-08: BEGIN_REQUEST with request id 0 is a protocol error', () => {
    const conn = new ApplicationConnection()
    conn.receiveData(begin(0))
    expect(errorCode(() => conn.nextEvent())).toBe('ERR_FCGI_BAD_RECORD')
    expect(conn.shouldClose).toBe(true)
    expect(conn.outputSize).toBe(0)
  })

  it('F-09: GET_VALUES returns exactly the known names asked for, unknown names left out', () => {
    const query = encodeParams([
      ['FCGI_MAX_CONNS', ''],
      ['FCGI_UNKNOWN', ''],
      ['FCGI_MAX_REQS', ''],
      ['FCGI_MPXS_CONNS', ''],
      ['FCGI_MAX_CONNS', ''], // asked twice, answered once
    ])
    const { conn, events } = feed(rec(RecordType.GetValues, 0, query), { maxConns: 50, maxReqs: 200 })
    expect(events).toEqual([])
    const client = new WebServerConnection()
    client.receiveData(conn.takeOutputBytes())
    expect(drain(client)).toEqual([
      {
        type: 'values',
        pairs: [
          ['FCGI_MAX_CONNS', '50'],
          ['FCGI_MAX_REQS', '200'],
          ['FCGI_MPXS_CONNS', '0'],
        ],
      },
    ])
  })

  it('F-09: an empty query gets an empty result; a query between records of a request is answered', () => {
    expect(outputHex(feed(rec(RecordType.GetValues, 0)).conn)).toBe('010a000000000000')
    const { conn, events } = feed(
      concat(
        begin(1),
        params(1, encodeParams([['A', '1']])),
        rec(9, 0, encodeParams([['FCGI_MPXS_CONNS', '']])),
        params(1),
      ),
    )
    expect(events).toMatchObject([{ type: 'request', params: [['A', '1']] }])
    expect(outputHex(conn)).toBe(`010a0000001200000f01${toHex(ascii('FCGI_MPXS_CONNS'))}30`)
  })

  it('F-29: GET_VALUES reports the configured limits and multiplexing', () => {
    const query = rec(
      9,
      0,
      encodeParams([
        ['FCGI_MAX_CONNS', ''],
        ['FCGI_MAX_REQS', ''],
        ['FCGI_MPXS_CONNS', ''],
      ]),
    )
    const client = new WebServerConnection()
    client.receiveData(feed(query, { multiplex: true, maxConns: 8, maxReqs: 80 }).conn.takeOutputBytes())
    expect(drain(client)).toEqual([
      {
        type: 'values',
        pairs: [
          ['FCGI_MAX_CONNS', '8'],
          ['FCGI_MAX_REQS', '80'],
          ['FCGI_MPXS_CONNS', '1'],
        ],
      },
    ])
  })

  it('F-10: an unknown management type (42, and 11 sent to us) gets UNKNOWN_TYPE; the connection stays usable', () => {
    const { conn, events } = feed(
      concat(rec(42, 0), rec(RecordType.UnknownType, 0, new Uint8Array(8)), begin(1), params(1)),
    )
    expect(events).toMatchObject([{ type: 'request', requestId: 1 }])
    expect(outputHex(conn)).toBe('010b0000000800002a00000000000000' + '010b0000000800000b00000000000000')
  })

  it('F-11: an unknown or outbound type on an active id is answered UNKNOWN_TYPE (Go policy); inactive ids are ignored', () => {
    const { conn, events } = feed(
      concat(begin(1), params(1), rec(42, 1), rec(RecordType.Stdout, 1, ascii('x')), rec(42, 2), stdin(1, ascii('ok'))),
    )
    expect(events.map((e) => e.type)).toEqual(['request', 'stdin'])
    expect(outputHex(conn)).toBe('010b0000000800002a00000000000000' + '010b0000000800000600000000000000')
  })
})

describe('BEGIN_REQUEST, roles, KEEP_CONN (spec §5.1, §5.5)', () => {
  it('F-12: a BEGIN_REQUEST body other than 8 bytes is a protocol error', () => {
    for (const size of [0, 7, 9]) {
      const conn = new ApplicationConnection()
      conn.receiveData(rec(RecordType.BeginRequest, 1, new Uint8Array(size)))
      expect(errorCode(() => conn.nextEvent())).toBe('ERR_FCGI_BAD_RECORD')
    }
  })

  it('F-13: role 9 gets END_REQUEST UNKNOWN_ROLE (V-21) and a KEEP_CONN connection stays open', () => {
    const { conn, events } = feed(concat(begin(1, 9, 1), params(1), begin(2, 1, 1), params(2)))
    expect(events).toEqual([
      { type: 'rejected', requestId: 1, role: 9, keepConn: true, protocolStatus: ProtocolStatus.UnknownRole },
      { type: 'request', requestId: 2, role: 1, keepConn: true, params: [] },
    ])
    expect(outputHex(conn)).toBe('01030001000800000000000003000000')
    expect(conn.shouldClose).toBe(false)
  })

  it('F-13: roles the application does not serve are refused; role 0 and 65535 too', () => {
    const { conn, events } = feed(concat(begin(1, 2), begin(2, 0), begin(3, 65535)), { roles: [Role.Responder] })
    expect(events.map((e) => e.type === 'rejected' && e.protocolStatus)).toEqual([3, 3, 3])
    expect(conn.activeRequestCount).toBe(0)
  })

  it('F-14: without KEEP_CONN the connection should close after END_REQUEST', () => {
    const { conn } = feed(concat(begin(1, 1, 0), params(1), stdin(1)))
    expect(conn.request(1)).toMatchObject({ keepConn: false })
    expect(conn.shouldClose).toBe(false)
    conn.endRequest(1)
    expect(conn.shouldClose).toBe(true)
  })

  it('F-14: with KEEP_CONN it stays open and a second request on it is served', () => {
    const { conn } = feed(concat(begin(1, 1, 1), params(1), stdin(1)))
    conn.endRequest(1)
    expect(conn.shouldClose).toBe(false)
    conn.receiveData(concat(begin(1, 1, 0), params(1)))
    expect(drain(conn)).toMatchObject([{ type: 'request', keepConn: false }])
    conn.endRequest(1)
    expect(conn.shouldClose).toBe(true)
  })

  it('F-15: second BEGIN on a non-multiplexed connection gets CANT_MPX_CONN (V-23); the first goes on', () => {
    const { conn, events } = feed(concat(begin(1, 1, 1), params(1), begin(2), params(2), stdin(1, ascii('body'))))
    expect(events).toMatchObject([
      { type: 'request', requestId: 1 },
      { type: 'rejected', requestId: 2, protocolStatus: ProtocolStatus.CantMpxConn },
      { type: 'stdin', requestId: 1 },
    ])
    expect(outputHex(conn)).toBe('01030002000800000000000001000000')
    expect(conn.isActive(1)).toBe(true)
    expect(conn.isActive(2)).toBe(false)
  })

  it('F-15, S-09: a BEGIN for an id already active closes the connection', () => {
    for (const second of [begin(1), begin(1, 2, 1)]) {
      const conn = new ApplicationConnection({ multiplex: true })
      conn.receiveData(concat(begin(1), second))
      expect(errorCode(() => drain(conn))).toBe('ERR_FCGI_DUPLICATE_REQUEST')
      expect(conn.shouldClose).toBe(true)
      expect(conn.isActive(1)).toBe(false)
    }
  })

  it('F-16: with MAX_REQS=N, request N+1 gets OVERLOADED and requests 1..N are unaffected', () => {
    const input = concat(...[1, 2, 3, 4, 5].flatMap((id) => [begin(id, 1, 1), params(id)]))
    const { conn, events } = feed(input, { multiplex: true, limits: { maxConcurrentRequests: 4 } })
    expect(events.filter((e) => e.type === 'request').map((e) => e.type === 'request' && e.requestId)).toEqual([
      1, 2, 3, 4,
    ])
    expect(events.at(-1)).toEqual({ type: 'rejected', requestId: 5, role: 1, keepConn: true, protocolStatus: 2 })
    expect(outputHex(conn)).toBe('01030005000800000000000002000000')
    conn.endRequest(2)
    conn.receiveData(concat(begin(5), params(5)))
    expect(drain(conn)).toMatchObject([{ type: 'request', requestId: 5 }])
  })
})

describe('streams per role (spec §6)', () => {
  it('F-17: the request event comes only with the empty PARAMS record, and nothing may be sent before', () => {
    const conn = new ApplicationConnection()
    conn.receiveData(concat(begin(1), params(1, encodeParams([['A', '1']]))))
    expect(conn.nextEvent()).toBe(NEED_DATA)
    expect(conn.isActive(1)).toBe(false)
    expect(errorCode(() => conn.stdout(1, ascii('early')))).toBe('ERR_INVALID_STATE')
    conn.receiveData(params(1))
    expect(drain(conn)).toMatchObject([{ type: 'request', params: [['A', '1']] }])
    expect(conn.isActive(1)).toBe(true)
  })

  it('F-17: STDIN before PARAMS ended is a protocol error (libfcgi: FCGX_PROTOCOL_ERROR)', () => {
    const conn = new ApplicationConnection()
    conn.receiveData(concat(begin(1), stdin(1, ascii('x'))))
    expect(errorCode(() => conn.nextEvent())).toBe('ERR_FCGI_UNEXPECTED_RECORD')
  })

  it('F-19: all STDIN data is delivered whatever CONTENT_LENGTH says (the responder compares)', () => {
    const block = encodeParams([['CONTENT_LENGTH', '']])
    const { events } = feed(
      concat(begin(1), params(1, block), params(1), stdin(1, ascii('chunk1')), stdin(1, ascii('chunk2')), stdin(1)),
    )
    expect(events.map((e) => ('data' in e ? new TextDecoder().decode(e.data) : e.type))).toEqual([
      'request',
      'chunk1',
      'chunk2',
      'stdin-end',
    ])
  })

  it('F-20: endRequest ends STDOUT (and a used STDERR) before END_REQUEST; empty writes send nothing', () => {
    const { conn } = feed(concat(begin(1), params(1)))
    conn.stdout(1, EMPTY)
    expect(conn.outputSize).toBe(0)
    conn.stdout(1, ascii('Status: 204\r\n\r\n'))
    conn.stderr(1, ascii('warn'))
    conn.endRequest(1)
    expect(records(conn.takeOutputBytes())).toEqual([
      [6, 1],
      [7, 1],
      [6, 1],
      [7, 1],
      [3, 1],
    ])
    const quiet = feed(concat(begin(1), params(1))).conn
    quiet.stderr(1, EMPTY)
    quiet.endRequest(1)
    expect(records(quiet.takeOutputBytes())).toEqual([
      [6, 1],
      [3, 1],
    ])
  })

  it('F-21: STDOUT and STDERR may interleave; F-22: END_REQUEST is last and nothing follows it', () => {
    const { conn } = feed(concat(begin(1), params(1)))
    conn.stdout(1, ascii('a'))
    conn.stderr(1, ascii('e'))
    conn.stdout(1, ascii('b'))
    conn.endStderr(1)
    conn.endStdout(1)
    conn.endRequest(1, 0)
    expect(records(conn.takeOutputBytes())).toEqual([
      [6, 1],
      [7, 1],
      [6, 1],
      [7, 1],
      [6, 1],
      [3, 1],
    ])
    for (const send of [
      () => conn.stdout(1, ascii('late')),
      () => conn.stderr(1, ascii('late')),
      () => conn.endStdout(1),
      () => conn.endRequest(1),
      () => conn.stdout(2, ascii('foreign id')),
    ]) {
      expect(errorCode(send)).toBe('ERR_INVALID_STATE')
    }
    expect(conn.outputSize).toBe(0)
  })

  it('F-23: appStatus is 32-bit big-endian; -1 is sent as 0xffffffff; bad values are refused', () => {
    const { conn } = feed(concat(begin(1, 1, 1), params(1), begin(2, 1, 1)), { multiplex: true })
    conn.endStdout(1)
    conn.takeOutput()
    conn.endRequest(1, 3)
    expect(outputHex(conn)).toBe(endRequestHex(1, 3, 0))
    conn.receiveData(params(2))
    drain(conn)
    conn.endStdout(2)
    conn.takeOutput()
    expect(errorCode(() => conn.endRequest(2, 1.5))).toBe('ERR_INVALID_ARGUMENT')
    expect(errorCode(() => conn.endRequest(2, 0, 256))).toBe('ERR_INVALID_ARGUMENT')
    expect(conn.outputSize).toBe(0)
    conn.endRequest(2, -1)
    expect(outputHex(conn)).toBe(endRequestHex(2, 0xffffffff, 0))
  })

  it('F-24: ABORT_REQUEST signals the app once; exactly one END_REQUEST is written', () => {
    const { conn, events } = feed(concat(begin(1), params(1), rec(2, 1), rec(2, 1), stdin(1, ascii('ignored'))))
    expect(events).toEqual([
      { type: 'request', requestId: 1, role: 1, keepConn: false, params: [] },
      { type: 'abort', requestId: 1, ended: false },
    ])
    expect(conn.request(1)).toMatchObject({ aborted: true })
    conn.endRequest(1)
    expect(records(conn.takeOutputBytes())).toEqual([
      [6, 1],
      [3, 1],
    ])
    expect(errorCode(() => conn.endRequest(1))).toBe('ERR_INVALID_STATE')
  })

  it('F-24: ABORT_REQUEST before PARAMS ended is answered by the connection itself', () => {
    const { conn, events } = feed(concat(begin(1, 1, 1), params(1, encodeParams([['A', '1']])), rec(2, 1), params(1)))
    expect(events).toEqual([{ type: 'abort', requestId: 1, ended: true }])
    expect(outputHex(conn)).toBe(endRequestHex(1, 0, 0))
    expect(conn.activeRequestCount).toBe(0)
  })

  it('F-25: an Authorizer request is handed over at the end of PARAMS, with no STDIN at all', () => {
    const { conn, events } = feed(
      concat(begin(1, Role.Authorizer), params(1, encodeParams([['REMOTE_USER', 'ann']])), params(1)),
    )
    expect(events).toEqual([
      { type: 'request', requestId: 1, role: Role.Authorizer, keepConn: false, params: [['REMOTE_USER', 'ann']] },
    ])
    conn.stdout(1, ascii('Status: 200 OK\r\nVariable-FOO: bar\r\n\r\n'))
    conn.endRequest(1)
    expect(records(conn.takeOutputBytes())).toEqual([
      [6, 1],
      [6, 1],
      [3, 1],
    ])
  })

  it('F-26: a Filter request gets STDIN then DATA; DATA for other roles is ignored', () => {
    const data = (id: number, body: Uint8Array = EMPTY) => rec(RecordType.Data, id, body)
    const filter = feed(
      concat(
        begin(1, Role.Filter),
        params(1),
        stdin(1, ascii('in')),
        stdin(1),
        data(1, ascii('file')),
        data(1),
        data(1, ascii('x')),
      ),
    )
    expect(filter.events.map((e) => e.type)).toEqual(['request', 'stdin', 'stdin-end', 'data', 'data-end'])
    expect(filter.conn.request(1)).toMatchObject({ stdinEnded: true, dataEnded: true, role: 3 })
    const responder = feed(concat(begin(1), params(1), data(1, ascii('file')), data(1)))
    expect(responder.events.map((e) => e.type)).toEqual(['request'])
  })
})

describe('security checklist (S-)', () => {
  it('S-07: PARAMS in 1-byte records work, and records of a finished stream are ignored', () => {
    const block = encodeParams([['SCRIPT_NAME', '/x']])
    const { events } = feed(
      concat(
        begin(1),
        ...Array.from(block, (b) => params(1, Uint8Array.of(b))),
        params(1),
        params(1, block),
        params(1),
        stdin(1),
      ),
    )
    expect(events).toEqual([
      { type: 'request', requestId: 1, role: 1, keepConn: false, params: [['SCRIPT_NAME', '/x']] },
      { type: 'stdin-end', requestId: 1 },
    ])
  })

  it('S-09: the request table never grows past the limit, even across 65535 distinct ids', () => {
    const conn = new ApplicationConnection({ multiplex: true, limits: { maxConcurrentRequests: 10 } })
    const chunks: Uint8Array[] = []
    for (let id = 1; id <= 65535; id++) chunks.push(begin(id, 1, 1))
    conn.receiveData(concat(...chunks))
    const events = drain(conn)
    expect(conn.activeRequestCount).toBe(10)
    expect(events).toHaveLength(65525)
    expect(events.every((e) => e.type === 'rejected' && e.protocolStatus === ProtocolStatus.Overloaded)).toBe(true)
    const solo = new ApplicationConnection()
    solo.receiveData(concat(...chunks.slice(0, 1000)))
    drain(solo)
    expect(solo.activeRequestCount).toBe(1)
  })

  it('S-10: STDIN after its empty terminator is ignored', () => {
    const { events } = feed(
      concat(begin(1), params(1), stdin(1, ascii('a')), stdin(1), stdin(1, ascii('extra')), stdin(1)),
    )
    expect(events.map((e) => e.type)).toEqual(['request', 'stdin', 'stdin-end'])
  })

  it('S-11: EOF after 4 header bytes, with content missing or in padding reports the open requests', () => {
    const prefix = concat(begin(1, 1, 1), params(1), stdin(1, ascii('part')))
    const cuts = [fromHex('01050001'), fromHex('0105000100100000'), fromHex('01050001000404006162636400')]
    for (const cut of cuts) {
      const conn = new ApplicationConnection()
      conn.receiveData(concat(prefix, cut))
      expect(drain(conn).map((e) => e.type)).toEqual(['request', 'stdin'])
      conn.receiveData(EMPTY)
      const closed = { type: 'closed', midRecord: true, activeRequestIds: [1] }
      expect(conn.nextEvent()).toEqual(closed)
      expect(conn.nextEvent()).toEqual(closed)
      expect(conn.outputSize).toBe(0)
      expect(errorCode(() => conn.receiveData(ascii('more')))).toBe('ERR_INVALID_STATE')
    }
    const clean = feed(concat(begin(1), params(1))).conn
    clean.endRequest(1)
    clean.takeOutput()
    clean.receiveData(EMPTY)
    expect(clean.nextEvent()).toEqual({ type: 'closed', midRecord: false, activeRequestIds: [] })
  })

  it('S-14: 1000 BEGINs on a multiplexed connection leave at most MAX_REQS active, the rest OVERLOADED', () => {
    const input = concat(...Array.from({ length: 1000 }, (_, i) => concat(begin(i + 1), params(i + 1))))
    const { conn, events } = feed(input, { multiplex: true })
    expect(conn.activeRequestCount).toBe(100)
    expect(events.filter((e) => e.type === 'request')).toHaveLength(100)
    expect(events.filter((e) => e.type === 'rejected' && e.protocolStatus === 2)).toHaveLength(900)
    const out = conn.takeOutputBytes()
    expect(out.length).toBe(900 * 16)
  })

  it('S-14: STDIN is not buffered by the codec: each record is handed over as it completes', () => {
    const { conn } = feed(concat(begin(1), params(1)))
    const record = stdin(1, new Uint8Array(32768).fill(1))
    for (let i = 0; i < 100; i++) {
      conn.receiveData(record)
      const [event] = drain(conn)
      expect(event).toMatchObject({ type: 'stdin' })
      expect(conn.bufferedSize).toBe(0)
    }
  })
})

describe('senders and state', () => {
  it('hands out STDIN as views of the received bytes and copies output only when small', () => {
    const input = concat(begin(1), params(1), stdin(1, ascii('view')))
    const { conn, events } = feed(input)
    const data = (events[1] as { data: Uint8Array }).data
    expect(data.buffer).toBe(input.buffer)
    const big = new Uint8Array(100_000).fill(2)
    conn.stdout(1, ascii('Status: 200\r\n\r\n'))
    conn.stdout(1, big)
    conn.endRequest(1)
    const parts = conn.takeOutput()
    // header block + first header, the 65535-byte view, the next header, the 34465-byte view, the ends.
    expect(parts.map((p) => p.length)).toEqual([8 + 15 + 8, 65535, 8, 34465, 8 + 16])
    expect(parts[1]!.buffer).toBe(big.buffer)
    expect(parts[3]!.buffer).toBe(big.buffer)
  })

  it('refuses invalid options', () => {
    expect(errorCode(() => new ApplicationConnection({ padding: 'align4' as never }))).toBe('ERR_INVALID_ARGUMENT')
    expect(errorCode(() => new ApplicationConnection({ maxConns: 0 }))).toBe('ERR_INVALID_ARGUMENT')
  })

  it('recycleOutput: the next records are written over the same memory, padding zeroed again', () => {
    const { conn } = feed(concat(begin(1), params(1)), { padding: 'align8' })
    conn.stdout(1, ascii('abcdefg'))
    const [first] = conn.takeOutput()
    expect(toHex(first!)).toBe('01060001000701006162636465666700')
    conn.recycleOutput()
    conn.stdout(1, ascii('x'))
    const [second] = conn.takeOutput()
    expect(second!.buffer).toBe(first!.buffer) // same slab, from its start
    expect(second!.byteOffset).toBe(first!.byteOffset)
    expect(toHex(second!)).toBe('0106000100010700' + '78' + '00000000000000')
    // Without recycling, taken bytes are never written over (a socket may still hold them).
    conn.stdout(1, ascii('y'))
    const [third] = conn.takeOutput()
    expect(third!.byteOffset).toBe(second!.byteOffset + second!.length)
    expect(toHex(second!)).toBe('0106000100010700' + '78' + '00000000000000')
    // Recycling with output still queued is a no-op: queued bytes are never overwritten.
    conn.stdout(1, ascii('z'))
    conn.recycleOutput()
    conn.stdout(1, ascii('w'))
    expect(toHex(conn.takeOutputBytes())).toBe(
      '0106000100010700' + '7a00000000000000' + '0106000100010700' + '7700000000000000',
    )
  })

  it('align8 pads every record it writes', () => {
    const { conn } = feed(concat(begin(1), params(1)), { padding: 'align8' })
    conn.stdout(1, ascii('abc'))
    conn.stderr(1, ascii('e'))
    conn.endRequest(1, 0)
    const out = conn.takeOutputBytes()
    expect(toHex(out.subarray(0, 16))).toBe('0106000100030500' + '6162630000000000')
    expect(out.length % 8).toBe(0)
  })
})
