// What the responder logs (FastCGI spec §7, F-31): a protocol error goes to the responder's own log and
// costs only its connection; credentials in PARAMS never reach that log or the STDERR records (S-17).
import { describe, expect, it } from 'vitest'
import { concatBytes } from '../../../src/protocol/fastcgi/index.js'
import {
  begin,
  ended,
  healthy,
  params,
  RawPeer,
  request,
  responseOf,
  stdin,
  streamOf,
  T,
  useResponder,
  useScratch,
  vars,
} from './_raw.js'

const server = useResponder()

const marker = useScratch('tsgi-fcgi-logging-')
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))
/** Bounded wait for a log line (the responder logs as the connection closes). */
async function logged(pattern: RegExp): Promise<string | undefined> {
  for (let i = 0; i < 250; i++) {
    const line = server().logs.find((l) => pattern.test(l))
    if (line !== undefined) return line
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return undefined
}

describe('protocol errors are logged (spec §7, F-31)', () => {
  it('F-31: a version-2 header (V-30): a log line names the protocol error; another connection is served to the end', async () => {
    const good = await RawPeer.open(server().address)
    good.send(request(1, vars('/slow', { query: `file=${marker()}&n=20&ms=10` })))
    await good.until((records) => records.some((r) => r.type === T.Stdout))
    const before = server().logs.length
    const bad = await RawPeer.open(server().address)
    bad.send(fromHex('02010001000800000001000000000000'))
    await bad.untilClosed()
    expect(bad.bytes.length).toBe(0)
    const line = await logged(/protocol error/)
    expect(line).toMatch(/^fcgi: closing connection \d+: protocol error: .*version 2/)
    expect(server().logs.slice(before)).toHaveLength(1) // the good connection logged nothing
    const records = await good.until(ended(1))
    expect(streamOf(records, 1).length).toBeGreaterThan(20 * 16384)
    expect(await healthy(server().address)).toBe('200 Hello world!\n')
  })
})

describe('credentials never reach a log (S-17)', () => {
  // mod_authnz_fcgi sends REMOTE_PASSWD in clear; nginx forwards Authorization, Cookie and Proxy-Authorization.
  const SECRETS = {
    HTTP_AUTHORIZATION: 'Basic c2VjcmV0',
    REMOTE_PASSWD: 'hunter2',
    HTTP_COOKIE: 'session=k3ks',
    HTTP_PROXY_AUTHORIZATION: 'Basic cHJveHk6cGFzcw==',
  }
  const withSecrets = (path: string): Array<[string, string]> => [...vars(path), ...Object.entries(SECRETS)]
  const leaks = (text: string): string[] => Object.values(SECRETS).filter((value) => text.includes(value))

  it.each([
    ['an app that throws (/error)', '/error', '500 Internal Server Error'],
    ['an app that fails after its head (/error-after)', '/error-after', '200 OK'],
  ])('S-17: %s: neither the responder log nor the STDERR records hold a credential', async (_name, path, status) => {
    const before = server().logs.length
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, withSecrets(path)))
    await peer.untilClosed()
    expect(responseOf(peer.records, 1).status).toBe(status)
    const stderr = streamOf(peer.records, 1, T.Stderr).toString('latin1')
    expect(stderr).toMatch(/secret-detail-/) // the app's error did reach STDERR...
    expect(leaks(stderr)).toEqual([]) // ...without the request's credentials
    expect(leaks(server().logs.slice(before).join('\n'))).toEqual([])
  })

  it('S-17: a protocol error after credential-bearing PARAMS logs the error, not the PARAMS', async () => {
    const before = server().logs.length
    const peer = await RawPeer.open(server().address)
    const body = new Uint8Array(100)
    const pairs = [...withSecrets('/echo'), ['CONTENT_LENGTH', '100'] as [string, string]]
    peer.send(
      concatBytes([begin(1), params(1, pairs), stdin(1, body.subarray(0, 50), false), fromHex('02050001000000000000')]),
    )
    await peer.untilClosed()
    expect(await logged(/protocol error/)).toBeDefined()
    expect(leaks(server().logs.slice(before).join('\n'))).toEqual([])
    expect(leaks(peer.bytes.toString('latin1'))).toEqual([])
  })
})

describe('tsgi.errors where the web server loses or breaks on STDERR records (F-34)', () => {
  const as = (software: string, path: string, query = ''): Array<[string, string]> => [
    ...vars(path, { query }),
    ['SERVER_SOFTWARE', software],
  ]
  /** Sends one request, waits for its end; the record types in order and what the responder logged. */
  async function exchange(pairs: Array<[string, string]>): Promise<{ types: number[]; log: string }> {
    const before = server().logs.length
    const peer = await RawPeer.open(server().address)
    peer.send(request(1, pairs))
    await peer.untilClosed()
    return { types: peer.records.map((r) => r.type), log: server().logs.slice(before).join('') }
  }
  const stderrAfterStdout = (types: number[]): boolean =>
    types.some((type, i) => type === T.Stderr && types.slice(0, i).includes(T.Stdout))

  it('F-34: HAProxy: the error after the head goes to the responder log, no STDERR record follows STDOUT', async () => {
    const { types, log } = await exchange(as('HAProxy 2.6.12-1+deb12u4', '/error-after'))
    expect(types).toContain(T.Stdout)
    expect(stderrAfterStdout(types)).toBe(false)
    expect(log).toMatch(/secret-detail-/)
  })

  it('F-34: HAProxy: what the app writes before its response still travels as STDERR records', async () => {
    const { types, log } = await exchange(as('HAProxy 2.6.12', '/stderr', 'line=early'))
    expect(types.indexOf(T.Stderr)).toBeGreaterThanOrEqual(0)
    expect(types.indexOf(T.Stderr)).toBeLessThan(types.indexOf(T.Stdout))
    expect(log).not.toContain('early')
  })

  it('F-34: Caddy drops STDERR records: tsgi.errors goes to the responder log, no STDERR record is sent', async () => {
    const { types, log } = await exchange(as('Caddy/2.6.2', '/stderr', 'line=for-caddy'))
    expect(types).not.toContain(T.Stderr)
    expect(log).toContain('for-caddy\n')
  })

  it('F-34: any other server (nginx) gets STDERR records after the head as before', async () => {
    const { types, log } = await exchange(as('nginx/1.22.1', '/error-after'))
    expect(stderrAfterStdout(types)).toBe(true)
    expect(log).not.toMatch(/secret-detail-/)
  })
})
