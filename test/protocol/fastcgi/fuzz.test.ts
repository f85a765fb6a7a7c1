// Property tests (fast-check), h11's fuzz invariant: any input either decodes into events or fails
// with a TsgiError ERR_FCGI_*, never anything else, and the result does not depend on how the bytes
// were split. Plus encode→decode round trips of random requests and responses, split arbitrarily.
// Bounded by numRuns and a time limit per property (the whole file stays well under 20 s).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TsgiError } from '../../../src/errors.js'
import {
  ApplicationConnection,
  decodeParams,
  encodeParams,
  NEED_DATA,
  type Padding,
  ParamsDecoder,
  Role,
  WebServerConnection,
} from '../../../src/protocol/fastcgi/index.js'
import { type AnyConnection, type AnyEvent, concat, normalize, rec, recordEnds, toHex } from './_helpers.js'

const RUN = { numRuns: 400, interruptAfterTimeLimit: 3000 }

/** Split `bytes` at the given points (taken modulo its length). */
function split(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => (bytes.length === 0 ? 0 : p % (bytes.length + 1))))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) chunks.push(bytes.subarray(from, cut))
    from = Math.max(from, cut)
  }
  return chunks
}

interface Outcome {
  events: unknown[]
  error: string | undefined
  output: string
}

/** Feed chunks, draining after each; payloads are copied as they come (views may be reused). */
function run(conn: AnyConnection, chunks: Uint8Array[], eof: boolean, respond = false): Outcome {
  const events: AnyEvent[] = []
  let error: string | undefined
  try {
    // An empty array means EOF: only the explicit one is sent.
    for (const chunk of [...chunks.filter((c) => c.length > 0), ...(eof ? [new Uint8Array(0)] : [])]) {
      conn.receiveData(chunk)
      for (;;) {
        const event = conn.nextEvent()
        if (event === NEED_DATA) break
        events.push('data' in event ? { ...event, data: event.data.slice() } : event)
        if (event.type === 'closed') break
        if (respond && conn instanceof ApplicationConnection && event.type === 'request' && event.requestId % 2 === 1) {
          // Answer odd ids at once, so that senders and ids freed mid-stream get exercised too.
          conn.stdout(event.requestId, Uint8Array.of(event.requestId))
          conn.endRequest(event.requestId, 0)
        }
      }
    }
  } catch (err) {
    // The invariant: the only thing that escapes is a TsgiError with an ERR_FCGI_* code.
    if (!(err instanceof TsgiError) || !err.code.startsWith('ERR_FCGI_')) throw err
    error = err.code
  }
  const output = conn.takeOutputBytes()
  // Whatever happened, what we write is whole, well-formed version-1 records.
  const ends = recordEnds(output)
  expect(ends.at(-1) ?? 0).toBe(output.length)
  for (const start of [0, ...ends].slice(0, ends.length)) expect(output[start]).toBe(1)
  return { events: normalize(events), error, output: toHex(output) }
}

/** Random record sequences that reach deep states: mostly plausible records, some noise. */
const id = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 2 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) },
)
const pad = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) })
const pairs = fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 3 })
const maybeEmpty = (bytes: fc.Arbitrary<Uint8Array>) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 2, arbitrary: bytes })
const record = fc.oneof(
  {
    weight: 3, // a whole request head, so that streams and senders get exercised
    arbitrary: fc
      .tuple(id, fc.constantFrom(1, 2, 3), fc.constantFrom(0, 1), pairs)
      .map(([i, role, flags, p]) =>
        concat(rec(1, i, Uint8Array.of(0, role, flags, 0, 0, 0, 0, 0)), rec(4, i, encodeParams(p)), rec(4, i)),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(id, fc.constantFrom(1, 2, 3, 9), fc.constantFrom(0, 1), pad)
      .map(([i, role, flags, p]) => rec(1, i, Uint8Array.of(0, role, flags, 0, 0, 0, 0, 0), p)),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(id, maybeEmpty(pairs.map((p) => encodeParams(p))), pad).map(([i, c, p]) => rec(4, i, c, p)),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(id, maybeEmpty(fc.uint8Array({ maxLength: 20 })), pad).map(([i, c, p]) => rec(5, i, c, p)),
  },
  { weight: 1, arbitrary: fc.tuple(id, maybeEmpty(fc.uint8Array({ maxLength: 20 }))).map(([i, c]) => rec(8, i, c)) },
  { weight: 1, arbitrary: id.map((i) => rec(2, i)) },
  { weight: 1, arbitrary: pairs.map((p) => rec(9, 0, encodeParams(p))) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 255 }), id, fc.uint8Array({ maxLength: 24 }), pad)
      .map(([t, i, c, p]) => rec(t, i, c, p)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }) },
)
const records = fc.array(record, { maxLength: 30 }).map((list) => concat(...list))

