// The web-server side (a FastCGI client), alone and talking to the application side.
import { describe, expect, it } from 'vitest'
import { ApplicationConnection, RecordType, Role, WebServerConnection } from '../../../src/protocol/fastcgi/index.js'
import { ascii, concat, drain, fromHex, rec, toHex } from './_helpers.js'

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code: string }).code
  }
  return undefined
}

/** A client with request 1 begun and its input sent. */
function sent(keepConn = true): WebServerConnection {
  const conn = new WebServerConnection()
  conn.beginRequest(1, Role.Responder, keepConn)
  conn.params(1, [['REQUEST_METHOD', 'GET']])
  conn.endParams(1)
  conn.endStdin(1)
  return conn
}

describe('WebServerConnection', () => {
  it('sends a request in order and refuses streams out of order', () => {
    const conn = new WebServerConnection()
    expect(errorCode(() => conn.params(1, []))).toBe('ERR_INVALID_STATE')
    conn.beginRequest(1)
    expect(errorCode(() => conn.beginRequest(1))).toBe('ERR_INVALID_STATE')
    expect(errorCode(() => conn.stdin(1, ascii('x')))).toBe('ERR_INVALID_STATE')
    conn.params(1, [['A', 'b']])
    conn.endParams(1)
    expect(errorCode(() => conn.params(1, []))).toBe('ERR_INVALID_STATE')
    conn.stdin(1, ascii('body'))
    conn.endStdin(1)
    expect(errorCode(() => conn.data(1, ascii('x')))).toBe('ERR_INVALID_STATE') // not a Filter
    for (const id of [0, 65536, 1.5]) expect(errorCode(() => conn.beginRequest(id))).toBe('ERR_INVALID_ARGUMENT')
    expect(toHex(conn.takeOutputBytes())).toBe(
      '01010001000800000001000000000000' +
        '0104000100040000' +
        '01014162' +
        '0104000100000000' +
        '0105000100040000' +
        toHex(ascii('body')) +
        '0105000100000000',
    )
  })

  it('decodes the response and frees the id at END_REQUEST', () => {
    const conn = sent()
    conn.takeOutput()
    conn.receiveData(
      concat(
        rec(RecordType.Stdout, 1, ascii('Status: 200\r\n\r\n')),
        rec(RecordType.Stderr, 1, ascii('log')),
        rec(RecordType.Stdout, 1),
        rec(RecordType.Stderr, 1),
        fromHex('01030001000800000000000700000000'),
      ),
    )
    expect(drain(conn).map((e) => e.type)).toEqual(['stdout', 'stderr', 'stdout-end', 'stderr-end', 'end-request'])
    expect(conn.isActive(1)).toBe(false)
    expect(conn.activeRequestCount).toBe(0)
  })

  it('is strict like nginx: a foreign id, output after its end or before PARAMS ended is a protocol error', () => {
    const cases: Array<[Uint8Array, string]> = [
      [rec(RecordType.Stdout, 8, ascii('x')), 'ERR_FCGI_UNEXPECTED_RECORD'],
      [concat(rec(RecordType.Stdout, 1), rec(RecordType.Stdout, 1, ascii('x'))), 'ERR_FCGI_UNEXPECTED_RECORD'],
      [rec(RecordType.Stdin, 1, ascii('x')), 'ERR_FCGI_UNEXPECTED_RECORD'],
      [rec(RecordType.GetValues, 0), 'ERR_FCGI_UNEXPECTED_RECORD'],
      [rec(RecordType.EndRequest, 1, new Uint8Array(4)), 'ERR_FCGI_BAD_RECORD'],
      [rec(RecordType.UnknownType, 0, new Uint8Array(9)), 'ERR_FCGI_BAD_RECORD'],
      [rec(RecordType.GetValuesResult, 0, fromHex('05')), 'ERR_FCGI_BAD_PARAMS'],
    ]
    for (const [bytes, code] of cases) {
      const conn = sent()
      conn.receiveData(bytes)
      expect(errorCode(() => drain(conn))).toBe(code)
      expect(errorCode(() => conn.stdin(1, ascii('x')))).toBe('ERR_INVALID_STATE')
    }
    const early = new WebServerConnection()
    early.beginRequest(1)
    early.receiveData(rec(RecordType.Stdout, 1, ascii('too early')))
    expect(errorCode(() => early.nextEvent())).toBe('ERR_FCGI_UNEXPECTED_RECORD')
  })

  it('sends ABORT_REQUEST and GET_VALUES; an id stays active until END_REQUEST', () => {
    const conn = sent()
    conn.takeOutput()
    conn.abortRequest(1)
    conn.getValues(['FCGI_MPXS_CONNS'])
    expect(toHex(conn.takeOutputBytes())).toBe(`010200010000000001090000001100000f00${toHex(ascii('FCGI_MPXS_CONNS'))}`)
    expect(conn.isActive(1)).toBe(true)
    expect(errorCode(() => conn.abortRequest(2))).toBe('ERR_INVALID_STATE')
  })

  it('reports EOF with the requests it leaves unanswered', () => {
    const conn = sent()
    conn.receiveData(rec(RecordType.Stdout, 1, ascii('partial')))
    conn.receiveData(new Uint8Array(0))
    expect(drain(conn)).toEqual([
      { type: 'stdout', requestId: 1, data: ascii('partial') },
      { type: 'closed', midRecord: false, activeRequestIds: [1] },
    ])
  })
})

