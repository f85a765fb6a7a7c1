// Helpers for the responder tests: a responder on loopback that records its log, and a raw web-server
// peer that sends hand-built records and keeps every record it receives (foreign ids and all), so the
// tests can check what a lenient client would hide (FastCGI spec §3.3, §5).
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import type { App } from '../../../src/app.js'
import { type FastcgiOptions, type FastcgiServer, serveFastcgi } from '../../../src/gateways/fastcgi/index.js'
import { FastcgiClient } from '../../../src/hosts/fastcgi/client.js'
import {
  concatBytes,
  decodeEndRequestBody,
  encodeBeginRequestBody,
  encodeParams,
  encodeRecord,
  encodeStream,
  RecordType,
} from '../../../src/protocol/fastcgi/index.js'
import { type ConfRequest, cgiVars } from '../../_transports.js'
import conformanceApp from '../../fixtures/conformance-app.js'

export const T = RecordType

export interface TestResponder extends FastcgiServer {
  logs: string[]
}

/** The conformance app (or `app`) on 127.0.0.1:0 (or `listen`), logging into `logs`. */
export async function responder(options: FastcgiOptions = {}, app: App = conformanceApp): Promise<TestResponder> {
  const logs: string[] = []
  const server = await serveFastcgi(app, {
    listen: '127.0.0.1:0',
    log: (message) => void logs.push(message),
    ...options,
  })
  return Object.assign(server, { logs })
}

/**
 * One responder for a test file: started before its tests, closed after them. Returns a getter, so
 * tests read `server()` once it runs.
 */
export function useResponder(options: FastcgiOptions = {}, app: App = conformanceApp): () => TestResponder {
  let server: TestResponder | undefined
  beforeAll(async () => {
    server = await responder(options, app)
  })
  afterAll(async () => {
    await server?.close()
  })
  return () => {
    if (server === undefined) throw new Error('useResponder: the responder starts in beforeAll; read it in a test')
    return server
  }
}

/** CGI params for a conformance request, mounted at /app. */
export function vars(path: string, more: Partial<ConfRequest> = {}): Array<[string, string]> {
  return cgiVars({ path, ...more }, '/app')
}

/**
 * A temp dir for the fixture's marker files (its slow routes record there when they start and when
 * tsgi.signal fires), removed after the file's tests. The function names a fresh file in it.
 */
export function useScratch(prefix: string): () => string {
  let dir = ''
  let files = 0
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return () => join(dir, `m${++files}`)
}

// --- record builders ---

export const begin = (id: number, role = 1, keepConn = false): Uint8Array =>
  encodeRecord(T.BeginRequest, id, encodeBeginRequestBody(role, keepConn ? 1 : 0))
export const params = (id: number, pairs: Array<[string, string]>): Uint8Array =>
  encodeStream(T.Params, id, encodeParams(pairs), { end: true })
export const stdin = (id: number, bytes: Uint8Array = new Uint8Array(0), end = true): Uint8Array =>
  encodeStream(T.Stdin, id, bytes, { end })
export const data = (id: number, bytes: Uint8Array, end = true): Uint8Array => encodeStream(T.Data, id, bytes, { end })
export const abortRecord = (id: number): Uint8Array => encodeRecord(T.AbortRequest, id)

/** BEGIN + PARAMS + STDIN (ended) for one request. */
export function request(
  id: number,
  pairs: Array<[string, string]>,
  options: { body?: Uint8Array; keepConn?: boolean; role?: number } = {},
): Uint8Array {
  return concatBytes([
    begin(id, options.role ?? 1, options.keepConn ?? false),
    params(id, pairs),
    stdin(id, options.body),
  ])
}

// --- the raw peer ---

export interface RawRecord {
  type: number
  requestId: number
  content: Buffer
}

export class RawPeer {
  readonly socket: Socket
  #bytes: Buffer = Buffer.alloc(0)
  #waiters: Array<() => void> = []
  /** The application ended its side (FIN) / the socket closed / it failed (ECONNRESET...). */
  ended = false
  closed = false
  error: Error | undefined