const appOptions = fc.record({
  multiplex: fc.boolean(),
  padding: fc.constantFrom<Padding>('none', 'align8'),
  limits: fc.record({
    maxConcurrentRequests: fc.integer({ min: 1, max: 3 }),
    maxParams: fc.integer({ min: 1, max: 5 }),
  }),
})

/** A web-server connection with requests 1..3 begun, PARAMS and STDIN ended. */
function client(): WebServerConnection {
  const conn = new WebServerConnection()
  for (const id of [1, 2, 3]) {
    conn.beginRequest(id, Role.Responder, true)
    conn.endParams(id)
    conn.endStdin(id)
  }
  conn.takeOutput()
  return conn
}

describe('fuzz: decoding never throws anything but TsgiError ERR_FCGI_*, whatever the split', () => {
  const inputs = fc.oneof(fc.uint8Array({ maxLength: 300 }), records)
  const points = fc.array(fc.nat(), { maxLength: 12 })

  it('application side: random bytes and records, whole and split, give identical outcomes', () => {
    fc.assert(
      fc.property(inputs, points, appOptions, fc.boolean(), (bytes, cuts, options, eof) => {
        const whole = run(new ApplicationConnection(options), [bytes], eof, true)
        const pieces = run(new ApplicationConnection(options), split(bytes, cuts), eof, true)
        const bytewise = run(new ApplicationConnection(options), split(bytes, [...bytes.keys()]), eof, true)
        expect(pieces).toEqual(whole)
        expect(bytewise).toEqual(whole)
      }),
      RUN,
    )
  })

  it('web-server side: random bytes and records, whole and split, give identical outcomes', () => {
    fc.assert(
      fc.property(inputs, points, fc.boolean(), (bytes, cuts, eof) => {
        const whole = run(client(), [bytes], eof)
        expect(run(client(), split(bytes, cuts), eof)).toEqual(whole)
      }),
      RUN,
    )
  })
})

describe('fuzz: name-value decoding', () => {
  it('decodes raw byte pairs exactly like a TextDecoder per name and value, however split', () => {
    const utf8 = new TextDecoder()
    const byte = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x80, 0xff),
    )
    const raw = fc.array(byte, { maxLength: 20 }).map((b) => Uint8Array.from(b))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(raw, raw), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pairs, cuts) => {
          const block = encodeParams(pairs)
          const expected = pairs.map(([n, v]) => [utf8.decode(n), utf8.decode(v)])
          expect(decodeParams(block)).toEqual(expected)
          const decoder = new ParamsDecoder()
          for (const chunk of split(block, cuts)) decoder.push(chunk)
          expect(decoder.end()).toEqual(expected)
        },
      ),
      RUN,
    )
  })
})