describe('web server and application talking', () => {
  /** Move bytes both ways until neither side has output; collect each side's events. */
  function pump(
    client: WebServerConnection,
    app: ApplicationConnection,
    onApp: (e: ReturnType<typeof drain>[number]) => void,
  ) {
    const clientEvents: ReturnType<typeof drain> = []
    for (let round = 0; round < 100 && (client.outputSize > 0 || app.outputSize > 0); round++) {
      for (const chunk of client.takeOutput()) app.receiveData(chunk)
      drain(app).forEach(onApp)
      for (const chunk of app.takeOutput()) client.receiveData(chunk)
      clientEvents.push(...drain(client))
    }
    return clientEvents
  }

  it('serves multiplexed requests, interleaved, with params and bodies over 65535 bytes', () => {
    const client = new WebServerConnection({ padding: 'align8' })
    const app = new ApplicationConnection({
      multiplex: true,
      limits: { maxNameValueLength: 200_000, maxParamsBytes: 300_000 },
    })
    const seen = new Map<number, { params: unknown; body: Uint8Array[] }>()
    for (const id of [1, 2, 3]) {
      client.beginRequest(id, Role.Responder, true)
      client.params(id, [
        ['ID', String(id)],
        ['PAD', 'x'.repeat(70000 * (id - 1))],
      ])
    }
    for (const id of [3, 1, 2]) {
      client.endParams(id)
      client.stdin(id, new Uint8Array(70000).fill(id))
      client.endStdin(id)
    }
    const clientEvents = pump(client, app, (e) => {
      if (e.type === 'request') seen.set(e.requestId, { params: e.params, body: [] })
      if (e.type === 'stdin') seen.get(e.requestId)!.body.push(e.data.slice())
      if (e.type === 'stdin-end') {
        const body = concat(...seen.get(e.requestId)!.body)
        app.stdout(e.requestId, body) // echo
        app.stderr(e.requestId, ascii(`done ${e.requestId}`))
        app.endRequest(e.requestId, e.requestId)
      }
    })
    for (const id of [1, 2, 3]) {
      const params = seen.get(id)!.params as Array<[string, string]>
      expect(params.map(([name, value]) => [name, value.length, value.replaceAll('x', '')])).toEqual([
        ['ID', String(id).length, String(id)],
        ['PAD', 70000 * (id - 1), ''],
      ])
      const out = concat(...clientEvents.flatMap((e) => (e.type === 'stdout' && e.requestId === id ? [e.data] : [])))
      expect(out.length).toBe(70000)
      expect(out.every((b) => b === id)).toBe(true)
      expect(clientEvents).toContainEqual({ type: 'stderr', requestId: id, data: ascii(`done ${id}`) })
      expect(clientEvents).toContainEqual({ type: 'end-request', requestId: id, appStatus: id, protocolStatus: 0 })
    }
    expect(client.activeRequestCount).toBe(0)
    expect(app.activeRequestCount).toBe(0)
    expect(app.shouldClose).toBe(false)
  })
})
