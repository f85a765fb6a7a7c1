// The 35 golden vectors V-01..V-35 (test/fixtures/fastcgi/vectors.json, docs/checklist.md): each decoded three
// ways (h11's tr(): whole, one byte at a time, with trailing bytes), and our encoders' exact bytes.
import { describe, expect, it } from 'vitest'
import { isTsgiError } from '../../../src/errors.js'
import {
  ApplicationConnection,
  type ApplicationOptions,
  decodeHeader,
  decodeLength,
  decodeParams,
  encodeLength,
  encodeParams,
  encodeRecord,
  lengthSize,
  NEED_DATA,
  type Padding,
  ParamsDecoder,
  RecordType,
  Role,
  WebServerConnection,
} from '../../../src/protocol/fastcgi/index.js'
import {
  type AnyConnection,
  type AnyEvent,
  ascii,
  concat,
  type DecodeSpec,
  drain,
  fromHex,
  fromSegments,
  loadVectors,
  normalize,
  outputHex,
  recordEnds,
  toHex,
  type Vector,
} from './_helpers.js'

const vectors = loadVectors()
const byId = new Map(vectors.map((v) => [v.id, v]))

function vectorBytes(id: string): Uint8Array {
  return fromSegments(byId.get(id)!.bytes!)
}

function expectedEvents(spec: DecodeSpec): unknown[] {
  return (spec.events ?? []).map((e) => ('data' in e ? { ...e, data: toHex(fromSegments(e.data as never)) } : e))
}

/** A connection in the state the vector needs (setup records fed, requests begun). */
function connect(spec: DecodeSpec): AnyConnection {
  if (spec.side === 'application') {
    const conn = new ApplicationConnection(spec.options as ApplicationOptions | undefined)
    if (spec.setup) {
      conn.receiveData(fromSegments(spec.setup))
      drain(conn)
      conn.takeOutput()
    }
    return conn
  }
  const conn = new WebServerConnection()
  for (const id of spec.begin ?? []) {
    conn.beginRequest(id, Role.Responder, true)
    conn.endParams(id)
    conn.endStdin(id)
  }
  conn.takeOutput()
  return conn
}

/** Feed `input` and collect events; a thrown error ends the run and is returned with them. */
function feedWhole(conn: AnyConnection, input: Uint8Array): { events: AnyEvent[]; error?: unknown } {
  conn.receiveData(input)
  const events: AnyEvent[] = []
  try {
    for (let e = conn.nextEvent(); e !== NEED_DATA; e = conn.nextEvent()) events.push(e)
  } catch (error) {
    return { events, error }
  }
  return { events }
}

function checkError(error: unknown, code: string | undefined): void {
  if (code === undefined) {
    expect(error).toBeUndefined()
  } else {
    expect(isTsgiError(error)).toBe(true)
    expect((error as { code: string }).code).toBe(code)
  }
}

function testConnectionVector(vector: Vector, spec: DecodeSpec): void {
  const input = fromSegments(spec.input ?? vector.bytes!)
  const expected = expectedEvents(spec)

  it('decodes whole', () => {
    const conn = connect(spec)
    const { events, error } = feedWhole(conn, input)
    expect(normalize(events)).toEqual(expected)
    checkError(error, spec.error)
    if (spec.output) expect(outputHex(conn)).toBe(toHex(vectorBytes(spec.output)))
    if (spec.error) expect(conn.outputSize).toBe(0)
  })

  it('decodes one byte at a time, NEED_DATA until each record is whole', () => {
    const conn = connect(spec)
    const ends = new Set(recordEnds(input))
    const events: AnyEvent[] = []
    let error: unknown
    for (let i = 0; i < input.length && error === undefined; i++) {
      conn.receiveData(input.subarray(i, i + 1))
      try {
        if (!ends.has(i + 1)) {
          expect(conn.nextEvent()).toBe(NEED_DATA)
          continue
        }
        for (let e = conn.nextEvent(); e !== NEED_DATA; e = conn.nextEvent()) events.push(e)
      } catch (err) {
        if (!isTsgiError(err)) throw err
        error = err
      }
    }
    expect(normalize(events)).toEqual(expected)
    checkError(error, spec.error)
    if (spec.output) expect(outputHex(conn)).toBe(toHex(vectorBytes(spec.output)))
  })

  it('decodes with trailing bytes, which stay buffered and parse as the next record', () => {
    const conn = connect(spec)
    // The next record: an empty GET_VALUES to the application, an UNKNOWN_TYPE to the web server.
    const next = fromHex(spec.side === 'application' ? '0109000000000000' : '010b0000000800006300000000000000')
    const { events, error } = feedWhole(conn, concat(input, next.subarray(0, 7)))
    expect(normalize(events)).toEqual(expected)
    checkError(error, spec.error)
    if (spec.error) return
    expect(conn.bufferedSize).toBe(7)
    if (spec.output) expect(outputHex(conn)).toBe(toHex(vectorBytes(spec.output)))
    conn.takeOutput()
    const after = feedWhole(conn, next.subarray(7))
    expect(conn.bufferedSize).toBe(0)
    if (spec.side === 'application') {
      expect(after.events).toEqual([])
      expect(outputHex(conn)).toBe('010a000000000000') // the empty GET_VALUES_RESULT
    } else {
      expect(after.events).toEqual([{ type: 'unknown-type', recordType: 0x63 }])
    }
  })
}

