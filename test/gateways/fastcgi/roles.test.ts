// The responder's roles and management records on the wire: Responder, Authorizer (no STDIN, Variable-*),
// Filter (DATA), unknown roles, GET_VALUES from the real configuration, UNKNOWN_TYPE (FastCGI spec §4-§6).
import { describe, expect, it } from 'vitest'
import { FastcgiClient } from '../../../src/hosts/fastcgi/client.js'
import { concatBytes, encodeParams, encodeRecord } from '../../../src/protocol/fastcgi/index.js'
import {
  begin,
  checkInvariants,
  data,
  ended,
  endOf,
  params,
  RawPeer,
  request,
  responder,
  responseOf,
  stdin,
  streamOf,
  T,
  useResponder,
  vars,
} from './_raw.js'

const server = useResponder()

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('Responder role', () => {
  it('GET: one header block, STDOUT ended, then END_REQUEST(0, REQUEST_COMPLETE), all on the request id', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/hello')))
    const records = await peer.until(ended(1))
    const { status, head, body } = responseOf(records, 1)
    expect(status).toBe('200 OK')
    expect(head).toMatch(/^Content-Type: text\/plain$/m)
    expect(body.toString()).toBe('Hello world!\n')
    expect(endOf(records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(checkInvariants(records, [1])).toEqual([])
    await peer.untilClosed() // flags 0: the application closes the connection (F-14)
  })

  it('STDERR records carry tsgi.errors and end before END_REQUEST (spec §6.1, F-20)', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/stderr', { query: 'line=one&line=two' })))
    const records = await peer.until(ended(1))
    expect(streamOf(records, 1, T.Stderr).toString()).toBe('one\ntwo\n')
    const stderrEnd = records.findIndex((r) => r.type === T.Stderr && r.content.length === 0)
    expect(stderrEnd).toBeGreaterThan(-1)
    expect(stderrEnd).toBeLessThan(records.findIndex((r) => r.type === T.EndRequest))
  })

  it('appStatus: 0 for a response, 1 for an app that failed (F-23); the 500 hides the detail', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/error'), { keepConn: true }))
    let records = await peer.until(ended(1))
    expect(endOf(records, 1)).toEqual({ appStatus: 1, protocolStatus: 0 })
    expect(responseOf(records, 1).status).toBe('500 Internal Server Error')
    expect(streamOf(records, 1).toString()).not.toContain('secret')
    expect(streamOf(records, 1, T.Stderr).toString()).toContain('secret-detail-7f3a')
    peer.send(request(2, vars('/hello'), { keepConn: true }))
    records = await peer.until(ended(2))
    expect(endOf(records, 2)).toEqual({ appStatus: 0, protocolStatus: 0 })
    peer.destroy()
  })

  it('a 5 KiB response header becomes a clean 500 (S-22: nginx fastcgi_buffer_size is 4 KiB); 3 KiB passes', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, vars('/big-header', { query: 'size=5120' }), { keepConn: true }))
    let records = await peer.until(ended(1))
    const { status, head } = responseOf(records, 1)
    expect(status).toBe('500 Internal Server Error')
    expect(head.length).toBeLessThan(4096)
    expect(streamOf(records, 1, T.Stderr).toString()).toMatch(/header block is \d+ bytes, over the limit of 4096/)
    expect(endOf(records, 1)?.appStatus).toBe(1)
    peer.send(request(2, vars('/big-header', { query: 'size=3072' }), { keepConn: true }))
    records = await peer.until(ended(2))
    expect(responseOf(records, 2).status).toBe('200 OK')
    peer.destroy()
  })

  it('413 for a CONTENT_LENGTH over maxBodyBytes, before the app runs; the body is still drained', async () => {
    const small = await responder({ maxBodyBytes: 1000 })
    try {
      const peer = await RawPeer.open(small.address)
      const body = new Uint8Array(5000)
      peer.send(request(1, vars('/echo', { method: 'POST', body }), { body }))
      const records = await peer.until(ended(1))
      expect(responseOf(records, 1).status).toBe('413 Content Too Large')
      expect(streamOf(records, 1, T.Stderr).toString()).toContain('CONTENT_LENGTH 5000 is over the limit of 1000')
      expect(checkInvariants(records, [1])).toEqual([])
      await peer.untilClosed()
      expect(peer.error).toBeUndefined() // a FIN, not a RST: STDIN was read (S-21)
    } finally {
      await small.close()
    }
  })
})

