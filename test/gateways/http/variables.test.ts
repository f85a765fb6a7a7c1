// The dev server's pure helpers: request-target decoding (RFC 3875 §4.1.5) and the access-log line.
import { describe, expect, it } from 'vitest'
import { formatAccessLog } from '../../../src/gateways/http/access-log.js'
import { parseTarget } from '../../../src/gateways/http/variables.js'

describe('parseTarget', () => {
  it.each([
    ['/', { rawPath: '/', pathInfo: '/', query: '' }],
    ['/a%20b?x=%20&y', { rawPath: '/a%20b', pathInfo: '/a b', query: 'x=%20&y' }],
    ['/a+b', { rawPath: '/a+b', pathInfo: '/a+b', query: '' }],
    ['/%C3%A9', { rawPath: '/%C3%A9', pathInfo: '/é', query: '' }],
    ['/%e9', { rawPath: '/%e9', pathInfo: '/\uFFFD', query: '' }],
    // Node hands raw bytes over as latin-1 chars: raw UTF-8 is re-read as UTF-8.
    ['/\xc3\xa9?q=\xc3\xa9', { rawPath: '/\xc3\xa9', pathInfo: '/é', query: 'q=é' }],
    ['/a?b?c', { rawPath: '/a', pathInfo: '/a', query: 'b?c' }],
    ['/a#frag', { rawPath: '/a', pathInfo: '/a', query: '' }],
    ['http://h:1/p?q', { rawPath: '/p', pathInfo: '/p', query: 'q' }],
    ['http://h', { rawPath: '/', pathInfo: '/', query: '' }],
    ['*', { rawPath: '*', pathInfo: '', query: '' }],
  ])('%j', (url, expected) => {
    expect(parseTarget(url)).toEqual(expected)
  })

  it.each([
    ['/a%2Fb', 404],
    ['/a%2fb', 404],
    ['/a%00b', 404],
    ['/a%', 400],
    ['/a%4', 400],
    ['/a%4g', 400],
    ['/a%%41', 400],
  ])('%j is refused with %i', (url, status) => {
    expect(parseTarget(url)).toMatchObject({ status })
  })
})

describe('formatAccessLog', () => {
  const entry = {
    remoteAddress: '127.0.0.1',
    method: 'GET',
    uri: '/x?y=1',
    httpVersion: '1.1',
    status: 200,
    bytes: 13,
    ms: 1.25,
    aborted: false,
    date: new Date(Date.UTC(2000, 9, 10, 13, 55, 36)),
  }

  it('Common Log Format plus milliseconds', () => {
    expect(formatAccessLog(entry)).toBe('127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /x?y=1 HTTP/1.1" 200 13 1.3ms')
  })

  it('no status or bytes are `-`; an aborted request says so', () => {
    expect(formatAccessLog({ ...entry, status: 0, bytes: 0, aborted: true, remoteAddress: undefined })).toBe(
      '- - - [10/Oct/2000:13:55:36 +0000] "GET /x?y=1 HTTP/1.1" - - 1.3ms aborted',
    )
  })

  it('a URI cannot forge a line: control chars, quotes and non-ASCII are escaped', () => {
    const line = formatAccessLog({ ...entry, uri: '/a"\r\n127.0.0.1 - - fake\\\xe9' })
    expect(line).toContain('"GET /a\\x22\\x0d\\x0a127.0.0.1 - - fake\\x5c\\xe9 HTTP/1.1"')
    expect(line).not.toMatch(/[\r\n]/)
  })
})