describe('fuzz: encode then decode round trips, split arbitrarily', () => {
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary-ascii', maxLength: 12 }),
  )
  const bigText = fc.oneof(
    text,
    fc.integer({ min: 120, max: 70000 }).map((n) => 'v'.repeat(n)),
  )
  const body = fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 1, max: 140000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
    ),
    { maxLength: 4 },
  )
  const request = fc.record({
    id: fc.integer({ min: 1, max: 65535 }),
    role: fc.constantFrom<Role>(Role.Responder, Role.Authorizer, Role.Filter),
    keepConn: fc.boolean(),
    params: fc.array(fc.tuple(text, bigText), { maxLength: 8 }),
    stdin: body,
    data: body,
    padding: fc.constantFrom<Padding>('none', 'align8'),
  })
  const limits = { maxParamsBytes: 1 << 20, maxNameValueLength: 1 << 20 }

  it('requests: what the web server sends is what the application receives', () => {
    fc.assert(
      fc.property(request, fc.array(fc.nat(), { maxLength: 10 }), (req, cuts) => {
        const client = new WebServerConnection({ padding: req.padding })
        client.beginRequest(req.id, req.role, req.keepConn)
        client.params(req.id, req.params)
        client.endParams(req.id)
        for (const chunk of req.stdin) client.stdin(req.id, chunk)
        client.endStdin(req.id)
        if (req.role === Role.Filter) {
          for (const chunk of req.data) client.data(req.id, chunk)
          client.endData(req.id)
        }
        const app = new ApplicationConnection({ limits })
        const { events, error } = run(app, split(client.takeOutputBytes(), cuts), false)
        expect(error).toBeUndefined()
        const expected = [
          { type: 'request', requestId: req.id, role: req.role, keepConn: req.keepConn, params: req.params },
          ...req.stdin.filter((c) => c.length > 0).map((c) => ({ type: 'stdin', requestId: req.id, data: toHex(c) })),
          { type: 'stdin-end', requestId: req.id },
        ]
        if (req.role === Role.Filter) {
          expected.push(
            ...req.data.filter((c) => c.length > 0).map((c) => ({ type: 'data', requestId: req.id, data: toHex(c) })),
            { type: 'data-end', requestId: req.id },
          )
        }
        expect(joinPayloads(events)).toEqual(joinPayloads(expected))
      }),
      { numRuns: 150, interruptAfterTimeLimit: 4000 },
    )
  })

  it('responses: what the application writes is what the web server receives', () => {
    const write = fc.record({ stream: fc.constantFrom('stdout', 'stderr'), bytes: fc.uint8Array({ maxLength: 30 }) })
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            write,
            fc.integer({ min: 1, max: 140000 }).map((n) => ({ stream: 'stdout', bytes: new Uint8Array(n).fill(7) })),
          ),
          { maxLength: 6 },
        ),
        fc.integer({ min: -0x80000000, max: 0xffffffff }),
        fc.constantFrom<Padding>('none', 'align8'),
        fc.array(fc.nat(), { maxLength: 10 }),
        (writes, appStatus, padding, cuts) => {
          const app = new ApplicationConnection({ padding })
          run(app, [concat(rec(1, 1, Uint8Array.of(0, 1, 1, 0, 0, 0, 0, 0)), rec(4, 1))], false)
          for (const w of writes) (w.stream === 'stdout' ? app.stdout : app.stderr).call(app, 1, w.bytes)
          app.endRequest(1, appStatus)
          const client = new WebServerConnection()
          client.beginRequest(1, Role.Responder, true)
          client.endParams(1)
          client.takeOutput()
          const { events, error } = run(client, split(app.takeOutputBytes(), cuts), false)
          expect(error).toBeUndefined()
          const joined = joinPayloads(events) as Array<{ type: string; data?: string }>
          const expectBytes = (stream: string) =>
            toHex(concat(...writes.filter((w) => w.stream === stream).map((w) => w.bytes)))
          expect(
            joined
              .filter((e) => e.type === 'stdout')
              .map((e) => e.data)
              .join(''),
          ).toBe(expectBytes('stdout'))
          expect(
            joined
              .filter((e) => e.type === 'stderr')
              .map((e) => e.data)
              .join(''),
          ).toBe(expectBytes('stderr'))
          expect(joined.at(-1)).toEqual({
            type: 'end-request',
            requestId: 1,
            appStatus: appStatus >>> 0,
            protocolStatus: 0,
          })
          expect(joined.at(-2)?.type).toMatch(/-end$/)
        },
      ),
      { numRuns: 150, interruptAfterTimeLimit: 4000 },
    )
  })
})

/** Merge consecutive payload events of one kind: record boundaries are not part of a stream's value. */
function joinPayloads(events: unknown[]): unknown[] {
  const out: Array<Record<string, unknown>> = []
  for (const e of events as Array<Record<string, unknown>>) {
    const last = out.at(-1)
    if (last && 'data' in e && last.type === e.type && last.requestId === e.requestId) {
      last.data = String(last.data) + String(e.data)
    } else {
      out.push({ ...e })
    }
  }
  return out
}