describe('Authorizer role (spec §6.3, F-25)', () => {
  it('is answered as soon as PARAMS end, with no STDIN at all (mod_authnz_fcgi, lighttpd)', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(begin(1, 2), params(1, [...vars('/'), ['HTTP_X_TOKEN', 'let-me-in']]))
    const records = await peer.until(ended(1))
    const { status, head, body } = responseOf(records, 1)
    expect(status).toBe('200 OK')
    expect(head).toMatch(/^Variable-TSGI_USER: alice$/m)
    expect(body.length).toBe(0)
    expect(endOf(records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
  })

  it('a denial is a full response (status, headers, body) for the client', async () => {
    const client = new FastcgiClient({ address: server().address })
    const response = await client.request({ params: vars('/'), role: 'AUTHORIZER' })
    expect(response.status).toBe(403)
    expect(await response.text()).toBe('denied by the tsgi authorizer\n')
    await client.close()
  })

  it('STDIN sent to an Authorizer anyway is ignored; the kept connection serves the next request', async () => {
    const peer = await RawPeer.open(server().address)
    const pairs = vars('/', { method: 'POST' }).concat([
      ['HTTP_X_TOKEN', 'let-me-in'],
      ['CONTENT_LENGTH', '3'],
    ])
    peer.send(begin(1, 2, true), params(1, pairs), stdin(1, Buffer.from('abc')))
    await peer.until(ended(1))
    expect(responseOf(peer.records, 1).status).toBe('200 OK')
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    const records = await peer.until((all) => all.filter((r) => r.type === T.EndRequest).length === 2)
    expect(streamOf(records, 1).toString()).toContain('Hello world!\n')
    expect(records.filter((r) => r.type === T.EndRequest).map((r) => r.content[4])).toEqual([0, 0])
    peer.destroy()
  })
})

describe('Filter role (spec §6.4)', () => {
  it('STDIN reaches tsgi.input and DATA reaches tsgi.fastcgi.data, with FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD', async () => {
    const client = new FastcgiClient({ address: server().address })
    const file = Buffer.from('the file to filter\n'.repeat(5000))
    async function* chunks() {
      for (let at = 0; at < file.length; at += 7000) yield file.subarray(at, at + 7000)
    }
    const pairs = {
      ...Object.fromEntries(vars('/filter', { method: 'POST' })),
      CONTENT_LENGTH: '5',
      FCGI_DATA_LENGTH: String(file.length),
      FCGI_DATA_LAST_MOD: '1700000000',
    }
    const response = await client.request({ params: pairs, role: 'FILTER', body: Buffer.from('stdin'), data: chunks() })
    const report = JSON.parse(await response.text()) as Record<string, unknown>
    expect(report).toMatchObject({
      stdin: { length: 5 },
      data: { length: file.length },
      FCGI_DATA_LENGTH: String(file.length),
      FCGI_DATA_LAST_MOD: '1700000000',
    })
    await client.close()
  })

  it('DATA sent 1 byte per record gives the same stream', async () => {
    const peer = await RawPeer.open(server().address)
    const pairs: Array<[string, string]> = [...vars('/filter', { method: 'POST' }), ['FCGI_DATA_LENGTH', '4']]
    peer.send(begin(1, 3), params(1, pairs), stdin(1))
    for (const byte of Buffer.from('abcd')) peer.send(data(1, Uint8Array.of(byte), false))
    peer.send(data(1, new Uint8Array(0)))
    const records = await peer.until(ended(1))
    const report = JSON.parse(responseOf(records, 1).body.toString()) as { data: { length: number; sha256: string } }
    expect(report.data).toEqual({
      length: 4,
      sha256: '88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589',
    })
  })
})

describe('refusals and management records', () => {
  it('an unknown role gets END_REQUEST(UNKNOWN_ROLE) (V-21) and a KEEP_CONN connection stays open', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(begin(1, 9, true), params(1, vars('/hello')))
    let records = await peer.until(ended(1))
    expect(hex(records.find((r) => r.type === T.EndRequest)!.content)).toBe('0000000003000000')
    expect(records).toHaveLength(1)
    peer.send(request(1, vars('/hello'), { keepConn: true }))
    records = await peer.until((all) => all.filter((r) => r.type === T.EndRequest).length === 2)
    expect(streamOf(records, 1).toString()).toContain('Hello world!')
    peer.destroy()
  })

  it('a role left out of `roles` is refused like an unknown one', async () => {
    const only = await responder({ roles: ['RESPONDER'] })
    try {
      const peer = await RawPeer.open(only.address)
      peer.send(begin(1, 2), params(1, vars('/')))
      const records = await peer.until(ended(1))
      expect(endOf(records, 1)).toEqual({ appStatus: 0, protocolStatus: 3 })
    } finally {
      await only.close()
    }
  })

  it('GET_VALUES is answered from the real configuration (F-09, F-29); unknown names are left out', async () => {
    const names = ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS', 'FCGI_UNKNOWN']
    const plain = new FastcgiClient({ address: server().address })
    expect(await plain.getValues(names)).toEqual({ FCGI_MAX_CONNS: '1024', FCGI_MAX_REQS: '1', FCGI_MPXS_CONNS: '0' })
    expect(await plain.getValues([])).toEqual({})
    await plain.close()
    const mpx = await responder({ multiplex: true, maxRequestsPerConnection: 5, maxConnections: 7 })
    const client = new FastcgiClient({ address: mpx.address })
    expect(await client.getValues(names)).toEqual({ FCGI_MAX_CONNS: '7', FCGI_MAX_REQS: '5', FCGI_MPXS_CONNS: '1' })
    await client.close()
    await mpx.close()
  })

  it('GET_VALUES between the records of an active request is answered at once', async () => {
    const peer = await RawPeer.open(server().address)
    const query = encodeRecord(T.GetValues, 0, encodeParams([['FCGI_MPXS_CONNS', '']]))
    peer.send(begin(1), params(1, vars('/echo', { method: 'POST', body: new Uint8Array(3) })), query)
    await peer.until((records) => records.some((r) => r.type === T.GetValuesResult))
    peer.send(stdin(1, new Uint8Array(3)))
    const records = await peer.until(ended(1))
    expect(records[0]!.type).toBe(T.GetValuesResult)
    expect(checkInvariants(records, [1])).toEqual([])
  })

  it('an unknown management type gets UNKNOWN_TYPE (V-22) and the connection stays usable (F-10)', async () => {
    const peer = await RawPeer.open(server().address)
    peer.send(encodeRecord(42, 0), encodeRecord(T.UnknownType, 0, new Uint8Array(8)))
    let records = await peer.until((all) => all.length === 2)
    expect(
      records.map((r) =>
        Buffer.concat([Buffer.from([1, r.type, 0, 0, 0, r.content.length, 0, 0]), r.content]).toString('hex'),
      ),
    ).toEqual(['010b0000000800002a00000000000000', '010b0000000800000b00000000000000'])
    peer.send(request(1, vars('/hello')))
    records = await peer.until(ended(1))
    expect(responseOf(records, 1).status).toBe('200 OK')
  })

  it('the invariants hold across a mix of requests on one kept connection with unusual ids', async () => {
    const peer = await RawPeer.open(server().address)
    const ids = [7, 300, 65535, 2, 1024, 9]
    const paths = ['/hello', '/error', '/error-after', '/big/200000', '/local-redirect', '/status/418']
    for (const [i, id] of ids.entries()) {
      if (paths[i] === '/error-after') continue // closes the connection by design: checked in its own test
      peer.send(concatBytes([begin(id, 1, true), params(id, vars(paths[i]!)), stdin(id)]))
      await peer.until(ended(id))
    }
    const used = ids.filter((_, i) => paths[i] !== '/error-after')
    expect(checkInvariants(peer.records, used)).toEqual([])
    peer.destroy()
  })
})
