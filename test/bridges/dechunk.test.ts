// Dechunker: chunked framing (RFC 9112 §7.1) taken off incrementally, whatever the write boundaries.
import { describe, expect, it } from 'vitest'
import { Dechunker } from '../../src/bridges/dechunk.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function decode(pieces: string[]): { text: string; done: boolean } {
  const d = new Dechunker()
  let text = ''
  for (const piece of pieces) for (const out of d.push(enc.encode(piece))) text += dec.decode(out)
  return { text, done: d.done }
}

describe('Dechunker', () => {
  const framed = '4\r\none\n\r\nA;ext=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n'

  it('takes the framing off, drops extensions and trailers, and sees the end', () => {
    expect(decode([framed])).toEqual({ text: 'one\n0123456789', done: true })
  })

  it('gives the same bytes for every way of splitting the input', () => {
    for (let cut = 1; cut < framed.length; cut++) {
      expect(decode([framed.slice(0, cut), framed.slice(cut)])).toEqual({ text: 'one\n0123456789', done: true })
    }
    expect(decode([...framed])).toEqual({ text: 'one\n0123456789', done: true })
  })

  it('is not done before the last chunk and its blank line', () => {
    expect(decode(['4\r\none\n\r\n0\r\n']).done).toBe(false)
  })

  it('rejects a size line that is not hex, and data without its CRLF', () => {
    expect(() => decode(['zz\r\n'])).toThrow(/chunk size line "zz"/)
    expect(() => decode(['2\r\nabX'])).toThrow(/no CRLF/)
  })
})
