// formatCgiHead: the CGI response header block (RFC 3875 §6) shared by CGI and FastCGI.
import { describe, expect, it } from 'vitest'
import type { HeaderList } from '../../../src/app.js'
import { allowsBody, type CgiHeadOptions, encodeLatin1, formatCgiHead } from '../../../src/protocol/cgi/head.js'

interface Row {
  rule: string
  rfc: string
  status: number
  reason: string
  headers: HeaderList
  options?: CgiHeadOptions
  head: string
}

const TEXT: HeaderList = [['Content-Type', 'text/plain']]

const ROWS: Row[] = [
  {
    rule: 'Status first, then the headers in order, then the blank line',
    rfc: '§6.3.3',
    status: 200,
    reason: 'OK',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ],
    head: 'Status: 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n',
  },
  {
    rule: 'the reason phrase is relayed verbatim',
    rfc: '§6.3.3, C-17',
    status: 418,
    reason: 'I am a teapot',
    headers: TEXT,
    head: 'Status: 418 I am a teapot\r\nContent-Type: text/plain\r\n\r\n',
  },
  {
    rule: 'an empty reason leaves no trailing space',
    rfc: '§6.3.3',
    status: 299,
    reason: '',
    headers: TEXT,
    head: 'Status: 299\r\nContent-Type: text/plain\r\n\r\n',
  },
  {
    rule: 'no Content-Type: application/octet-stream, never text/html',
    rfc: '§6.3.1, S-19',
    status: 200,
    reason: 'OK',
    headers: [['X-A', '1']],
    head: 'Status: 200 OK\r\nX-A: 1\r\nContent-Type: application/octet-stream\r\n\r\n',
  },
  {
    rule: 'no Content-Type on a 204: none added',
    rfc: '§6.3.1',
    status: 204,
    reason: 'No Content',
    headers: [],
    head: 'Status: 204 No Content\r\n\r\n',
  },
  {
    rule: 'no Content-Type on a 304: none added',
    rfc: '§6.3.1',
    status: 304,
    reason: 'Not Modified',
    headers: [['ETag', '"x"']],
    head: 'Status: 304 Not Modified\r\nETag: "x"\r\n\r\n',
  },
  {
    rule: 'a Content-Type in any case is recognised',
    rfc: '§6.3.1',
    status: 200,
    reason: 'OK',
    headers: [['content-type', 'text/csv']],
    head: 'Status: 200 OK\r\ncontent-type: text/csv\r\n\r\n',
  },
  {
    rule: 'local redirect: 200 + Location /path: Location alone, no Status',
    rfc: '§6.2.2, C-14',
    status: 200,
    reason: 'OK',
    headers: [
      ['Location', '/other?q=1'],
      ['X-Dropped', '1'],
    ],
    head: 'Location: /other?q=1\r\n\r\n',
  },
  {
    rule: 'Location //host is a network-path, not a local redirect',
    rfc: '§6.2.2',
    status: 200,
    reason: 'OK',
    headers: [['Location', '//evil.test/x']],
    head: 'Status: 200 OK\r\nLocation: //evil.test/x\r\n\r\n',
  },
  {
    rule: 'a client redirect keeps its Status and gets no Content-Type',
    rfc: '§6.2.3, C-15',
    status: 302,
    reason: 'Found',
    headers: [['Location', 'https://example.org/']],
    head: 'Status: 302 Found\r\nLocation: https://example.org/\r\n\r\n',
  },
  {
    rule: 'a 3xx to a local path is a client redirect (Status kept)',
    rfc: '§6.2.3',
    status: 303,
    reason: 'See Other',
    headers: [['Location', '/done']],
    head: 'Status: 303 See Other\r\nLocation: /done\r\n\r\n',
  },
  {
    rule: 'a client redirect with document keeps everything',
    rfc: '§6.2.4, C-16',
    status: 301,
    reason: 'Moved Permanently',
    headers: [
      ['Location', 'http://a.test/'],
      ['Content-Type', 'text/plain'],
    ],
    head: 'Status: 301 Moved Permanently\r\nLocation: http://a.test/\r\nContent-Type: text/plain\r\n\r\n',
  },
  {
    rule: 'localRedirect: false keeps Status with a local Location (nginx FastCGI)',
    rfc: '§6.2.2',
    status: 200,
    reason: 'OK',
    headers: [['Location', '/x']],
    options: { localRedirect: false },
    head: 'Status: 200 OK\r\nLocation: /x\r\n\r\n',
  },
  {
    rule: 'NPH: an HTTP status line from SERVER_PROTOCOL',
    rfc: '§5, C-19',
    status: 200,
    reason: 'OK',
    headers: TEXT,
    options: { nph: true, protocol: 'HTTP/1.1' },
    head: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n',
  },
  {
    rule: 'NPH: an empty reason keeps the space the status line needs',
    rfc: '§5',
    status: 299,
    reason: '',
    headers: TEXT,
    options: { nph: true, protocol: 'HTTP/1.0' },
    head: 'HTTP/1.0 299 \r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n',
  },
  {
    rule: 'NPH: SERVER_PROTOCOL INCLUDED or garbage becomes HTTP/1.0',
    rfc: '§5, §4.1.16',
    status: 200,
    reason: 'OK',
    headers: TEXT,
    options: { nph: true, protocol: 'HTTP/1.1\r\nX-Injected: 1' },
    head: 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n',
  },
  {
    rule: 'NPH: no local redirect, the script owns the response',
    rfc: '§5',
    status: 200,
    reason: 'OK',
    headers: [['Location', '/x']],
    options: { nph: true, protocol: 'HTTP/1.1' },
    head: 'HTTP/1.1 200 OK\r\nLocation: /x\r\nConnection: close\r\n\r\n',
  },
  {
    rule: 'NPH: the octet-stream default still applies',
    rfc: '§5, S-19',
    status: 200,
    reason: 'OK',
    headers: [],
    options: { nph: true, protocol: 'HTTP/1.1' },
    head: 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n',
  },
  {
    rule: 'a Status header from the caller is never a second Status line',
    rfc: '§6.3.3, C-17',
    status: 201,
    reason: 'Created',
    headers: [
      ['Status', '200 OK'],
      ['Content-Type', 'text/plain'],
    ],
    head: 'Status: 201 Created\r\nContent-Type: text/plain\r\n\r\n',
  },
]

describe('formatCgiHead', () => {
  it.each(ROWS)('$rfc: $rule', ({ status, reason, headers, options, head }) => {
    expect(formatCgiHead(status, reason, headers, options)).toBe(head)
  })

  it('ends with exactly one blank line and uses CRLF only (C-12)', () => {
    for (const { status, reason, headers, options } of ROWS) {
      const head = formatCgiHead(status, reason, headers, options)
      expect(head.endsWith('\r\n\r\n')).toBe(true)
      expect(head.slice(0, -4)).not.toContain('\r\n\r\n')
      expect(head.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/)
    }
  })
})

describe('encodeLatin1', () => {
  it('maps each code unit to one byte', () => {
    expect([...encodeLatin1('A\u00e9\u00ff\r\n')]).toEqual([0x41, 0xe9, 0xff, 0x0d, 0x0a])
  })
})

describe('allowsBody (RFC 9110 §6.4.1)', () => {
  it.each([
    [200, true],
    [404, true],
    [204, false],
    [304, false],
    [101, false],
  ])('%i: %s', (status, allowed) => {
    expect(allowsBody(status)).toBe(allowed)
  })
})