  constructor(address: string) {
    const unix = address.startsWith('/')
    const colon = address.lastIndexOf(':')
    // `[::1]:9000` (IPv6, as FastcgiServer.address writes it) connects to ::1.
    const [host, port] = unix
      ? ['', 0]
      : [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))]
    this.socket = unix ? connect(address) : connect(port, host)
    this.socket.on('data', (chunk: Buffer) => {
      this.#bytes = Buffer.concat([this.#bytes, chunk])
      this.#notify()
    })
    this.socket.on('end', () => {
      this.ended = true
      return this.#notify()
    })
    this.socket.on('error', (err) => {
      this.error = err
      return this.#notify()
    })
    this.socket.on('close', () => {
      this.closed = true
      return this.#notify()
    })
  }

  static async open(address: string): Promise<RawPeer> {
    const peer = new RawPeer(address)
    await new Promise<void>((resolve, reject) => {
      peer.socket.once('connect', resolve)
      peer.socket.once('error', reject)
    })
    return peer
  }

  send(...parts: Uint8Array[]): void {
    for (const part of parts) this.socket.write(part)
  }

  /** Every byte received so far. */
  get bytes(): Buffer {
    return this.#bytes
  }

  /** The whole records received so far (a partial record at the end is left out). */
  get records(): RawRecord[] {
    const out: RawRecord[] = []
    const b = this.#bytes
    for (let at = 0; at + 8 <= b.length; ) {
      const length = b.readUInt16BE(at + 4)
      const end = at + 8 + length + b[at + 6]!
      if (end > b.length) break
      out.push({ type: b[at + 1]!, requestId: b.readUInt16BE(at + 2), content: b.subarray(at + 8, at + 8 + length) })
      at = end
    }
    return out
  }

  /** Resolves once `done(records)` holds; rejects when the socket closes first or after `ms` (a failing test's bound). */
  async until(done: (records: RawRecord[]) => boolean, ms = 10_000): Promise<RawRecord[]> {
    const deadline = Date.now() + ms
    for (;;) {
      const records = this.records
      if (done(records)) return records
      if (this.closed) throw new Error(`connection closed before the condition held; got ${describeRecords(records)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`condition not met in ${ms} ms; got ${describeRecords(records)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          return resolve()
        })
      })
    }
  }

  /** Resolves once the socket closed (bounded like until()). */
  async untilClosed(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!this.closed) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`connection still open after ${ms} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          return resolve()
        })
      })
    }
  }

  destroy(): void {
    this.socket.destroy()
  }

  #notify(): void {
    for (const wake of this.#waiters.splice(0)) wake()
  }
}

export function describeRecords(records: RawRecord[]): string {
  return records.map((r) => `${r.type}/${r.requestId}/${r.content.length}`).join(' ') || 'nothing'
}

// --- reading a response out of the records ---

export const ended =
  (id: number) =>
  (records: RawRecord[]): boolean =>
    records.some((r) => r.type === T.EndRequest && r.requestId === id)

export function endOf(records: RawRecord[], id: number): { appStatus: number; protocolStatus: number } | undefined {
  const end = records.find((r) => r.type === T.EndRequest && r.requestId === id)
  return end === undefined ? undefined : decodeEndRequestBody(end.content)
}

export function streamOf(records: RawRecord[], id: number, type: number = T.Stdout): Buffer {
  return Buffer.concat(records.filter((r) => r.type === type && r.requestId === id).map((r) => r.content))
}

/** Status line value and body of the STDOUT of `id`. */
export function responseOf(records: RawRecord[], id: number): { status: string; head: string; body: Buffer } {
  const out = streamOf(records, id)
  const split = out.indexOf('\r\n\r\n')
  const head = out.subarray(0, split).toString('latin1')
  return { status: /^Status: (.*)$/m.exec(head)?.[1] ?? '', head, body: out.subarray(split + 4) }
}

/**
 * The per-request invariants (F-07, F-20, F-22): every record carries an id we used (or 0),
 * each request has exactly one END_REQUEST and nothing after it, STDOUT ends before END_REQUEST, and the
 * first STDOUT record is non-empty and holds the whole header block, except for the `cancelled` ids (an
 * ABORT_REQUEST: the web server wants no response, and the request may end as STDOUT("") END_REQUEST).
 */
export function checkInvariants(records: RawRecord[], ids: number[], cancelled: number[] = []): string[] {
  const problems: string[] = []
  for (const r of records)
    if (r.requestId !== 0 && !ids.includes(r.requestId)) problems.push(`foreign id ${r.requestId}`)
  for (const id of ids) {
    const mine = records.filter((r) => r.requestId === id)
    const ends = mine.filter((r) => r.type === T.EndRequest).length
    if (ends !== 1) problems.push(`request ${id}: ${ends} END_REQUEST records`)
    const last = mine.at(-1)
    if (last !== undefined && last.type !== T.EndRequest)
      problems.push(`request ${id}: type ${last.type} after END_REQUEST`)
    const refused = endOf(records, id)?.protocolStatus !== 0
    if (!refused && !mine.some((r) => r.type === T.Stdout && r.content.length === 0))
      problems.push(`request ${id}: STDOUT never ended`)
    // F-20: the first STDOUT record is never the empty terminator and carries the whole CGI header block
    // (mod_authnz_fcgi keeps only the body bytes sharing a record with the end of the headers).
    const first = refused || cancelled.includes(id) ? undefined : mine.find((r) => r.type === T.Stdout)
    if (first !== undefined && first.content.length === 0) problems.push(`request ${id}: first STDOUT record is empty`)
    else if (first !== undefined && !first.content.includes('\r\n\r\n'))
      problems.push(`request ${id}: header block not within the first STDOUT record`)
  }
  return problems
}

/** A normal request through the client on a fresh connection: what every fault test ends with. */
export async function healthy(address: string): Promise<string> {
  const client = new FastcgiClient({ address })
  try {
    const response = await client.request({ params: vars('/hello') })
    return `${response.status} ${await response.text()}`
  } finally {
    await client.close()
  }
}
