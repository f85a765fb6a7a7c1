// Name-value pairs (FastCGI spec §3.4): F-18, S-05, S-06, the incremental decoder and its limits.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ApplicationConnection,
  DEFAULT_LIMITS,
  decodeParams,
  encodeLength,
  encodeParams,
  type Limits,
  ParamsDecoder,
  resolveLimits,
} from '../../../src/protocol/fastcgi/index.js'
import { NameHints } from '../../../src/protocol/fastcgi/text.js'
import { ascii, concat, drain, fromHex, rec, toHex } from './_helpers.js'

const BEGIN_1 = fromHex('01010001000800000001000000000000')

function errorOf(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn()
  } catch (err) {
    return err as { code: string; message: string }
  }
  throw new Error('expected an error')
}

/** Push `bytes` split at every position in `cuts`, then end. */
function decodeSplit(bytes: Uint8Array, cuts: number[], limits?: Readonly<Limits>) {
  const decoder = new ParamsDecoder(limits)
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut))
    from = cut
  }
  return decoder.end()
}

describe('name-value pairs (spec §3.4)', () => {
  it('F-18: lengths below 128 take 1 byte, others 4 with the top bit set (31 bits)', () => {
    expect(toHex(encodeLength(127))).toBe('7f')
    expect(toHex(encodeLength(128))).toBe('80000080')
    expect(toHex(encodeLength(0x7fffffff))).toBe('ffffffff')
    expect(() => encodeLength(0x80000000)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    const pairs: Array<[string, string]> = [
      ['A', 'x'.repeat(127)],
      ['B'.repeat(128), ''],
      ['C', 'y'.repeat(70000)],
    ]
    const block = encodeParams(pairs)
    expect(block.length).toBe(1 + 1 + 1 + 127 + (4 + 1 + 128) + (1 + 4 + 1 + 70000))
    expect(decodeParams(block, resolveLimits({ maxNameValueLength: 70000 }))).toEqual(pairs)
  })

  it('F-18: values carry no terminating NUL; a NUL inside a value is kept byte-exact (policy: environ builder)', () => {
    const block = encodeParams([['X', 'a\0b']])
    expect(toHex(block)).toBe('0103' + '58' + '610062')
    expect(decodeParams(block)).toEqual([['X', 'a\0b']])
  })

  it('F-18: names and values decode as UTF-8, bad bytes as U+FFFD (like process.env)', () => {
    const block = encodeParams([
      [ascii('HTTP_X'), fromHex('c3a9ff41e282')], // short value: the ASCII fast path must bail out
      [fromHex('c3a9'), fromHex(`${'41'.repeat(20)}c0`)], // non-ASCII name, long value
      [ascii('HTTP_ACCEPT_LANGUAGE'), ascii('fr-CH, fr;q=0.9')],
    ])
    expect(decodeParams(block)).toEqual([
      ['HTTP_X', '\u00e9\ufffdA\ufffd'],
      ['\u00e9', `${'A'.repeat(20)}\ufffd`],
      ['HTTP_ACCEPT_LANGUAGE', 'fr-CH, fr;q=0.9'],
    ])
    // Names are interned: decoding twice gives equal strings from different bytes.
    expect(decodeParams(block.slice())).toEqual(decodeParams(block))
  })

  it('names hinted by the previous block on the connection: same names reused, any change decoded anew', () => {
    const hints = new NameHints()
    const decode = (pairs: Array<[string, string]>) => {
      const decoder = new ParamsDecoder(DEFAULT_LIMITS, hints)
      decoder.push(encodeParams(pairs))
      return decoder.end()
    }
    const first = decode([
      ['REQUEST_METHOD', 'GET'],
      ['HTTP_HOST', 'a'],
      ['HTTP_X_A', '1'],
    ])
    const second = decode([
      ['REQUEST_METHOD', 'POST'],
      ['HTTP_HOST', 'b'],
      ['HTTP_X_B', '2'],
    ])
    expect(second).toEqual([
      ['REQUEST_METHOD', 'POST'],
      ['HTTP_HOST', 'b'],
      ['HTTP_X_B', '2'],
    ])
    expect(second[0]![0]).toBe(first[0]![0])
    // Another layout at the same positions (other lengths, other order, a non-ASCII name): exact names.
    const third = decode([
      ['HTTP_X_B', '3'],
      ['\u00e9t\u00e9', '4'],
      ['REQUEST_METHOD', 'PUT'],
      ['Z', '5'],
    ])
    expect(third).toEqual([
      ['HTTP_X_B', '3'],
      ['\u00e9t\u00e9', '4'],
      ['REQUEST_METHOD', 'PUT'],
      ['Z', '5'],
    ])
    expect(decode([['HTTP_X_C', '6']])).toEqual([['HTTP_X_C', '6']])
  })

  it('F-06, V-33: a pair split anywhere (inside a length, a name or a value) decodes the same', () => {
    const pairs: Array<[string, string]> = [
      ['REQUEST_METHOD', 'GET'],
      ['HTTP_X_LONG', 'L'.repeat(300)],
      ['', ''],
      ['N'.repeat(200), 'v'],
    ]
    const block = encodeParams(pairs)
    for (let cut = 0; cut <= block.length; cut++) expect(decodeSplit(block, [cut])).toEqual(pairs)
    expect(
      decodeSplit(
        block,
        Array.from({ length: block.length }, (_, i) => i),
      ),
    ).toEqual(pairs)
  })

  it('S-06, V-27: a length that overruns the stream is a deterministic protocol error', () => {
    const malformed = fromHex('3232030405060708090a')
    for (let cut = 0; cut <= malformed.length; cut++) {
      expect(errorOf(() => decodeSplit(malformed, [cut]))).toMatchObject({
        code: 'ERR_FCGI_BAD_PARAMS',
        message: 'fcgi: params end inside a name-value pair',
      })
    }
  })

  it('S-05, V-31: hostile 31-bit lengths are refused before any allocation, even with maximal limits', () => {
    const hostile = fromHex('ffffffffffffffff0000')
    expect(errorOf(() => decodeParams(hostile))).toMatchObject({ code: 'ERR_FCGI_LIMIT' })
    const max = resolveLimits({ maxParamsBytes: 0x7fffffff, maxNameValueLength: 0x7fffffff })
    // Allocating 4 GiB would throw a RangeError; the length check must come first.
    expect(errorOf(() => decodeParams(hostile, max))).toMatchObject({ code: 'ERR_FCGI_LIMIT' })
    const split = new ParamsDecoder(max)
    split.push(hostile.subarray(0, 5))
    expect(errorOf(() => split.push(hostile.subarray(5)))).toMatchObject({ code: 'ERR_FCGI_LIMIT' })
  })

  it('S-05: the defaults are 128 KiB of PARAMS, 1000 pairs, 64 KiB per name or value', () => {
    expect(DEFAULT_LIMITS).toMatchObject({ maxParamsBytes: 131072, maxParams: 1000, maxNameValueLength: 65536 })
    expect(DEFAULT_LIMITS.maxParamsBytes).toBeGreaterThanOrEqual(65535) // nginx's largest PARAMS
  })

  it('S-05: a per-request PARAMS byte cap, a pair-count cap and a per-pair cap are enforced', () => {
    const limits = resolveLimits({ maxParamsBytes: 100, maxParams: 3, maxNameValueLength: 20 })
    expect(
      decodeParams(
        encodeParams([
          ['a', '1'],
          ['b', '2'],
          ['c', '3'],
        ]),
        limits,
      ),
    ).toHaveLength(3)
    const four = encodeParams([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
    ])
    expect(errorOf(() => decodeParams(four, limits))).toMatchObject({
      code: 'ERR_FCGI_LIMIT',
      message: 'fcgi: more than 3 params',
    })
    expect(errorOf(() => decodeParams(encodeParams([['a', 'x'.repeat(21)]]), limits))).toMatchObject({
      message: 'fcgi: name-value length 21 over limit 20',
    })
    // A declared pair running past the cap fails at its lengths, before its bytes arrive.
    const decoder = new ParamsDecoder(resolveLimits({ maxParamsBytes: 100 }))
    expect(errorOf(() => decoder.push(fromHex('01800000ff')))).toMatchObject({
      message: 'fcgi: params over limit 100 bytes',
    })
    const many = new ParamsDecoder(resolveLimits({ maxParamsBytes: 10 }))
    many.push(new Uint8Array(10)) // five empty pairs: exactly at the cap
    expect(errorOf(() => many.push(new Uint8Array(1)))).toMatchObject({ code: 'ERR_FCGI_LIMIT' })
  })

  it('S-05: the connection applies the PARAMS cap across records', () => {
    const conn = new ApplicationConnection({ limits: { maxParamsBytes: 64 } })
    const block = encodeParams([['NAME', 'v'.repeat(40)]])
    conn.receiveData(concat(BEGIN_1, rec(4, 1, block), rec(4, 1, block)))
    expect(errorOf(() => drain(conn))).toMatchObject({ code: 'ERR_FCGI_LIMIT' })
    expect(conn.shouldClose).toBe(true)
  })

  it('rejects invalid limits', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(errorOf(() => resolveLimits({ maxParams: bad }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    }
  })
})

describe('encodeParams writes strings straight into the block', () => {
  // Any UTF-16 string, lone surrogates included: the bytes must be TextEncoder's, lengths and all.
  const text = fc.string({
    unit: fc.oneof(fc.constantFrom('\ud800', '\udfff', 'é', '€', '😀'), fc.string({ maxLength: 1 })),
  })
  const wellFormed = (s: string): string => new TextDecoder().decode(new TextEncoder().encode(s))
  const reference = (pairs: Array<[string, string]>): Uint8Array => {
    const utf8 = new TextEncoder()
    const parts = pairs.flatMap(([n, v]) => [utf8.encode(n), utf8.encode(v)])
    return encodeParams(
      parts.reduce<Array<[Uint8Array, Uint8Array]>>((all, part, i) => {
        if (i % 2 === 0) all.push([part, parts[i + 1]!])
        return all
      }, []),
    )
  }
  it('gives the same bytes as encoding each string with TextEncoder', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.oneof(text, fc.string({ minLength: 130, maxLength: 300 })))), (pairs) => {
        expect(encodeParams(pairs)).toEqual(reference(pairs))
        expect(decodeParams(encodeParams(pairs))).toEqual(pairs.map(([n, v]) => [wellFormed(n), wellFormed(v)]))
      }),
    )
  })
})