function testParamsVector(vector: Vector, spec: DecodeSpec): void {
  const bytes = fromSegments(vector.bytes!)
  const next = vectorBytes('V-13') // SERVER_PORT=80
  it('decodes whole', () => {
    expect(decodeParams(bytes)).toEqual(spec.pairs)
  })
  it('decodes one byte at a time, no pair until the last byte', () => {
    const decoder = new ParamsDecoder()
    for (let i = 0; i < bytes.length; i++) {
      expect(decoder.pairs).toEqual([])
      decoder.push(bytes.subarray(i, i + 1))
    }
    expect(decoder.end()).toEqual(spec.pairs)
  })
  it('decodes with trailing bytes, which parse as the next pair', () => {
    const decoder = new ParamsDecoder()
    decoder.push(concat(bytes, next.subarray(0, 3)))
    expect(decoder.pairs).toEqual(spec.pairs)
    expect(decoder.partial).toBe(true)
    decoder.push(next.subarray(3))
    expect(decoder.end()).toEqual([...spec.pairs!, ['SERVER_PORT', '80']])
  })
}

function testLengthVector(vector: Vector): void {
  for (const [value, hex] of vector.cases!) {
    const bytes = fromHex(hex)
    it(`decodes ${value} whole, byte by byte and with trailing bytes`, () => {
      expect(decodeLength(bytes)).toBe(value)
      for (let i = 0; i < bytes.length; i++) expect(decodeLength(bytes.subarray(0, i))).toBe(-1)
      expect(decodeLength(concat(bytes, fromHex('ff01')))).toBe(value)
      expect(lengthSize(value)).toBe(bytes.length)
    })
  }
}

describe('golden vectors: decoding', () => {
  it('has all 35 vectors, V-01..V-35', () => {
    expect(vectors.map((v) => v.id)).toEqual(
      Array.from({ length: 35 }, (_, i) => `V-${String(i + 1).padStart(2, '0')}`),
    )
  })
  for (const vector of vectors) {
    const specs = Array.isArray(vector.decode) ? vector.decode : [vector.decode]
    specs.forEach((spec, n) => {
      describe(`${vector.id}${specs.length > 1 ? `/${n + 1}` : ''} ${vector.meaning} (${spec.side})`, () => {
        if (spec.side === 'params') testParamsVector(vector, spec)
        else if (spec.side === 'length') testLengthVector(vector)
        else testConnectionVector(vector, spec)
        if (spec.header) {
          it('has the expected header fields', () => {
            expect(decodeHeader(vectorBytes(vector.id))).toEqual(spec.header)
          })
        }
      })
    })
  }
})

/** A web-server connection with request `id` begun and its PARAMS and STDIN ended as asked. */
function client(
  padding: Padding = 'none',
  id = 1,
  ended: 'begun' | 'params' | 'stdin' = 'begun',
  role: number = Role.Responder,
) {
  const conn = new WebServerConnection({ padding })
  conn.beginRequest(id, role, false)
  if (ended !== 'begun') conn.endParams(id)
  if (ended === 'stdin') conn.endStdin(id)
  conn.takeOutput()
  return conn
}

/** An application connection with request 1 (or `id`) begun and its PARAMS ended. */
function app(options: ApplicationOptions = {}, id = 1): ApplicationConnection {
  const conn = new ApplicationConnection(options)
  conn.receiveData(fromHex(`0101${hex16(id)}000800000001000000000000` + `0104${hex16(id)}00000000`))
  drain(conn)
  return conn
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0')
}

function replyTo(options: ApplicationOptions, input: string): Uint8Array {
  const conn = new ApplicationConnection(options)
  conn.receiveData(fromHex(input))
  drain(conn)
  return conn.takeOutputBytes()
}

const begin = (id: number) => `0101${hex16(id)}000800000001010000000000`

/** How our writers produce each vector they own. Decode-only vectors are listed below. */
const encoders: Record<string, () => Uint8Array> = {
  'V-01': () => {
    const c = new WebServerConnection()
    c.beginRequest(1, Role.Responder, false)
    return c.takeOutputBytes()
  },
  'V-02': () => {
    const c = new WebServerConnection()
    c.beginRequest(1, Role.Responder, true)
    return c.takeOutputBytes()
  },
  'V-03': () => {
    const c = new WebServerConnection()
    c.beginRequest(1, Role.Authorizer)
    return c.takeOutputBytes()
  },
  'V-04': () => {
    const c = client()
    c.endParams(1)
    return c.takeOutputBytes()
  },
  'V-05': () => {
    const c = client('none', 1, 'params')
    c.endStdin(1)
    return c.takeOutputBytes()
  },
  'V-06': () => {
    const c = client('align8', 1, 'params')
    c.stdin(1, ascii('abcde'))
    return c.takeOutputBytes()
  },
  'V-07': () => {
    const c = client('align8', 1, 'params')
    c.stdin(1, ascii('hello chunked body'))
    return c.takeOutputBytes()
  },
  'V-08': () => {
    const c = client('none', 1, 'params')
    c.stdin(1, ascii('hello chunked body'))
    return c.takeOutputBytes()
  },
  'V-09': () => {
    const c = client('none', 1, 'params')
    c.stdin(1, ascii('abc=1'))
    return c.takeOutputBytes()
  },
  'V-10': () => encodeParams([['QUERY_STRING', 'a=1']]),
  'V-11': () => encodeParams([['CONTENT_TYPE', '']]),
  'V-12': () => encodeParams([['HTTP_X_LONG', 'L'.repeat(200)]]),
  'V-13': () => encodeParams([['SERVER_PORT', '80']]),
  'V-16': () => {
    const block = encodeParams([['HTTP_X_FILL', 'x'.repeat(433)]])
    return encodeRecord(RecordType.Params, 1, block, 'align8').subarray(0, 8)
  },
  'V-17': () => {
    const c = app()
    c.stdout(1, ascii('Content-Type: text/plain\r\n\r\nok'))
    c.endStdout(1)
    return c.takeOutputBytes()
  },
  'V-18': () => {
    const c = app()
    c.endStdout(1)
    c.takeOutput()
    c.endRequest(1)
    return c.takeOutputBytes()
  },
  'V-19': () => {
    const c = app()
    c.endStdout(1)
    c.takeOutput()
    c.endRequest(1, 3)
    return c.takeOutputBytes()
  },
  'V-20': () => replyTo({ multiplex: true, limits: { maxConcurrentRequests: 4 } }, [1, 2, 3, 4, 5].map(begin).join('')),
  'V-21': () => replyTo({}, '01010001000800000009000000000000'),
  'V-22': () => replyTo({}, '012a000000000000'),
  'V-23': () => replyTo({}, begin(1) + begin(2)),
  // Go's reply to a query for FCGI_MPXS_CONNS, without Go's extra empty record (the 4th segment).
  'V-24': () =>
    replyTo({ multiplex: true, padding: 'align8' }, '0109000000110000' + '0f00464347495f4d5058535f434f4e4e53'),
  'V-25': () => replyTo({ maxConns: 1, maxReqs: 1, padding: 'align8' }, toHex(vectorBytes('V-28'))),
  'V-26': () => {
    const c = client('align8', 300, 'params')
    c.stdin(300, new Uint8Array(66000).fill(0x61))
    c.endStdin(300)
    return c.takeOutputBytes()
  },
  'V-27': () => {
    const c = new WebServerConnection()
    c.beginRequest(1, Role.Responder, true)
    c.params(1, fromHex('3232030405060708090a'))
    c.endParams(1)
    return c.takeOutputBytes()
  },
  'V-28': () => {
    const c = new WebServerConnection()
    c.getValues(['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'])
    return c.takeOutputBytes()
  },
  'V-29': () => {
    const c = app({ roles: [Role.Authorizer, Role.Responder] })
    c.stdout(1, ascii('Status: 200 OK\r\nVariable-FOO: bar\r\n\r\n'))
    return c.takeOutputBytes()
  },
  'V-34': () => {
    const c = new WebServerConnection()
    c.beginRequest(1, Role.Filter)
    const beginBytes = c.takeOutputBytes()
    c.endParams(1)
    c.endStdin(1)
    c.takeOutput()
    c.endData(1)
    return concat(beginBytes, c.takeOutputBytes())
  },
  'V-35': () => {
    const c = client('none', 1, 'stdin')
    c.abortRequest(1)
    const abort = c.takeOutputBytes()
    const a = app()
    a.stderr(1, ascii('oops\n'))
    return concat(abort, a.takeOutputBytes())
  },
}

/** Vectors only a peer writes: we decode them (above) but never produce them. */
const decodeOnly: Record<string, string> = {
  'V-30': 'a version-2 header',
  'V-31': 'hostile 31-bit lengths',
  'V-32': 'padding 255 (we pad 0 or to 8)',
  'V-33': 'a pair split inside a record (we split only at 65535 bytes)',
}

describe('golden vectors: our encoders reproduce the bytes', () => {
  it('covers every vector: each is produced by an encoder or is decode-only', () => {
    const uncovered = vectors.filter((v) => !v.cases && !(v.id in encoders) && !(v.id in decodeOnly))
    expect(uncovered.map((v) => v.id)).toEqual([])
  })
  for (const vector of vectors) {
    if (vector.id in decodeOnly) continue
    if (vector.cases) {
      it(`${vector.id} ${vector.meaning}`, () => {
        for (const [value, hex] of vector.cases!) expect(toHex(encodeLength(value))).toBe(hex)
      })
      continue
    }
    it(`${vector.id} ${vector.meaning}`, () => {
      const encode = encoders[vector.id]
      expect(encode).toBeDefined()
      const segments = vector.id === 'V-24' ? vector.bytes!.slice(0, 3) : vector.bytes!
      expect(toHex(encode!())).toBe(toHex(fromSegments(segments)))
    })
  }
})
